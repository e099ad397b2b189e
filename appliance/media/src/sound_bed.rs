//! A network input's sound over a bed of live silence. The channel's sound is a mix of the two:
//! while the input sends sound it is the input's (a sum with zeros changes no sample); when the
//! sender's sound stops, or it never had any, the silence carries the audio PID on time.
//!
//! Without it, every output's muxer waits for audio that does not come: GStreamer 1.22's
//! `mpegtsmux` never times out a silent pad (it reckons the deadline from its video's 1000 h
//! encoder timestamps), and the whole channel stops putting out TS.

use crate::spec::{build_chain, ElementSpec};
use crate::MediaError;
use feedline_config::Channel;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The mix's format: the channel's rate and layout, as floats (mixing integers can clip).
fn bed_caps(channel: &Channel) -> String {
    format!(
        "audio/x-raw,format=F32LE,layout=interleaved,rate={},channels={}",
        channel.audio.sample_rate, channel.audio.channels
    )
}

/// The live silence and the mixer, the mixer's output linked to `audio_head`.
pub fn silence_and_mixer(channel: &Channel, prefix: &str) -> Vec<ElementSpec> {
    vec![
        ElementSpec::new("audiotestsrc", format!("{prefix}-silence"))
            .prop("wave", "silence")
            .prop("is-live", true),
        ElementSpec::caps(format!("{prefix}-silence-caps"), bed_caps(channel)),
        ElementSpec::new("audiomixer", format!("{prefix}-sound-bed")),
    ]
}

/// What brings the input's decoded sound, whatever its format, to the mix's.
pub fn input_sound_chain(channel: &Channel, prefix: &str) -> Vec<ElementSpec> {
    vec![
        ElementSpec::new("audioconvert", format!("{prefix}-input-sound-convert")),
        ElementSpec::new("audioresample", format!("{prefix}-input-sound-resample")),
        ElementSpec::caps(format!("{prefix}-input-sound-caps"), bed_caps(channel)),
    ]
}

/// Builds the bed in `bin` and links it to `audio_head`; returns the mixer.
pub fn lay(
    bin: &gst::Bin,
    channel: &Channel,
    prefix: &str,
    audio_head: &gst::Element,
) -> Result<gst::Element, MediaError> {
    let bed = build_chain(bin, &silence_and_mixer(channel, prefix))?;
    let mixer = bed
        .last()
        .cloned()
        .ok_or_else(|| MediaError::Link("empty sound bed".into()))?;
    mixer
        .link(audio_head)
        .map_err(|e| MediaError::Link(format!("sound bed ! audio: {e}")))?;
    Ok(mixer)
}

/// Holds the bed back until the input's first picture: the silence runs from the channel's
/// start, the pictures from the sender's, and what went out before them would be seconds of
/// sound without picture at the head of every output. Sound that ends before the first
/// picture's running time is dropped; from then on everything passes.
pub fn start_with_first_picture(mixer: &gst::Element, video_entry: &gst::Pad) {
    const NOT_YET: u64 = u64::MAX;
    let first_picture = Arc::new(AtomicU64::new(NOT_YET));
    let seen = first_picture.clone();
    video_entry.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        match info
            .buffer()
            .and_then(|b| crate::running_time::on_pad(pad, b.pts()))
        {
            Some(at) => {
                seen.store(at.nseconds(), Ordering::Relaxed);
                gst::PadProbeReturn::Remove
            }
            None => gst::PadProbeReturn::Ok,
        }
    });
    let Some(src) = mixer.static_pad("src") else {
        return;
    };
    src.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let first = first_picture.load(Ordering::Relaxed);
        let Some(buffer) = info.buffer() else {
            return gst::PadProbeReturn::Ok;
        };
        let end = crate::running_time::on_pad(pad, buffer.pts())
            .map(|start| start + buffer.duration().unwrap_or(gst::ClockTime::ZERO));
        match end {
            Some(end) if first != NOT_YET && end.nseconds() > first => gst::PadProbeReturn::Remove,
            _ => gst::PadProbeReturn::Drop,
        }
    });
}

