//! An input's pictures and sound between the moment they arrive and the programme frame that
//! airs them: a jitter buffer that follows how the input delivers.
//!
//! IP senders deliver in bursts. ffmpeg passing a stream on (`-c copy`) holds video back until
//! an audio PES is full, so a 48 kHz stereo stream arrives as two or three pictures every 100 ms
//! and a 44.1 kHz mono one as eight or nine every 300 ms, although both carry 30 pictures a
//! second. The programme clock takes one picture per frame; a queue shorter than a burst drops
//! the burst's tail and then repeats the last picture until the next burst (measured: one aired
//! picture in five was a repeat at 100 ms bursts, and at 300 ms the input never counted as
//! present). So the queues hold up to half a second and let a burst play out at the programme
//! rate.
//!
//! Delay that the input's delivery does not need is cut (`StandingDelay`): what was always left
//! in hand after the programme took its frame, over the last `MEMORY_WINDOWS` windows, beyond a
//! small cushion. A late burst empties the queue once (a repeated picture, a moment of
//! silence), which adds that much delay, and the memory keeps it for as long as such lateness
//! may come again. A steady source therefore runs with one picture in hand, a bursty one with
//! what its bursts need, and an input whose clock runs fast loses a picture now and then, as a
//! broadcast frame synchroniser does.

use std::collections::VecDeque;

/// Programme frames of one window (2 s at 30 fps).
const WINDOW_FRAMES: u32 = 60;
/// Windows remembered: delay is cut only when it was not needed for all of them (16 s at
/// 30 fps), long enough to have seen a sender's late bursts more than once.
const MEMORY_WINDOWS: usize = 8;
/// Pictures kept in hand beyond the one being aired, so that a picture arriving a little late
/// is still in time.
const CUSHION: usize = 1;

/// How much of what a queue holds is standing delay, and how long what it holds waits.
#[derive(Debug, Default)]
struct StandingDelay {
    fewest_in_window: Option<usize>,
    /// What was left in hand, summed over this window's frames.
    left_in_window: usize,
    frames_in_window: u32,
    /// The fewest left in each of the last windows, oldest first.
    windows: VecDeque<usize>,
    /// The mean left in hand over the last whole window: by Little's law, how many frames a
    /// picture waited on average between arriving and going to air.
    mean_in_hand: f64,
}

impl StandingDelay {
    /// One programme frame took its share and left `left` in hand. Returns how much of it to
    /// cut: what was in hand after every frame of the whole memory, beyond `keep`.
    fn after_frame(&mut self, left: usize, keep: usize) -> usize {
        let fewest = self.fewest_in_window.map_or(left, |f| f.min(left));
        self.fewest_in_window = Some(fewest);
        self.left_in_window += left;
        self.frames_in_window += 1;
        if self.frames_in_window < WINDOW_FRAMES {
            return 0;
        }
        self.fewest_in_window = None;
        self.frames_in_window = 0;
        self.windows.push_back(fewest);
        if self.windows.len() > MEMORY_WINDOWS {
            self.windows.pop_front();
        }
        let standing = if self.windows.len() < MEMORY_WINDOWS {
            0
        } else {
            self.windows
                .iter()
                .min()
                .map_or(0, |f| f.saturating_sub(keep))
        };
        // After the cut every remembered window had that much less in hand, and so had this
        // window's last frame.
        for w in &mut self.windows {
            *w -= standing;
        }
        self.mean_in_hand = (self.left_in_window - standing) as f64 / f64::from(WINDOW_FRAMES);
        self.left_in_window = 0;
        standing
    }
}

#[derive(Debug)]
pub struct PictureQueue<T> {
    queued: VecDeque<T>,
    capacity: usize,
    standing: StandingDelay,
}

impl<T> PictureQueue<T> {
    /// A queue holding at most `capacity` pictures (at least two).
    pub fn new(capacity: usize) -> Self {
        PictureQueue {
            queued: VecDeque::new(),
            capacity: capacity.max(2),
            standing: StandingDelay::default(),
        }
    }

    /// A picture arrived. When the queue is full the oldest goes and is handed back: the input
    /// has run further ahead than the queue may hold.
    pub fn push(&mut self, picture: T) -> Option<T> {
        self.queued.push_back(picture);
        if self.queued.len() > self.capacity {
            self.queued.pop_front()
        } else {
            None
        }
    }

