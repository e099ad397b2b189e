//! Silence for a file input's sound: every output still carries its audio PID, and its sound
//! runs without a gap.
//!
//! A file input feeds the channel through two appsrcs; the muxers wait for both, so a
//! video-only file used to leave the channel running with nothing on the wire. Such a file's
//! silence follows its pictures (each picture's span, on the loop clock), so it loops with
//! the file and never runs ahead of or behind the picture. A file whose sound ends before its
//! pictures (an edited clip, a trimmed track) has its sound padded with silence to the end of
//! the pictures before each loop, so the receiver sees no audio gap there.

use gstreamer as gst;
use gstreamer_app as gst_app;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The silence for a file without sound: the programme's audio format.
const PROGRAMME_RATE: u64 = 48_000;
const PROGRAMME_CHANNELS: usize = 2;

/// Formats the file's decoded sound is converted to (interleaved) before it reaches the
/// channel: in each, all-zero bytes are silence.
pub const ZERO_IS_SILENCE: &str =
    "audio/x-raw,layout=interleaved,format={ F32LE, S16LE, S32LE, S24_32LE, F64LE }";

/// The sound's sample rate and size, read from its caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Format {
    rate: u64,
    bytes_per_frame: usize,
}

impl Format {
    fn programme() -> Format {
        Format {
            rate: PROGRAMME_RATE,
            bytes_per_frame: 2 * PROGRAMME_CHANNELS,
        }
    }

    fn of(caps: &gst::CapsRef) -> Option<Format> {
        let s = caps.structure(0)?;
        if s.get::<&str>("layout").ok()? != "interleaved" {
            return None;
        }
        let sample_bytes = match s.get::<&str>("format").ok()? {
            "S16LE" => 2,
            "F32LE" | "S32LE" | "S24_32LE" => 4,
            "F64LE" => 8,
            _ => return None,
        };
        let rate = u64::try_from(s.get::<i32>("rate").ok()?).ok()?;
        let channels = usize::try_from(s.get::<i32>("channels").ok()?).ok()?;
        (rate > 0 && channels > 0).then_some(Format {
            rate,
            bytes_per_frame: sample_bytes * channels,
        })
    }
}

/// Sound for a file input: silence for each picture when it has none, and the silence that
/// carries its sound to the end of its pictures.
pub struct SilenceFill {
    target: gst_app::AppSrc,
    /// The file has no audio stream: each picture brings its silence.
    follow_pictures: AtomicBool,
    /// This loop's sound has all been sent; the pictures carry it on with silence.
    sound_ended: AtomicBool,
    state: Mutex<FillState>,
}

#[derive(Default)]
struct FillState {
    /// The format sound goes to the channel in; `None` until known.
    format: Option<Format>,
    /// The next sample to send (counted from running time zero at `format`'s rate); `None`
    /// before any sound.
    next_sample: Option<u64>,
}

/// The sample at `time` (the one that starts at or after it), at `rate`: computed from the
/// time itself, never summed per frame, so a 29.97 fps file does not drift.
pub fn sample_at(time: gst::ClockTime, rate: u64) -> u64 {
    (u128::from(time.nseconds()) * u128::from(rate)).div_ceil(1_000_000_000) as u64
}

fn time_of(sample: u64, rate: u64) -> gst::ClockTime {
    gst::ClockTime::from_nseconds((u128::from(sample) * 1_000_000_000 / u128::from(rate)) as u64)
}

