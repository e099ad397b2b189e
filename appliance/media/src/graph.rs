//! Builds one channel's media graph:
//! input → normalise (rate, format) → timecode → tee → per-rung scale/encode/parse → tee →
//! per-output mux branch (MPEG-TS mux → appsink, handed to the output's isolated transport).

use crate::encoder::choose_backend;
use crate::file_source::FileSource;
use crate::frame_sync::{self, FrameSync};
use crate::input::{self, InputPlan};
use crate::ladder;
use crate::late_frames;
use crate::meter::ChannelMeter;
use crate::mux_branch::{MuxBranch, Taps};
use crate::output_set::OutputEntry;
use crate::spec::{build_chain, to_launch_line, ElementSpec};
use crate::MediaError;
use feedline_config::{Channel, Input, TimecodeSource};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use tracing::{debug, info};

pub struct ChannelGraph {
    pub pipeline: gst::Pipeline,
    /// The file reader feeding a file input; stopped when the graph is dropped.
    pub file_source: Option<FileSource>,
    /// The frame synchroniser of a failover channel (its inputs run in their own pipelines);
    /// stopped when the graph is dropped.
    pub frame_sync: Option<FrameSync>,
    /// The elements built for the input (decodebin's children are their descendants): an error
    /// from one of them is the input's fault, and is reported naming the input.
    pub input_elements: Vec<gst::Element>,
    /// One tee per rung, carrying that rendition's encoded video to the outputs' muxers.
    pub rendition_tees: Vec<gst::Element>,
    pub audio_tee: gst::Element,
    /// Each output's mux branch, by output name.
    pub branches: Vec<(String, MuxBranch)>,
}

/// The elements between the input and the video tee. A live channel (`sheds_late_frames`)
/// drops the programme frames its encoders cannot take in time, rather than falling behind.
pub fn video_normalise(
    channel: &Channel,
    prefix: &str,
    live_pace: bool,
    sheds_late_frames: bool,
) -> Vec<ElementSpec> {
    let rate = channel.channel_frame_rate();
    let mut chain = Vec::new();
    if live_pace {
        chain.push(ElementSpec::new(
            "clocksync",
            format!("{prefix}-video-pace"),
        ));
    }
    // The inputs of a failover channel (or a capture channel's implicit one) are deinterlaced
    // and timed in their own pipelines.
    let own_timing = !matches!(channel.input, Input::TestPattern { .. })
        && channel.effective_failover().is_none();
    if own_timing {
        // Interlaced sources (1080i SDI, broadcast TS) are made progressive; a progressive
        // source passes through untouched.
        chain.push(ElementSpec::new(
            "deinterlace",
            format!("{prefix}-deinterlace"),
        ));
    }
    chain.push(ElementSpec::new(
        "videoconvert",
        format!("{prefix}-convert"),
    ));
    let mut rate_converter = ElementSpec::new("videorate", format!("{prefix}-rate"));
    if own_timing {
        // It starts with the input's first picture, and fills a program change's gap from the
        // last picture (`program_change`).
        rate_converter = rate_converter.prop("skip-to-first", true);
    }
    chain.push(rate_converter);
    chain.push(ElementSpec::caps(
        format!("{prefix}-video-caps"),
        format!(
            "video/x-raw,format=I420,framerate={}/{}",
            rate.num, rate.den
        ),
    ));
    if sheds_late_frames {
        // After rate conversion (videorate would fill a gap with repeats the encoders cannot
        // afford either), before the timecode burn-in (nothing spent on a frame that is shed)
        // and the ladder's tee (every rung loses the same frames).
        chain.push(late_frames::queue_spec(prefix));
    }
    chain.push(timecode_stamper(channel, prefix));
    if InputPlan::burns_timecode(&channel.input) {
        let height = match channel.input {
            Input::TestPattern { height, .. } => height,
            _ => 1080,
        };
        chain.push(
            ElementSpec::new("timeoverlay", format!("{prefix}-burn-in"))
                .prop("time-mode", "time-code")
                .prop("halignment", "center")
                .prop("valignment", "bottom")
                .prop("font-desc", format!("Sans Bold {}", (height / 24).max(8)))
                .prop("shaded-background", true),
        );
    }
    chain.push(
        ElementSpec::new("tee", format!("{prefix}-video-tee")).prop("allow-not-linked", true),
    );
    chain
}

