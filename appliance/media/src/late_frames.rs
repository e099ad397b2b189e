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

/// The queue, not yet leaking: `shed_once_started` turns that on.
pub fn queue_spec(prefix: &str) -> ElementSpec {
    ElementSpec::new("queue", name(prefix))
        .prop("max-size-buffers", HELD)
        .prop("max-size-bytes", 0u32)
        .prop("max-size-time", 0u64)
}

/// Lets the programme's late-frames queue shed frames once the channel has started. A start
/// (preroll, the input's pads linking, the bursts a network input buffered meanwhile) stalls
/// the ladder for a second or so, once; shedding then cut up to the first second of picture of
/// a UDP or SRT input (5 of 8 starts). So the queue leaks once it has run empty for a second of
/// programme (the start is caught up), or after ten seconds whatever happens (a ladder too
/// heavy from the first frame).
pub fn shed_once_started(queue: &gst::Element) {
    use std::sync::atomic::{AtomicU32, Ordering};
    const CAUGHT_UP_FOR: u32 = 30;
    const IN_ANY_CASE_AFTER: u32 = 300;
    let Some(pad) = queue.static_pad("src") else {
        return;
    };
    let queue = queue.downgrade();
    let (passed, empty_for) = (AtomicU32::new(0), AtomicU32::new(0));
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        let Some(queue) = queue.upgrade() else {
            return gst::PadProbeReturn::Remove;
        };
        let passed = passed.fetch_add(1, Ordering::Relaxed) + 1;
        let level: u32 = queue.property("current-level-buffers");
        let empty_for = if level == 0 {
            empty_for.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            empty_for.store(0, Ordering::Relaxed);
            0
        };
        if empty_for >= CAUGHT_UP_FOR || passed >= IN_ANY_CASE_AFTER {
            queue.set_property_from_str("leaky", "downstream");
            debug!(queue = %queue.name(), frames = passed, "shedding late frames from now on");
            return gst::PadProbeReturn::Remove;
        }
        gst::PadProbeReturn::Ok
    });
}

#[cfg(test)]
mod tests {
    use super::*;

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