    /// One programme frame: the next picture, or `None` when the input has nothing new (the
    /// caller holds the last one). Standing delay is cut here, oldest pictures first.
    pub fn take(&mut self) -> Option<T> {
        let next = self.queued.pop_front();
        let cut = self.standing.after_frame(self.queued.len(), CUSHION);
        self.queued.drain(..cut.min(self.queued.len()));
        next
    }

    /// Off air, for a source that need not be played out: all but the newest picture go; the
    /// newest of those gone is handed back (the picture to hold should the queue run dry).
    pub fn keep_newest(&mut self) -> Option<T> {
        let excess = self.queued.len().saturating_sub(1);
        self.queued.drain(..excess).last()
    }

    /// The mean number of frames a picture waited here over the last whole window (2 s at
    /// 30 fps): the delay this input's playout adds, in programme frames.
    pub fn mean_wait_frames(&self) -> f64 {
        self.standing.mean_in_hand
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.queued.len()
    }

    pub fn clear(&mut self) {
        self.queued.clear();
        self.standing = StandingDelay::default();
    }
}

/// An input's audio: interleaved samples, taken a frame's worth at a time. It starts (and
/// starts again after running dry) only once `prime` is in hand beyond the frame, so that
/// delivery jitter does not become a click per frame. Standing delay beyond `prime` is cut as
/// the picture queue cuts its own, so that sound and picture keep a similar small delay.
#[derive(Debug)]
pub struct SoundQueue {
    samples: VecDeque<u8>,
    /// Bytes of one sample on every channel: cuts never split one.
    frame_bytes: usize,
    prime: usize,
    most: usize,
    primed: bool,
    standing: StandingDelay,
}

impl SoundQueue {
    /// `prime` and `most` in bytes; both are rounded down to whole samples.
    pub fn new(frame_bytes: usize, prime: usize, most: usize) -> Self {
        let frame_bytes = frame_bytes.max(1);
        let whole = |b: usize| b - b % frame_bytes;
        SoundQueue {
            samples: VecDeque::new(),
            frame_bytes,
            prime: whole(prime),
            most: whole(most.max(2 * prime)),
            primed: false,
            standing: StandingDelay::default(),
        }
    }

    /// Sound arrived. Beyond `most` in hand the input has run far ahead (or the programme
    /// stalled): the oldest half goes.
    pub fn push(&mut self, samples: &[u8]) {
        self.samples.extend(samples);
        if self.samples.len() > self.most {
            let excess = self.samples.len() - self.most / 2;
            self.samples.drain(..excess - excess % self.frame_bytes);
        }
    }

    /// Exactly `bytes` for one programme frame: silence until primed, and after running dry.
    pub fn take(&mut self, bytes: usize) -> Vec<u8> {
        if !self.primed && self.samples.len() >= bytes + self.prime {
            self.primed = true;
        }
        let out = if self.primed {
            let take = bytes.min(self.samples.len());
            let mut out: Vec<u8> = self.samples.drain(..take).collect();
            if take < bytes {
                self.primed = false;
                out.resize(bytes, 0);
            }
            out
        } else {
            vec![0; bytes]
        };
        // Waiting for the prime counts as nothing in hand: that wait is delay the input needed.
        let left = if self.primed { self.samples.len() } else { 0 };
        let cut = self.standing.after_frame(left, self.prime);
        let cut = cut - cut % self.frame_bytes;
        self.samples.drain(..cut.min(self.samples.len()));
        out
    }