pub fn timecode_stamper(channel: &Channel, prefix: &str) -> ElementSpec {
    ElementSpec::new("timecodestamper", format!("{prefix}-timecode"))
        .prop(
            "source",
            match channel.timecode.source {
                TimecodeSource::SystemClock => "rtc",
                TimecodeSource::Internal => "internal",
            },
        )
        .prop("set", "always")
        .prop(
            "drop-frame",
            channel.channel_frame_rate().is_drop_frame_rate(),
        )
}

pub fn audio_normalise(channel: &Channel, prefix: &str, live_pace: bool) -> Vec<ElementSpec> {
    let a = &channel.audio;
    let mut chain = Vec::new();
    if live_pace {
        chain.push(ElementSpec::new(
            "clocksync",
            format!("{prefix}-audio-pace"),
        ));
    }
    chain.extend([
        ElementSpec::new("audioconvert", format!("{prefix}-audio-convert")),
        ElementSpec::new("audioresample", format!("{prefix}-audio-resample")),
        ElementSpec::caps(
            format!("{prefix}-audio-caps"),
            format!("audio/x-raw,rate={},channels={}", a.sample_rate, a.channels),
        ),
        crate::confidence::level_meter(prefix),
        ElementSpec::new("avenc_aac", format!("{prefix}-aac"))
            .prop("bitrate", a.bitrate_kbps * 1000),
        ElementSpec::new("aacparse", format!("{prefix}-aac-parse")),
        ElementSpec::new("tee", format!("{prefix}-audio-tee")).prop("allow-not-linked", true),
    ]);
    chain
}

fn factory_available(name: &str) -> bool {
    gst::ElementFactory::find(name).is_some()
}

