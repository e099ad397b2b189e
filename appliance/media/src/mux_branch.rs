//! One output's branch of the encoding pipeline: a queue per carried rendition and one for the
//! audio, an MPEG-TS muxer, and the appsink that hands the TS to the output's transport.
//!
//! Branches are attached to and detached from the rendition and audio tees while the channel
//! plays, so adding, removing or re-shaping one output never stops the encoders or the other
//! outputs' muxers.

use crate::ladder::{self, AUDIO_PID};
use crate::output::OutputSlot;
use crate::spec::ElementSpec;
use crate::MediaError;
use feedline_config::{Channel, Output};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tracing::warn;

/// How long a detach waits for a busy tee pad to go idle before it unlinks it anyway.
const IDLE_WAIT: Duration = Duration::from_millis(500);

/// Where a branch taps the pipeline.
pub struct Taps<'a> {
    /// One tee per rung of the ladder, carrying that rendition's encoded video.
    pub renditions: &'a [gst::Element],
    pub audio: &'a gst::Element,
}

pub struct MuxBranch {
    /// The renditions this branch's muxer carries, as configured (`None`: all of them).
    pub renditions: Option<Vec<String>>,
    /// The output's own transport slot: a new slot means a new branch.
    pub slot: OutputSlot,
    /// Every slot the muxer's TS goes to: the output's own, then its byte-identical copies (dual
    /// destinations). Changed in place, so adding a copy does not touch the muxer.
    destinations: Arc<RwLock<Vec<OutputSlot>>>,
    elements: Vec<gst::Element>,
    /// (tee, its request pad feeding this branch)
    tee_pads: Vec<(gst::Element, gst::Pad)>,
}

impl MuxBranch {
    /// Builds the branch, brings it to the pipeline's state, then links it to the tees: data
    /// only flows once every element downstream is ready for it.
    pub fn attach(
        bin: &gst::Bin,
        channel: &Channel,
        output: &Output,
        slot: OutputSlot,
        taps: &Taps,
    ) -> Result<Self, MediaError> {
        let op = format!("{}-{}", channel.name, output.name);
        let mux = ElementSpec::new("mpegtsmux", format!("{op}-mux"))
            .prop("alignment", 7)
            .build()?;
        let sink = ElementSpec::new("appsink", format!("{op}-appsink"))
            .prop("sync", false)
            .prop("async", false)
            .prop("emit-signals", false)
            .build()?;
        let destinations = Arc::new(RwLock::new(vec![slot.clone()]));
        let mut branch = MuxBranch {
            renditions: output.renditions.clone(),
            slot,
            destinations: destinations.clone(),
            elements: vec![sink.clone(), mux.clone()],
            tee_pads: Vec::new(),
        };
        bin.add_many([&mux, &sink])
            .map_err(|e| MediaError::Link(e.to_string()))?;
        mux.link(&sink)
            .map_err(|e| MediaError::Link(format!("{op}-mux ! appsink: {e}")))?;
        let appsink = sink
            .downcast::<gst_app::AppSink>()
            .map_err(|_| MediaError::Link("appsink".into()))?;
        bridge_to_outputs(&appsink, destinations);

        let mut feeds = Vec::new();
        for (ri, rung) in channel.ladder.iter().enumerate() {
            let carried = output
                .renditions
                .as_ref()
                .is_none_or(|list| list.contains(&rung.name));
            if let (true, Some(tee)) = (carried, taps.renditions.get(ri)) {
                feeds.push((tee, ladder::video_pid(ri), format!("{op}-{}", rung.name)));
            }
        }
        feeds.push((taps.audio, AUDIO_PID, format!("{op}-audio")));
        let mut queues = Vec::new();
        for (tee, pid, name) in feeds {
            let queue = queue_into_mux(bin, &mux, pid, &name)?;
            branch.elements.push(queue.clone());
            queues.push((tee, queue));
        }
        for element in &branch.elements {
            element
                .sync_state_with_parent()
                .map_err(|e| MediaError::Link(format!("{}: {e}", element.name())))?;
        }
        for (tee, queue) in queues {
            let tee_pad = tee
                .request_pad_simple("src_%u")
                .ok_or_else(|| MediaError::Link(format!("{}: no src pad", tee.name())))?;
            let queue_sink = queue
                .static_pad("sink")
                .ok_or_else(|| MediaError::Link("queue sink".into()))?;
            tee_pad.link(&queue_sink).map_err(|e| {
                MediaError::Link(format!("{} ! {}: {e:?}", tee.name(), queue.name()))
            })?;
            branch.tee_pads.push((tee.clone(), tee_pad));
        }
        Ok(branch)
    }