    /// Off air, for a source that need not be played out: only the newest `bytes` stay,
    /// rounded up to whole samples.
    pub fn keep_newest(&mut self, bytes: usize) {
        let excess = self.samples.len().saturating_sub(bytes);
        self.samples.drain(..excess - excess % self.frame_bytes);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn clear(&mut self) {
        self.samples.clear();
        self.primed = false;
        self.standing = StandingDelay::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays `frames` programme frames of an input that delivers `burst` pictures every
    /// `every` frames; returns what was aired (picture numbers, `None` for a repeat).
    fn play(
        queue: &mut PictureQueue<u32>,
        burst: u32,
        every: u32,
        frames: u32,
    ) -> Vec<Option<u32>> {
        let mut next = 0;
        (0..frames)
            .map(|frame| {
                if frame % every == 0 {
                    for _ in 0..burst {
                        queue.push(next);
                        next += 1;
                    }
                }
                queue.take()
            })
            .collect()
    }

    #[test]
    fn a_burst_plays_out_at_the_programme_rate_without_a_drop_or_a_repeat() {
        // Eight pictures every eight frames: 30 a second, in 270 ms bursts.
        let mut q = PictureQueue::new(15);
        let aired = play(&mut q, 8, 8, 300);
        assert!(aired.iter().all(Option::is_some), "{aired:?}");
        let numbers: Vec<u32> = aired.into_iter().flatten().collect();
        assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
    }

    #[test]
    fn a_steady_input_runs_with_at_most_one_picture_in_hand() {
        let mut q = PictureQueue::new(15);
        // Something held the programme back for a moment: five pictures piled up.
        for i in 0..5 {
            q.push(i);
        }
        let aired = play(&mut q, 1, 1, 600);
        assert!(aired.iter().all(Option::is_some));
        assert!(q.len() <= CUSHION, "standing delay kept: {}", q.len());
    }

    #[test]
    fn a_bursty_input_keeps_what_its_bursts_need() {
        let mut q = PictureQueue::new(15);
        let aired = play(&mut q, 3, 3, 900);
        assert!(aired.iter().all(Option::is_some), "{aired:?}");
        let numbers: Vec<u32> = aired.into_iter().flatten().collect();
        // Nothing dropped by the trim: every picture aired in order.
        assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn off_air_only_the_newest_is_kept() {
        let mut q = PictureQueue::new(2);
        assert_eq!(q.keep_newest(), None);
        q.push(1);
        assert_eq!(q.keep_newest(), None, "one picture: nothing goes");
        assert_eq!(q.push(2), None);
        assert_eq!(q.push(3), Some(1), "a full queue hands back its oldest");
        assert_eq!(q.keep_newest(), Some(2));
        assert_eq!(q.take(), Some(3));

        // 48 kHz stereo S16: 4 bytes a sample; 100 samples in hand, 10 kept.
        let mut sound = SoundQueue::new(4, 40, 800);
        sound.push(&[1; 400]);
        sound.keep_newest(41);
        assert_eq!(
            sound.len(),
            44,
            "whole samples only: 41 bytes round up to 11 samples"
        );
    }

    #[test]
    fn the_reported_wait_is_what_the_pictures_waited() {
        let mut q = PictureQueue::new(15);
        assert_eq!(q.mean_wait_frames(), 0.0, "nothing measured yet");
        // A steady input: each picture aired in the frame it arrived.
        play(&mut q, 1, 1, 120);
        assert_eq!(q.mean_wait_frames(), 0.0);
        // Three pictures every three frames: after the frames of a burst 2, 1 and 0 wait.
        let mut q = PictureQueue::new(15);
        play(&mut q, 3, 3, 120);
        assert_eq!(q.mean_wait_frames(), 1.0);
        // Six every six frames: 5, 4 … 0 left, a mean of 2.5.
        let mut q = PictureQueue::new(15);
        play(&mut q, 6, 6, 120);
        assert_eq!(q.mean_wait_frames(), 2.5);
    }

    #[test]
    fn an_input_running_fast_loses_a_picture_now_and_then_and_the_delay_stays_bounded() {
        let mut q = PictureQueue::new(15);
        let mut next = 0u32;
        let mut most_queued = 0;
        // 101 pictures for every 100 programme frames: a clock 1 % fast, far worse than any
        // real one.
        for frame in 0..3000u32 {
            q.push(next);
            next += 1;
            if frame % 100 == 0 {
                q.push(next);
                next += 1;
            }
            most_queued = most_queued.max(q.len());
            assert!(q.take().is_some());
        }
        // Before the programme takes its own: the cushion, the arriving picture and the extra
        // ones of the memory (480 frames: five).
        assert!(most_queued <= 8, "delay grew to {most_queued} pictures");
    }

    #[test]
    fn a_late_burst_costs_a_repeat_once_and_its_lateness_is_kept_in_hand() {
        let mut q = PictureQueue::new(15);
        let mut next = 0u32;
        let mut waiting = 0;
        let mut repeats_at = Vec::new();
        for frame in 0..3000u32 {
            // Three pictures every three frames; every 50th burst comes two frames late.
            if frame % 3 == 0 {
                waiting += 3;
            }
            let late = (frame / 3) % 50 == 49 && frame % 3 < 2;
            if !late {
                for _ in 0..waiting {
                    q.push(next);
                    next += 1;
                }
                waiting = 0;
            }
            if q.take().is_none() {
                repeats_at.push(frame);
            }
        }
        assert!(
            repeats_at.iter().all(|&f| f < 200) && repeats_at.len() <= 2,
            "repeats at frames {repeats_at:?}"
        );
    }

    #[test]
    fn a_full_queue_hands_back_its_oldest_picture() {
        let mut q = PictureQueue::new(3);
        assert_eq!(q.push(1), None);
        assert_eq!(q.push(2), None);
        assert_eq!(q.push(3), None);
        assert_eq!(q.push(4), Some(1));
        assert_eq!(q.take(), Some(2));
    }

    #[test]
    fn an_empty_queue_has_nothing_new() {
        let mut q: PictureQueue<u32> = PictureQueue::new(4);
        assert_eq!(q.take(), None);
        q.push(7);
        q.clear();
        assert_eq!(q.take(), None);
    }

    /// 48 kHz stereo S16: 4 bytes a sample, 6400 bytes a 30 fps frame, 40 ms prime.
    fn sound() -> SoundQueue {
        SoundQueue::new(4, 7680, 192_000)
    }

    #[test]
    fn sound_in_bursts_plays_out_whole_once_primed() {
        let mut q = sound();
        let frame = 6400;
        let mut aired = Vec::new();
        let mut next: u8 = 1;
        for f in 0..300 {
            // A third of a second of sound every ten frames, as ffmpeg's large audio PES bring it.
            if f % 10 == 0 {
                let burst: Vec<u8> = (0..10 * frame)
                    .map(|i| next.wrapping_add((i / frame) as u8))
                    .collect();
                next = next.wrapping_add(10);
                q.push(&burst);
            }
            aired.push(q.take(frame));
        }
        let silent = aired.iter().filter(|f| f.iter().all(|&b| b == 0)).count();
        // Only the wait for the prime at the start: never again once running.
        assert!(silent <= 1, "{silent} silent frames");
    }

    #[test]
    fn sound_arriving_late_once_falls_silent_once_and_not_again() {
        let mut q = sound();
        let frame = 6400;
        let mut waiting = 0;
        let mut silent_at = Vec::new();
        for f in 0..3000u32 {
            if f % 10 == 0 {
                waiting += 10 * frame;
            }
            // Every 20th burst of a third of a second comes three frames late.
            let late = (f / 10) % 20 == 19 && f % 10 < 3;
            if !late && waiting > 0 {
                q.push(&vec![1; waiting]);
                waiting = 0;
            }
            if q.take(frame).contains(&0) {
                silent_at.push(f);
            }
        }
        assert!(
            silent_at.iter().all(|&f| f < 250),
            "silence at frames {silent_at:?}"
        );
    }

    #[test]
    fn standing_sound_is_cut_down_to_the_prime() {
        let mut q = sound();
        q.push(&vec![1; 64_000]);
        for _ in 0..WINDOW_FRAMES * MEMORY_WINDOWS as u32 {
            q.push(&[1; 6400]);
            q.take(6400);
        }
        assert_eq!(q.len(), 7680, "standing delay kept");
    }

    #[test]
    fn sound_runs_dry_then_waits_for_the_prime_again() {
        let mut q = sound();
        q.push(&[1; 6400 + 7680]);
        assert!(q.take(6400).iter().all(|&b| b == 1));
        assert!(q.take(6400).iter().all(|&b| b == 1));
        // 1280 bytes left: they play, then silence fills the frame.
        let dry = q.take(6400);
        assert!(dry[..1280].iter().all(|&b| b == 1) && dry[1280..].iter().all(|&b| b == 0));
        q.push(&[1; 6400]);
        assert!(q.take(6400).iter().all(|&b| b == 0), "not primed again yet");
        q.push(&[1; 7680]);
        assert!(q.take(6400).iter().all(|&b| b == 1), "primed again");
    }
}
