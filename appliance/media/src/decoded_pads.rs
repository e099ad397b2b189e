//! A network input's streams appear at run time, as decodebin finds them: which of its pads
//! feeds the channel's video and audio chains; the audio goes over a bed of silence.

use crate::lock;
use crate::meter::ChannelMeter;
use crate::sound_bed;
use crate::MediaError;
use feedline_config::Channel;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::{Arc, Mutex};
use tracing::{debug, info, warn};

/// What a pad decodebin just added carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoded {
    Video,
    Audio,
}

/// The kind of stream a pad decodebin just added carries (with its media type, for logs);
/// `None` for other streams (subtitles, data).
pub(crate) fn decoded_kind(pad: &gst::Pad) -> Option<(Decoded, String)> {
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let kind = caps
        .structure(0)
        .map(|s| s.name().to_string())
        .unwrap_or_default();
    if kind.starts_with("video/") {
        Some((Decoded::Video, kind))
    } else if kind.starts_with("audio/") {
        Some((Decoded::Audio, kind))
    } else {
        None
    }
}

/// Where a pad decodebin just added belongs: the video or the audio sink pad (with the media
/// type, for logs); `None` for other streams (subtitles, data).
pub(crate) fn decoded_target<'a>(
    pad: &gst::Pad,
    video: &'a gst::Pad,
    audio: &'a gst::Pad,
) -> Option<(&'a gst::Pad, String)> {
    decoded_kind(pad).map(|(decoded, kind)| match decoded {
        Decoded::Video => (video, kind),
        Decoded::Audio => (audio, kind),
    })
}

/// Links decodebin's raw pads as they appear: the first video pad to the video chain, the first
/// audio pad onto the sound bed (live silence), which feeds the audio chain from the start. A
/// stream without audio, or whose audio stops, goes out with silence: every output keeps its
/// audio PID and no muxer waits for sound that does not come.
pub(crate) fn connect(
    pipeline: &gst::Pipeline,
    decoder: &gst::Element,
    video_head: &gst::Element,
    audio_head: &gst::Element,
    channel: &Channel,
    meter: &Arc<ChannelMeter>,
) -> Result<(), MediaError> {
    let video_sink = video_head
        .static_pad("sink")
        .ok_or_else(|| MediaError::Link("video head".into()))?;
    let bin = pipeline.upcast_ref::<gst::Bin>();
    let mixer = sound_bed::lay(bin, channel, &channel.name, audio_head)?;
    sound_bed::start_with_first_picture(&mixer, &video_sink);
    meter.expect_input_sound();
    let weak = pipeline.downgrade();
    // Where the input's sound enters the mix, once it has had any. A program change (a new
    // codec, a sender restarted with other PIDs) gives new pads after the old ones are gone:
    // the new sound is linked to the same entry, the chain and the meter's watch stay.
    let sound_entry: Arc<Mutex<Option<gst::Pad>>> = Arc::default();
    let (vs, entry, meter) = (video_sink.clone(), sound_entry.clone(), meter.clone());
    let channel_for_pads = channel.clone();
    decoder.connect_pad_added(move |_, pad| {
        let name = &channel_for_pads.name;
        let Some((decoded, kind)) = decoded_kind(pad) else {
            return;
        };
        let target = match decoded {
            Decoded::Video => Some(vs.clone()),
            Decoded::Audio => lock(&entry).clone(),
        };
        match target {
            Some(target) if target.is_linked() => {
                debug!(channel = %name, %kind, "ignoring extra decoded stream");
            }
            Some(target) => {
                if let Err(e) = pad.link(&target) {
                    warn!(channel = %name, %kind, error = ?e, "cannot link decoded stream");
                }
            }
            None => {
                let Some(pipeline) = weak.upgrade() else {
                    return;
                };
                let bin = pipeline.upcast_ref::<gst::Bin>();
                match sound_bed::mix_in(bin, &channel_for_pads, name, &mixer, pad) {
                    Ok(sound) => {
                        meter.watch_input_sound(&sound);
                        *lock(&entry) = Some(sound);
                    }
                    Err(e) => {
                        warn!(channel = %name, %kind, error = %e, "cannot link decoded sound")
                    }
                }
            }
        }
    });
    let name = channel.name.clone();
    decoder.connect_no_more_pads(move |_| {
        if !video_sink.is_linked() {
            warn!(channel = %name, "input has no video stream");
        }
        if !lock(&sound_entry).as_ref().is_some_and(|p| p.is_linked()) {
            info!(channel = %name, "input has no audio; sending silence");
        }
    });
    Ok(())
}