impl SilenceFill {
    pub fn new(target: gst_app::AppSrc) -> SilenceFill {
        SilenceFill {
            target,
            follow_pictures: AtomicBool::new(false),
            sound_ended: AtomicBool::new(false),
            state: Mutex::new(FillState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FillState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The file has no audio stream: from now on each picture brings its silence, in the
    /// programme's format.
    pub fn start(&self) {
        let caps = gst::Caps::builder("audio/x-raw")
            .field("format", "S16LE")
            .field("layout", "interleaved")
            .field("rate", PROGRAMME_RATE as i32)
            .field("channels", PROGRAMME_CHANNELS as i32)
            .field("channel-mask", gst::Bitmask::new(0x3))
            .build();
        self.target.set_caps(Some(&caps));
        self.state().format = Some(Format::programme());
        self.follow_pictures.store(true, Ordering::SeqCst);
    }

    /// A picture spanning `[start, end)` went to the channel: for a file without sound, send
    /// the silence up to `end`.
    pub fn cover(&self, start: gst::ClockTime, end: gst::ClockTime) -> Result<(), gst::FlowError> {
        if !self.follow_pictures.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.push(self.span(Some(start), end))
    }

    /// The file's own sound, in `caps`, went to the channel up to `end`.
    pub fn sound_sent(&self, caps: Option<&gst::CapsRef>, end: gst::ClockTime) {
        let mut state = self.state();
        if state.format.is_none() {
            state.format = caps.and_then(Format::of);
        }
        if let Some(format) = state.format {
            let at = sample_at(end, format.rate);
            state.next_sample = Some(state.next_sample.map_or(at, |n| n.max(at)));
        }
    }

    /// Whether this loop's sound has all been sent.
    pub fn sound_ended(&self) -> bool {
        self.sound_ended.load(Ordering::SeqCst)
    }

    pub fn set_sound_ended(&self, ended: bool) {
        self.sound_ended.store(ended, Ordering::SeqCst);
    }

    /// The sound is carried to `end` (a picture's end after the sound ended, or the loop's end)
    /// with silence. Nothing before any sound was sent.
    pub fn pad_to(&self, end: gst::ClockTime) -> Result<(), gst::FlowError> {
        if self.follow_pictures.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.push(self.span(None, end))
    }

    fn push(&self, buffer: Option<gst::Buffer>) -> Result<(), gst::FlowError> {
        match buffer {
            Some(buffer) => self.target.push_buffer(buffer).map(|_| ()),
            None => Ok(()),
        }
    }

    /// The silent buffer from where the sound last ended (else `start`) to `end`; `None` when
    /// that is under one sample, or nothing is known to start from.
    fn span(&self, start: Option<gst::ClockTime>, end: gst::ClockTime) -> Option<gst::Buffer> {
        let mut state = self.state();
        let format = state.format?;
        let first = state
            .next_sample
            .or_else(|| start.map(|s| sample_at(s, format.rate)))?;
        let last = sample_at(end, format.rate);
        if last <= first {
            return None;
        }
        state.next_sample = Some(last);
        let samples = (last - first) as usize;
        let mut buffer = gst::Buffer::from_mut_slice(vec![0u8; samples * format.bytes_per_frame]);
        {
            let b = buffer.get_mut()?;
            b.set_pts(time_of(first, format.rate));
            b.set_duration(time_of(last, format.rate) - time_of(first, format.rate));
        }
        Some(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gstreamer::prelude::*;

    const BYTES_PER_SAMPLE: usize = 4;

    fn fill() -> SilenceFill {
        gst::init().expect("gst");
        let src = gst::ElementFactory::make("appsrc")
            .build()
            .expect("appsrc")
            .downcast::<gst_app::AppSrc>()
            .expect("appsrc");
        SilenceFill::new(src)
    }

    fn ms(n: u64) -> gst::ClockTime {
        gst::ClockTime::from_mseconds(n)
    }

    /// 30 000 pictures at 30000/1001 fps: the silence is exactly as long as the pictures, each
    /// buffer starting where the last ended.
    #[test]
    fn silence_follows_ntsc_pictures_without_drift() {
        let fill = fill();
        fill.state().format = Some(Format::programme());
        let frame = |n: u64| gst::ClockTime::from_nseconds(n * 1_001_000_000_000 / 30_000);
        let mut samples = 0u64;
        let mut expected_pts = gst::ClockTime::ZERO;
        for n in 0..30_000 {
            let buffer = fill
                .span(Some(frame(n)), frame(n + 1))
                .expect("a picture's silence");
            assert_eq!(buffer.pts(), Some(expected_pts), "picture {n}");
            expected_pts = buffer.pts().expect("pts") + buffer.duration().expect("duration");
            let map = buffer.map_readable().expect("map");
            assert!(map.iter().all(|b| *b == 0), "not silent");
            samples += (map.len() / BYTES_PER_SAMPLE) as u64;
        }
        // 30 000 frames of 1001/30000 s = 1001 s.
        assert_eq!(samples, 1001 * PROGRAMME_RATE);
        // Each buffer is 1601 or 1602 samples (1601.6 on average).
        let one = fill
            .span(Some(frame(30_000)), frame(30_001))
            .expect("one more");
        let size = one.size() / BYTES_PER_SAMPLE;
        assert!((1601..=1602).contains(&size), "{size}");
    }

    /// The first picture may start late (a file's first PTS is not zero on the loop clock after
    /// re-basing): the silence starts with it, not at zero.
    #[test]
    fn silence_starts_with_the_first_picture() {
        let fill = fill();
        fill.state().format = Some(Format::programme());
        let buffer = fill.span(Some(ms(500)), ms(540)).expect("silence");
        assert_eq!(buffer.pts(), Some(ms(500)));
        assert_eq!(buffer.size() / BYTES_PER_SAMPLE, 1920);
        // A picture that ends before the silence already sent (a repeated timestamp) adds none.
        assert!(fill.span(Some(ms(500)), ms(520)).is_none());
    }

    #[test]
    fn nothing_is_sent_until_the_file_is_known_to_have_no_audio() {
        let fill = fill();
        fill.cover(gst::ClockTime::ZERO, ms(40)).expect("no-op");
        assert!(fill.state().next_sample.is_none());
    }

    /// Sound (F32 5.1 at 44.1 kHz, as decoded) that ends at 1.0 s in a loop whose pictures end
    /// at 3.0 s is padded with 2 s of silence in its own format, from where it ended.
    #[test]
    fn a_short_sound_is_padded_to_the_pictures_end_in_its_own_format() {
        let fill = fill();
        let caps = gst::Caps::builder("audio/x-raw")
            .field("format", "F32LE")
            .field("layout", "interleaved")
            .field("rate", 44_100i32)
            .field("channels", 6i32)
            .build();
        // Nothing sent yet: nothing to pad from.
        assert!(fill.span(None, ms(3000)).is_none());
        fill.sound_sent(Some(&caps), ms(500));
        fill.sound_sent(Some(&caps), ms(1000));
        let pad = fill.span(None, ms(3000)).expect("padding");
        assert_eq!(pad.pts(), Some(ms(1000)));
        assert_eq!(pad.duration(), Some(ms(2000)));
        assert_eq!(pad.size(), 88_200 * 6 * 4);
        // Sound as long as the pictures: nothing to pad.
        fill.sound_sent(Some(&caps), ms(5000));
        assert!(fill.span(None, ms(5000)).is_none());
    }

    #[test]
    fn formats_whose_zero_is_not_silence_or_planar_are_not_padded() {
        let caps = |format: &str, layout: &str| {
            gst::init().expect("gst");
            gst::Caps::builder("audio/x-raw")
                .field("format", format)
                .field("layout", layout)
                .field("rate", 48_000i32)
                .field("channels", 2i32)
                .build()
        };
        assert_eq!(
            Format::of(&caps("S16LE", "interleaved")),
            Some(Format::programme())
        );
        assert_eq!(Format::of(&caps("U8", "interleaved")), None);
        assert_eq!(Format::of(&caps("F32LE", "non-interleaved")), None);
    }
}
