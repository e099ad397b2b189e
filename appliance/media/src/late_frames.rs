//! Where a live channel sheds the programme frames its ladder cannot encode in time.
//!
//! When the ladder cannot keep up, the frames it cannot take are dropped in one queue in front
//! of the ladder's tee, so that every rung loses the same frames (IDRs stay aligned) and the
//! renditions' meters count them as dropped. Without it the channel fell behind instead,
//! without bound and without a word: a live source blocked on its push stamps its frames ever
//! later, and videorate fills any gap by repeating pictures the encoders cannot afford either
//! (measured: 7 s late after 30 s at three quarters of real time on a 2-core machine; 20–135 s
//! late in the appliance image's emulated guest, whose slate reached the receiver 13 s after
//! the status said the picture was back).

use crate::spec::ElementSpec;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::debug;

/// Programme frames held before frames are shed: half a second at 30 fps, enough for a stall
/// of the encoders (the rungs' own queues hold only a few full-size pictures), and all the
/// delay a ladder that cannot keep up adds here. Counted in frames, not time: a queue's time
/// level follows the timestamps, and a network input's first frames jumped it past half a
/// second at once.
const HELD: u32 = 15;

pub fn name(prefix: &str) -> String {
    format!("{prefix}-late-frames")
}

/// The queue, not yet leaking: `watch` turns that on once the channel has started.
pub fn queue_spec(prefix: &str) -> ElementSpec {
    ElementSpec::new("queue", name(prefix))
        .prop("max-size-buffers", HELD)
        .prop("max-size-bytes", 0u32)
        .prop("max-size-time", 0u64)
}

/// Watches the programme's late-frames queue for the life of the pipeline: reports its level
/// to `backlog` as each frame leaves, and lets it shed frames once the channel has started.
///
/// A start (preroll, the input's pads linking, the bursts a network input buffered meanwhile)
/// stalls the ladder for a second or so, once; shedding then cut up to the first second of
/// picture of a UDP or SRT input (5 of 8 starts). So the queue leaks once it has run empty for
/// a second of programme (the start is caught up); or once it has stayed full for three
/// seconds of programme, which a one-off stall does not do but a ladder too heavy from its
/// first frame does (it ran late for 12 s, up to 2.5 s, before this rule); or after ten seconds
/// whatever happens.
pub fn watch(queue: &gst::Element, backlog: Arc<Backlog>) {
    let Some(pad) = queue.static_pad("src") else {
        return;
    };
    let queue = queue.downgrade();
    let start = StartWatch::default();
    let shedding = AtomicBool::new(false);
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        let Some(queue) = queue.upgrade() else {
            return gst::PadProbeReturn::Remove;
        };
        let level: u32 = queue.property("current-level-buffers");
        backlog.record(level);
        if !shedding.load(Ordering::Relaxed) && start.started(level) {
            shedding.store(true, Ordering::Relaxed);
            backlog.settled();
            queue.set_property_from_str("leaky", "downstream");
            let frames = start.passed.load(Ordering::Relaxed);
            debug!(queue = %queue.name(), frames, "shedding late frames from now on");
        }
        gst::PadProbeReturn::Ok
    });
}

/// Whether the queue counts as full as a frame leaves it at `level`: the upstream push
/// refills a full queue at once, so as a frame leaves it may read one or two short of full.
fn full(level: u32) -> bool {
    level + 2 >= HELD
}

/// Whether the queue is at least half full: a ladder that keeps up leaves it near empty.
fn filling(level: u32) -> bool {
    level * 2 >= HELD
}

/// The programme frames waiting in front of the ladder, as the late-frames queue last said,
/// and since when it has been full: a ladder that cannot keep up, before and while the channel
/// sheds frames. Kept across pipeline rebuilds (the channel's meter owns it).
pub struct Backlog {
    epoch: Instant,
    /// `NONE` until a late-frames queue reports (a file read flat out has none).
    level: AtomicU32,
    /// Nanoseconds since `epoch`; `NEVER` while not full.
    full_since_ns: AtomicU64,
    /// The same for at least half full, counted only once the start has settled.
    filling_since_ns: AtomicU64,
    /// The channel's start is over: the queue sheds what it cannot hold.
    settled: AtomicBool,
}

