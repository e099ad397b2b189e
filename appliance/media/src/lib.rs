//! Everything GStreamer: inputs, timecode, ladder, encoder backends, muxing and outputs.
//!
//! The rest of Feedline talks to this crate through `ChannelRunner` (start/stop/status/set_outputs) and
//! `probe()`; no GStreamer type crosses its boundary.

mod bus;
mod capture_delay;
mod channel;
pub mod confidence;
mod decoded_pads;
pub mod encode_latency;
pub mod encoder;
mod error;
mod file_hold;
mod file_silence;
mod file_source;
pub mod frame_sync;
pub mod graph;
pub mod h264_timecode;
pub mod hevc_timecode;
pub mod input;
pub mod ladder;
pub mod late_frames;
mod link_stats;
pub mod meter;
mod mux_branch;
mod nal_bits;
pub mod nvidia;
mod output;
mod output_set;
pub mod probe;
mod program_change;
mod retry;
pub mod rist;
mod running_time;
mod sound_bed;
pub mod spec;
mod srt_group_output;
pub mod status;
mod timecode_sei;
pub mod transport;
pub mod video_decoder;

pub use channel::ChannelRunner;
pub use confidence::{AudioLevel, Thumbnail};
pub use error::MediaError;
pub use output_set::OutputChanges;
pub use status::{
    ChannelState, ChannelStatus, FailoverInput, FailoverStatus, InputStatus, OutputState,
    OutputStatus, RenditionStatus, SrtLinkStats, SwitchRecord,
};

/// A mutex's guard even after a panic on another thread held it: the state behind these locks
/// (meters, names, pads) stays usable, and a streaming thread must not panic in turn.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Initialises GStreamer once per process, and registers our own elements.
pub fn init() -> Result<(), MediaError> {
    gstreamer::init().map_err(|e| MediaError::Init(e.to_string()))?;
    feedline_swscale::register().map_err(|e| MediaError::Init(e.to_string()))
}
