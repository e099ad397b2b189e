//! Reading errors off a pipeline bus the same way everywhere: the error, then GStreamer's detail
//! (which names the file, the host or the device an operator has to fix).

use gstreamer as gst;

pub fn error_text(err: &gst::message::Error) -> String {
    match err.debug() {
        Some(debug) => format!("{} ({})", err.error(), debug.trim()),
        None => err.error().to_string(),
    }
}

/// An error already posted on `bus` (e.g. by a failed state change): its source and text.
pub fn pop_error(bus: &gst::Bus) -> Option<(Option<gst::Object>, String)> {
    let msg = bus.timed_pop_filtered(
        gst::ClockTime::from_mseconds(100),
        &[gst::MessageType::Error],
    )?;
    match msg.view() {
        gst::MessageView::Error(err) => Some((msg.src().cloned(), error_text(err))),
        _ => None,
    }
}