pub fn build(
    channel: &Channel,
    outputs: &[OutputEntry],
    meter: &std::sync::Arc<ChannelMeter>,
) -> Result<ChannelGraph, MediaError> {
    let prefix = channel.name.as_str();
    let pipeline = gst::Pipeline::with_name(&format!("channel-{prefix}"));
    let bin = pipeline.upcast_ref::<gst::Bin>();
    crate::video_decoder::watch(bin, meter.video_decoder.clone(), prefix);
    let plan = input::plan(&channel.input, prefix);
    let live_pace = matches!(
        plan,
        InputPlan::File {
            live_pace: true,
            ..
        }
    );

    // Everything but a file read as fast as it decodes (the benchmark) runs against the clock.
    let live = channel.effective_failover().is_some()
        || !matches!(
            plan,
            InputPlan::File {
                live_pace: false,
                ..
            }
        );
    let video_chain = video_normalise(channel, prefix, live_pace, live);
    let audio_chain = audio_normalise(channel, prefix, live_pace);
    let video = build_chain(bin, &video_chain)?;
    if let Some(rate) = video
        .iter()
        .find(|e| e.name() == format!("{prefix}-rate") && e.property::<bool>("skip-to-first"))
    {
        crate::program_change::keep_time(rate);
    }
    if let Some(queue) = video.iter().find(|e| e.name() == late_frames::name(prefix)) {
        late_frames::watch(queue, meter.backlog.clone());
    }
    let audio = build_chain(bin, &audio_chain)?;
    let video_tee = video
        .last()
        .cloned()
        .ok_or_else(|| MediaError::Link("empty video chain".into()))?;
    let audio_tee = audio
        .last()
        .cloned()
        .ok_or_else(|| MediaError::Link("empty audio chain".into()))?;

    if let Some(pad) = video_tee.static_pad("sink") {
        meter.watch_input(&pad);
    }
    meter.confidence.tap_picture(bin, &video_tee, prefix)?;

    let mut file_source = None;
    let mut frame_sync = None;
    let mut input_elements = Vec::new();
    if let Some(failover) = channel.effective_failover() {
        info!(
            channel = prefix,
            primary = channel.input.kind(),
            backup = failover.backup.as_ref().map(|b| b.kind()).unwrap_or("none"),
            slate = failover.slate.kind(),
            "input with failover"
        );
        let format = frame_sync::ProgramFormat::of(channel);
        let (v, a) = appsrc_pair(
            bin,
            frame_sync::appsrc_specs(prefix, &format),
            &video[0],
            &audio[0],
        )?;
        frame_sync = Some(FrameSync::start(
            channel,
            &failover,
            v,
            a,
            &pipeline,
            meter.failover.clone(),
        ));
    } else {
        match &plan {
            InputPlan::Raw { video: v, audio: a } => {
                info!(channel = prefix, video = %to_launch_line(v), audio = %to_launch_line(a), "input");
                let vsrc = build_chain(bin, v)?;
                let asrc = build_chain(bin, a)?;
                link(vsrc.last(), &video[0])?;
                link(asrc.last(), &audio[0])?;
                input_elements.extend(vsrc.into_iter().chain(asrc));
            }
            InputPlan::File {
                path,
                loop_playback,
                ..
            } => {
                info!(channel = prefix, path = %path.display(), loop_playback, "input");
                let (v, a) = appsrc_pair(
                    bin,
                    crate::file_source::appsrc_specs(prefix),
                    &video[0],
                    &audio[0],
                )?;
                input_elements.extend([v.clone().upcast(), a.clone().upcast()]);
                file_source = Some(FileSource::start(
                    path,
                    *loop_playback,
                    v,
                    a,
                    meter.video_decoder.clone(),
                ));
            }
            InputPlan::Decoded { source } => {
                info!(channel = prefix, source = %to_launch_line(source), "input");
                let src = build_chain(bin, source)?;
                let decoder = src
                    .last()
                    .cloned()
                    .ok_or_else(|| MediaError::Link("empty source".into()))?;
                crate::decoded_pads::connect(
                    &pipeline, &decoder, &video[0], &audio[0], channel, meter,
                )?;
                input_elements.extend(src);
            }
        }
    }

    // The ladder.
    let mut rung_tees = Vec::new();
    let mut raw_tees: Vec<gst::Element> = Vec::new();
    for (rung, plan) in channel.ladder.iter().zip(ladder::scale_plan(channel)) {
        let backend =
            choose_backend(rung.encoder, rung.codec, factory_available).map_err(|reason| {
                MediaError::NoEncoder {
                    rendition: rung.name.clone(),
                    codec: format!("{:?}", rung.codec),
                    reason,
                }
            })?;
        let scale = ladder::scale_chain(channel, rung, plan, prefix);
        let encode = ladder::encode_chain(channel, rung, backend, prefix);
        info!(channel = prefix, rendition = %rung.name, backend = backend.name(),
            scaled_from = plan.source.and_then(|j| channel.ladder.get(j)).map(|r| r.name.as_str()).unwrap_or("input"),
            chain = %format!("{} ! {}", to_launch_line(&scale), to_launch_line(&encode)), "rendition");
        let scaled = build_chain(bin, &scale)?;
        let source_tee = match plan.source {
            Some(j) => raw_tees.get(j).cloned(),
            None => Some(video_tee.clone()),
        };
        link(source_tee.as_ref(), &scaled[0])?;
        let raw_tee = scaled
            .last()
            .cloned()
            .ok_or_else(|| MediaError::Link("empty rung".into()))?;
        let encoded = build_chain(bin, &encode)?;
        // `queue ! encoder ! …`: the element after the rung's queue is its encoder.
        if let Some(encoder) = encoded.get(1) {
            meter.watch_encoder(rung_tees.len(), encoder);
        }
        if let Some(parser) = encoded.iter().find(|e| e.name().ends_with("-parse")) {
            match rung.codec {
                feedline_config::Codec::H264 => crate::h264_timecode::install(parser),
                feedline_config::Codec::Hevc => crate::hevc_timecode::install(parser),
            }
        }
        link(Some(&raw_tee), &encoded[0])?;
        raw_tees.push(raw_tee);
        let rung_tee = encoded
            .last()
            .cloned()
            .ok_or_else(|| MediaError::Link("empty rung".into()))?;
        meter.rendition_encoder(rung_tees.len(), backend.name(), backend.factory(rung.codec));
        if let Some(pad) = rung_tee.static_pad("sink") {
            meter.watch_rendition(rung_tees.len(), &pad);
        }
        rung_tees.push(rung_tee);
    }

    let mut graph = ChannelGraph {
        pipeline,
        file_source,
        frame_sync,
        input_elements,
        rendition_tees: rung_tees,
        audio_tee,
        branches: Vec::new(),
    };
    graph.reshape_outputs(channel, outputs)?;
    Ok(graph)
}