const NONE: u32 = u32::MAX;
const NEVER: u64 = u64::MAX;

/// What `Backlog` says now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogStatus {
    /// Frames waiting, at most `capacity`.
    pub frames: u32,
    pub capacity: u32,
    /// How long the queue has been full; `None` while it is not.
    pub full_for: Option<Duration>,
    /// How long it has been at least half full since the channel's start settled; `None` while
    /// it is not, and during the start (which fills it for about a second). Once settled, a
    /// full queue sheds at once, so a ladder that slowly falls behind shows here first.
    pub filling_for: Option<Duration>,
}

impl Default for Backlog {
    fn default() -> Self {
        Backlog {
            epoch: Instant::now(),
            level: AtomicU32::new(NONE),
            full_since_ns: AtomicU64::new(NEVER),
            filling_since_ns: AtomicU64::new(NEVER),
            settled: AtomicBool::new(false),
        }
    }
}

impl Backlog {
    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// A frame left the queue, which then held `level` frames.
    pub fn record(&self, level: u32) {
        self.record_at(level, self.now_ns());
    }

    fn record_at(&self, level: u32, now_ns: u64) {
        self.level.store(level, Ordering::Relaxed);
        let since = |at: &AtomicU64, on: bool| {
            if !on {
                at.store(NEVER, Ordering::Relaxed);
            } else if at.load(Ordering::Relaxed) == NEVER {
                at.store(now_ns, Ordering::Relaxed);
            }
        };
        since(&self.full_since_ns, full(level));
        since(
            &self.filling_since_ns,
            filling(level) && self.settled.load(Ordering::Relaxed),
        );
    }

    /// The channel's start is over (the queue now sheds).
    fn settled(&self) {
        self.settled.store(true, Ordering::Relaxed);
    }

    /// A new pipeline: nothing known until its queue reports.
    pub fn restarted(&self) {
        self.level.store(NONE, Ordering::Relaxed);
        self.full_since_ns.store(NEVER, Ordering::Relaxed);
        self.filling_since_ns.store(NEVER, Ordering::Relaxed);
        self.settled.store(false, Ordering::Relaxed);
    }

    pub fn status(&self) -> Option<BacklogStatus> {
        self.status_at(self.now_ns())
    }

    fn status_at(&self, now_ns: u64) -> Option<BacklogStatus> {
        let frames = self.level.load(Ordering::Relaxed);
        if frames == NONE {
            return None;
        }
        let held_for = |at: &AtomicU64| {
            let since = at.load(Ordering::Relaxed);
            (since != NEVER).then(|| Duration::from_nanos(now_ns.saturating_sub(since)))
        };
        Some(BacklogStatus {
            frames,
            capacity: HELD,
            full_for: held_for(&self.full_since_ns),
            filling_for: held_for(&self.filling_since_ns),
        })
    }
}

/// Whether a channel's start is over, from the late-frames queue's level as each frame leaves.
#[derive(Default)]
struct StartWatch {
    passed: AtomicU32,
    empty_for: AtomicU32,
    full_for: AtomicU32,
}

impl StartWatch {
    const CAUGHT_UP_FOR: u32 = 30;
    const BEHIND_FOR: u32 = 90;
    const IN_ANY_CASE_AFTER: u32 = 300;

