//! A network input's streams appear at run time, as decodebin finds them: which of its pads
//! feeds the channel's video and audio chains, and silence for a stream without audio.

use crate::input;
use crate::spec::build_chain;
use crate::MediaError;
use feedline_config::Channel;
use gstreamer as gst;
use gstreamer::prelude::*;
use tracing::{debug, info, warn};

/// Where a pad decodebin just added belongs: the video or the audio sink pad (with the media
/// type, for logs); `None` for other streams (subtitles, data).
pub(crate) fn decoded_target<'a>(
    pad: &gst::Pad,
    video: &'a gst::Pad,
    audio: &'a gst::Pad,
) -> Option<(&'a gst::Pad, String)> {
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let kind = caps
        .structure(0)
        .map(|s| s.name().to_string())
        .unwrap_or_default();
    if kind.starts_with("video/") {
        Some((video, kind))
    } else if kind.starts_with("audio/") {
        Some((audio, kind))
    } else {
        None
    }
}

/// Links decodebin's raw pads as they appear: the first video pad to the video chain, the first
/// audio pad to the audio chain. A stream without audio gets silence, so every output keeps an
/// audio PID.
pub(crate) fn connect(
    pipeline: &gst::Pipeline,
    decoder: &gst::Element,
    video_head: &gst::Element,
    audio_head: &gst::Element,
    channel: &Channel,
) -> Result<(), MediaError> {
    let video_sink = video_head
        .static_pad("sink")
        .ok_or_else(|| MediaError::Link("video head".into()))?;
    let audio_sink = audio_head
        .static_pad("sink")
        .ok_or_else(|| MediaError::Link("audio head".into()))?;
    let name = channel.name.clone();
    let (vs, as_) = (video_sink.clone(), audio_sink.clone());
    decoder.connect_pad_added(move |_, pad| {
        let Some((target, kind)) = decoded_target(pad, &vs, &as_) else {
            return;
        };
        if target.is_linked() {
            debug!(channel = %name, %kind, "ignoring extra decoded stream");
            return;
        }
        if let Err(e) = pad.link(target) {
            warn!(channel = %name, %kind, error = ?e, "cannot link decoded stream");
        }
    });
    let weak = pipeline.downgrade();
    let name = channel.name.clone();
    decoder.connect_no_more_pads(move |_| {
        let Some(pipeline) = weak.upgrade() else {
            return;
        };
        if !video_sink.is_linked() {
            warn!(channel = %name, "input has no video stream");
        }
        if !audio_sink.is_linked() {
            info!(channel = %name, "input has no audio; sending silence");
            let bin = pipeline.upcast_ref::<gst::Bin>();
            let silence = build_chain(bin, &input::silence(&name)).and_then(|elements| {
                let src = elements
                    .last()
                    .cloned()
                    .ok_or_else(|| MediaError::Link("empty silence chain".into()))?;
                let src_pad = src
                    .static_pad("src")
                    .ok_or_else(|| MediaError::Link("silence has no src pad".into()))?;
                src_pad
                    .link(&audio_sink)
                    .map_err(|e| MediaError::Link(format!("silence ! audio: {e:?}")))?;
                src.sync_state_with_parent()
                    .map_err(|e| MediaError::Link(format!("silence: {e}")))
            });
            if let Err(e) = silence {
                warn!(channel = %name, error = %e, "cannot add silence for an input without audio");
            }
        }
    });
    Ok(())
}