/// Mixes the input's decoded sound `pad` onto the bed, on a playing pipeline. Returns the pad
/// the input's sound enters the channel by, for the meter.
pub fn mix_in(
    bin: &gst::Bin,
    channel: &Channel,
    prefix: &str,
    mixer: &gst::Element,
    pad: &gst::Pad,
) -> Result<gst::Pad, MediaError> {
    let chain = build_chain(bin, &input_sound_chain(channel, prefix))?;
    let (Some(first), Some(last)) = (chain.first(), chain.last()) else {
        return Err(MediaError::Link("empty input sound chain".into()));
    };
    let mixer_pad = mixer
        .request_pad_simple("sink_%u")
        .ok_or_else(|| MediaError::Link("sound bed: no sink pad".into()))?;
    let src = last
        .static_pad("src")
        .ok_or_else(|| MediaError::Link("input sound: no src pad".into()))?;
    src.link(&mixer_pad)
        .map_err(|e| MediaError::Link(format!("input sound ! sound bed: {e:?}")))?;
    for element in &chain {
        element
            .sync_state_with_parent()
            .map_err(|e| MediaError::Link(format!("{}: {e}", element.name())))?;
    }
    let entry = first
        .static_pad("sink")
        .ok_or_else(|| MediaError::Link("input sound: no sink pad".into()))?;
    pad.link(&entry)
        .map_err(|e| MediaError::Link(format!("decoded sound ! input sound: {e:?}")))?;
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_config::Config;

    #[test]
    fn the_bed_is_live_silence_in_the_channels_format_mixed_with_the_input() {
        let channel = &Config::default().channels[0];
        let bed = silence_and_mixer(channel, "ch");
        let source = &bed[0];
        assert_eq!(source.factory, "audiotestsrc");
        assert_eq!(source.property("wave"), Some("silence"));
        assert_eq!(source.property("is-live"), Some("true"));
        assert_eq!(bed[2].factory, "audiomixer");
        let caps = bed_caps(channel);
        assert!(
            caps.contains("rate=48000") && caps.contains("channels=2"),
            "{caps}"
        );
        // The input's sound is brought to the very same format before the mix.
        let input = input_sound_chain(channel, "ch");
        assert_eq!(
            input.iter().map(|e| e.factory).collect::<Vec<_>>(),
            ["audioconvert", "audioresample", "capsfilter"]
        );
    }

    /// A real mix: 5.1 sound at 44.1 kHz ends after 0.23 s; all of it is heard, then the bed
    /// carries on with silence in the channel's format, on time, with no gap.
    #[test]
    fn when_the_input_sound_ends_the_silence_carries_on() {
        crate::init().expect("gstreamer");
        let channel = &Config::default().channels[0];
        let pipeline = gst::Pipeline::new();
        let bin = pipeline.upcast_ref::<gst::Bin>();
        let sink = gst::ElementFactory::make("appsink")
            .property("sync", false)
            .build()
            .expect("appsink");
        bin.add(&sink).expect("add");
        let mixer = lay(bin, channel, "t", &sink).expect("bed");
        let input = build_chain(
            bin,
            &[
                ElementSpec::new("audiotestsrc", "tone")
                    .prop("is-live", true)
                    .prop("num-buffers", 10),
                ElementSpec::caps("tone-caps", "audio/x-raw,rate=44100,channels=6"),
            ],
        )
        .expect("tone");
        let tone_pad = input[1].static_pad("src").expect("src");
        mix_in(bin, channel, "t", &mixer, &tone_pad).expect("mix in");
        pipeline.set_state(gst::State::Playing).expect("play");
        let appsink = sink.downcast::<gstreamer_app::AppSink>().expect("appsink");
        let mut end = gst::ClockTime::ZERO;
        let mut sounding_until = gst::ClockTime::ZERO;
        let mut caps = None;
        while end < gst::ClockTime::from_mseconds(800) {
            let sample = appsink
                .try_pull_sample(gst::ClockTime::from_seconds(2))
                .expect("the bed never stops");
            caps = sample.caps().map(|c| c.to_string());
            let buffer = sample.buffer().expect("buffer");
            let pts = buffer.pts().expect("pts");
            assert!(
                pts <= end + gst::ClockTime::from_mseconds(1),
                "gap at {pts}"
            );
            end = pts + buffer.duration().expect("duration");
            let map = buffer.map_readable().expect("map");
            if map.chunks_exact(4).any(|s| s != [0, 0, 0, 0]) {
                sounding_until = end;
            }
        }
        pipeline.set_state(gst::State::Null).expect("stop");
        // The tone's 10 × 1024 samples at 44.1 kHz (232 ms) went through the mix whole.
        assert!(
            (220..=280).contains(&sounding_until.mseconds()),
            "tone until {sounding_until}"
        );
        let caps = caps.expect("caps");
        assert!(
            caps.contains("rate=(int)48000") && caps.contains("channels=(int)2"),
            "{caps}"
        );
    }
}