impl ChannelGraph {
    /// Brings the mux branches in line with `outputs`: branches of outputs that are gone, or
    /// whose renditions or transport slot changed, are detached first (their names become free),
    /// then missing ones are attached. Works on a playing pipeline; untouched branches keep
    /// flowing.
    pub fn reshape_outputs(
        &mut self,
        channel: &Channel,
        outputs: &[OutputEntry],
    ) -> Result<(), MediaError> {
        let bin = self.pipeline.upcast_ref::<gst::Bin>().clone();
        // A copy (dual destinations) has no muxer of its own: its original's muxer feeds it.
        let originals: Vec<&OutputEntry> = outputs
            .iter()
            .filter(|o| o.config.copy_of.is_none())
            .collect();
        let (keep, stale): (Vec<_>, Vec<_>) = std::mem::take(&mut self.branches)
            .into_iter()
            .partition(|(name, branch)| {
                originals.iter().any(|o| {
                    &o.config.name == name
                        && o.config.renditions == branch.renditions
                        && o.slot.same_as(&branch.slot)
                })
            });
        self.branches = keep;
        for (name, branch) in stale {
            debug!(channel = %channel.name, output = %name, "detaching output's mux branch");
            branch.detach(&bin);
        }
        for output in originals {
            if self
                .branches
                .iter()
                .any(|(name, _)| name == &output.config.name)
            {
                continue;
            }
            let taps = Taps {
                renditions: &self.rendition_tees,
                audio: &self.audio_tee,
            };
            let branch =
                MuxBranch::attach(&bin, channel, &output.config, output.slot.clone(), &taps)?;
            self.branches.push((output.config.name.clone(), branch));
        }
        for (name, branch) in &self.branches {
            branch.set_copies(
                outputs
                    .iter()
                    .filter(|o| o.config.copy_of.as_ref() == Some(name))
                    .map(|o| o.slot.clone())
                    .collect(),
            );
        }
        Ok(())
    }
}

/// Two appsrcs (raw video, raw audio) added to `bin` and linked to the heads of the video and
/// audio chains: how a file or the failover frame synchroniser feeds a channel.
fn appsrc_pair(
    bin: &gst::Bin,
    (video_spec, audio_spec): (ElementSpec, ElementSpec),
    video_head: &gst::Element,
    audio_head: &gst::Element,
) -> Result<(gst_app::AppSrc, gst_app::AppSrc), MediaError> {
    let as_appsrc = |spec: ElementSpec, head: &gst::Element| {
        let element = build_chain(bin, &[spec])?
            .pop()
            .ok_or_else(|| MediaError::Link("appsrc".into()))?;
        link(Some(&element), head)?;
        element
            .downcast::<gst_app::AppSrc>()
            .map_err(|_| MediaError::Link("appsrc".into()))
    };
    Ok((
        as_appsrc(video_spec, video_head)?,
        as_appsrc(audio_spec, audio_head)?,
    ))
}

fn link(src: Option<&gst::Element>, sink: &gst::Element) -> Result<(), MediaError> {
    let src = src.ok_or_else(|| MediaError::Link("empty chain".into()))?;
    src.link(sink)
        .map_err(|e| MediaError::Link(format!("{} ! {}: {e}", src.name(), sink.name())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_config::Config;

    #[test]
    fn a_live_channel_sheds_late_frames_after_rate_conversion_and_before_the_ladder() {
        let channel = &Config::default().channels[0];
        let chain = video_normalise(channel, "ch", false, true);
        let names: Vec<&str> = chain.iter().map(|e| e.name.as_str()).collect();
        let at = |name: &str| names.iter().position(|n| *n == name);
        let shed = at("ch-late-frames").expect("a live channel sheds late frames");
        // After videorate (which would fill a gap with repeats the encoders cannot afford),
        // before the timecode burn-in (no cost for a frame that is shed) and the tee.
        assert!(at("ch-rate").is_some_and(|rate| rate < shed));
        assert!(at("ch-timecode").is_some_and(|tc| shed < tc));
        assert_eq!(chain.last().map(|e| e.factory), Some("tee"));
    }

    #[test]
    fn only_an_input_with_its_own_timing_starts_at_its_first_picture() {
        let rate = |channel: &Channel| {
            video_normalise(channel, "ch", false, true)
                .into_iter()
                .find(|e| e.factory == "videorate")
                .and_then(|e| e.property("skip-to-first").map(str::to_string))
        };
        let mut channel = Config::default().channels[0].clone();
        assert_eq!(rate(&channel), None, "the test pattern starts at 0");
        channel.input = feedline_config::Input::Udp {
            address: "127.0.0.1".into(),
            port: 5000,
            interface: None,
        };
        assert_eq!(rate(&channel).as_deref(), Some("true"));
    }

    #[test]
    fn a_file_read_as_fast_as_it_decodes_sheds_nothing() {
        let channel = &Config::default().channels[0];
        let chain = video_normalise(channel, "ch", false, false);
        assert!(chain.iter().all(|e| e.factory != "queue"), "{chain:?}");
    }
}
