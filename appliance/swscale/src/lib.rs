//! The ladder's picture scaler: FFmpeg's libswscale wrapped as the GStreamer element
//! `feedlineswscale`.
//!
//! Why not GStreamer's `videoscale`: on the benchmark ladder (1080p → 720p → 540p → 360p, 20 s
//! of 1080p30) its cascade cost 4.4–4.7 CPU-seconds where libswscale's costs 1.6–2.0 for the
//! same quality, and that difference was the whole of our CPU over ffmpeg's (issue #2).

mod element;
mod ffi;

pub use element::{Method, SwScale};
pub use ffi::{Kernel, PictureSize, Planes, ScaleError, Scaler};

use gst::prelude::*;
use gstreamer as gst;

/// The factory name pipelines use.
pub const ELEMENT: &str = "feedlineswscale";

/// Makes `feedlineswscale` available to `ElementFactory::make` in this process. Call after
/// `gst::init`; calling again is harmless.
pub fn register() -> Result<(), gst::glib::BoolError> {
    gst::Element::register(None, ELEMENT, gst::Rank::NONE, SwScale::static_type())
}