    /// One frame left the queue, which then held `level` frames.
    fn started(&self, level: u32) -> bool {
        let run = |counter: &AtomicU32, on: bool| {
            if on {
                counter.fetch_add(1, Ordering::Relaxed) + 1
            } else {
                counter.store(0, Ordering::Relaxed);
                0
            }
        };
        let passed = self.passed.fetch_add(1, Ordering::Relaxed) + 1;
        let empty_for = run(&self.empty_for, level == 0);
        let full_for = run(&self.full_for, full(level));
        empty_for >= Self::CAUGHT_UP_FOR
            || full_for >= Self::BEHIND_FOR
            || passed >= Self::IN_ANY_CASE_AFTER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_is_over_once_caught_up_once_behind_for_3_s_or_after_10_s() {
        let caught_up = StartWatch::default();
        // A stall of a second (the queue full), then the ladder catches up.
        assert!((0..30).all(|_| !caught_up.started(HELD)));
        assert!((0..20).all(|_| !caught_up.started(HELD - 6)));
        assert!((0..29).all(|_| !caught_up.started(0)));
        assert!(caught_up.started(0));

        let behind = StartWatch::default();
        assert!((0..89).all(|_| !behind.started(HELD - 1)));
        assert!(behind.started(HELD));

        // Neither empty nor full for long: ten seconds in any case.
        let unsettled = StartWatch::default();
        let level = |i: u32| if i % 40 < 20 { HELD - 5 } else { 1 };
        assert!((0..299).all(|i| !unsettled.started(level(i))));
        assert!(unsettled.started(level(299)));
    }

    #[test]
    fn the_backlog_says_how_long_the_queue_has_been_full() {
        const S: u64 = 1_000_000_000;
        let backlog = Backlog::default();
        assert_eq!(backlog.status_at(0), None, "no queue has reported yet");
        backlog.record_at(1, 0);
        let calm = backlog.status_at(S).expect("reported");
        assert_eq!((calm.frames, calm.capacity, calm.full_for), (1, HELD, None));
        // Full from 2 s (reading one or two short as frames leave), for 3 s.
        backlog.record_at(HELD, 2 * S);
        backlog.record_at(HELD - 2, 3 * S);
        backlog.record_at(HELD - 1, 4 * S);
        let behind = backlog.status_at(5 * S).expect("reported");
        assert_eq!(behind.frames, HELD - 1);
        assert_eq!(behind.full_for, Some(Duration::from_secs(3)));
        // Drained: no longer full; a rebuilt pipeline knows nothing until its queue reports.
        backlog.record_at(HELD - 3, 6 * S);
        assert_eq!(backlog.status_at(7 * S).and_then(|b| b.full_for), None);
        backlog.restarted();
        assert_eq!(backlog.status_at(8 * S), None);
    }

    #[test]
    fn a_filling_backlog_counts_only_once_the_start_has_settled() {
        const S: u64 = 1_000_000_000;
        let backlog = Backlog::default();
        // The start's stall fills the queue: not "filling" yet.
        backlog.record_at(HELD, 0);
        assert_eq!(backlog.status_at(S).and_then(|b| b.filling_for), None);
        backlog.record_at(0, 2 * S);
        backlog.settled();
        // A ladder falling behind slowly: half full at 3 s, still rising at 4.5 s.
        backlog.record_at(HELD / 2, 3 * S);
        let not_yet = backlog.status_at(4 * S).expect("reported");
        assert_eq!(not_yet.filling_for, None, "7 of 15 is under half");
        backlog.record_at(HELD / 2 + 1, 4 * S);
        backlog.record_at(HELD - 3, 5 * S);
        let filling = backlog.status_at(6 * S).expect("reported");
        assert_eq!(filling.filling_for, Some(Duration::from_secs(2)));
        assert_eq!(filling.full_for, None);
        // Back under half: over; a rebuilt pipeline has a start of its own again.
        backlog.record_at(3, 7 * S);
        assert_eq!(backlog.status_at(8 * S).and_then(|b| b.filling_for), None);
        backlog.restarted();
        backlog.record_at(HELD, 9 * S);
        assert_eq!(backlog.status_at(10 * S).and_then(|b| b.filling_for), None);
    }

    #[test]
    fn half_a_second_of_frames_counted_in_frames_and_not_leaking_before_the_start() {
        let queue = queue_spec("ch");
        assert_eq!(queue.factory, "queue");
        assert_eq!(queue.name, "ch-late-frames");
        assert_eq!(queue.property("max-size-buffers"), Some("15"));
        assert_eq!(queue.property("max-size-time"), Some("0"));
        assert_eq!(queue.property("max-size-bytes"), Some("0"));
        assert_eq!(queue.property("leaky"), None);
    }
}