    /// Sends the TS to the output's own slot and to `copies` (dual destinations).
    pub fn set_copies(&self, copies: Vec<OutputSlot>) {
        let mut all = vec![self.slot.clone()];
        all.extend(copies);
        *self
            .destinations
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = all;
    }

    /// Unlinks the branch from the tees between two buffers, then shuts it down and removes it.
    /// The tees (and so every other branch) never stop.
    pub fn detach(self, bin: &gst::Bin) {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        for (_, tee_pad) in &self.tee_pads {
            let done = done_tx.clone();
            tee_pad.add_probe(gst::PadProbeType::IDLE, move |pad, _| {
                if let Some(peer) = pad.peer() {
                    let _ = pad.unlink(&peer);
                }
                let _ = done.send(());
                gst::PadProbeReturn::Remove
            });
        }
        for _ in &self.tee_pads {
            if done_rx.recv_timeout(IDLE_WAIT).is_err() {
                warn!("a tee pad stayed busy; unlinking the output's branch anyway");
                break;
            }
        }
        for (tee, tee_pad) in &self.tee_pads {
            if let Some(peer) = tee_pad.peer() {
                let _ = tee_pad.unlink(&peer);
            }
            tee.release_request_pad(tee_pad);
        }
        for element in &self.elements {
            let _ = element.set_state(gst::State::Null);
        }
        for element in &self.elements {
            let _ = bin.remove(element);
        }
    }
}

/// A queue in front of the muxer, on the muxer's pad for `pid`.
fn queue_into_mux(
    bin: &gst::Bin,
    mux: &gst::Element,
    pid: u32,
    name: &str,
) -> Result<gst::Element, MediaError> {
    let queue = ElementSpec::new("queue", format!("{name}-queue"))
        .prop("max-size-time", 2_000_000_000u64)
        .prop("max-size-buffers", 0)
        .prop("max-size-bytes", 0)
        .build()?;
    bin.add(&queue)
        .map_err(|e| MediaError::Link(e.to_string()))?;
    let mux_pad = mux
        .request_pad_simple(&format!("sink_{pid}"))
        .ok_or_else(|| MediaError::Link(format!("{}: no pad for PID {pid}", mux.name())))?;
    let queue_src = queue
        .static_pad("src")
        .ok_or_else(|| MediaError::Link("queue src".into()))?;
    queue_src
        .link(&mux_pad)
        .map_err(|e| MediaError::Link(format!("{name}-queue ! {}: {e:?}", mux.name())))?;
    Ok(queue)
}

/// The muxer's TS leaves the encoding pipeline here, for the outputs' own transport pipelines.
/// Every destination gets the very same bytes.
fn bridge_to_outputs(appsink: &gst_app::AppSink, destinations: Arc<RwLock<Vec<OutputSlot>>>) {
    let eos_destinations = destinations.clone();
    let read = |d: &RwLock<Vec<OutputSlot>>| {
        d.read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    };
    appsink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                // appsink hands buffers over one by one (its `buffer-list` is off). Releasing the
                // sample first leaves us the only reference, so a single destination's `push` can
                // clear flags and timestamps in place instead of copying every TS buffer.
                let buffer = sample.buffer_owned();
                drop(sample);
                let Some(buffer) = buffer else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                // The muxer stamps its TS with the running time of the content it carries, and a
                // live source stamps its pictures and sound with their running time at capture.
                // Content ahead of the clock is a file read faster than real time: no delay.
                let delay = sink
                    .current_running_time()
                    .zip(buffer.pts())
                    .and_then(|(now, captured)| now.checked_sub(captured))
                    .map(|delay| Duration::from_nanos(delay.nseconds()));
                let targets = destinations
                    .read()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Some((last, others)) = targets.split_last() {
                    for slot in others {
                        slot.push(buffer.clone(), delay);
                    }
                    last.push(buffer, delay);
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .eos(move |_| {
                for slot in read(&eos_destinations) {
                    slot.end_of_stream();
                }
            })
            .build(),
    );
}
