//! Where a pad probe's buffer sits on the pipeline's clock: its presentation time through the
//! pad's current segment. Elements shift their timestamps (x264enc by 1000 h, a demuxer's new
//! segment from 0); running time is what stays comparable across them.

use gstreamer as gst;
use gstreamer::prelude::*;

/// The running time of `pts` on `pad`; `None` without a time segment or a timestamp, or
/// outside the segment.
pub fn on_pad(pad: &gst::Pad, pts: Option<gst::ClockTime>) -> Option<gst::ClockTime> {
    pad.sticky_event::<gst::event::Segment>(0)?
        .segment()
        .downcast_ref::<gst::ClockTime>()?
        .to_running_time(pts?)
}
