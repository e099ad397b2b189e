//! A running channel: its encoding pipeline (rebuilt after a failure) and its outputs.

use crate::bus;
use crate::graph;
use crate::meter::ChannelMeter;
use crate::output::{OutputHandle, OutputSlot};
use crate::output_set::{OutputChanges, OutputEntry, OutputSet};
use crate::retry;
use crate::status::{ChannelState, ChannelStatus, OutputStatus};
use feedline_config::{Channel, Input, Output};
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

/// How long a failed channel waits before it rebuilds its pipeline, at most.
const RESTART_CAP: Duration = Duration::from_secs(5);
const RESTART_FIRST: Duration = Duration::from_millis(500);
/// How long an output edit waits for the running pipeline to take it up.
const RESHAPE_WAIT: Duration = Duration::from_secs(2);

pub struct ChannelRunner {
    name: String,
    /// The source never pauses (test pattern, failover slate): no frames means a stall.
    always_on: bool,
    /// Frames encoded at the last liveness check, and when that count last changed.
    progress: Mutex<(u64, Instant)>,
    outputs: Arc<OutputSet>,
    live: Arc<Live>,
    process_start: Instant,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A worker that has not looped for this long is stuck (its loop turns every 50 ms; a rebuild
/// waits at most 5 s).
const WORKER_STUCK: Duration = Duration::from_secs(10);
/// A channel whose source never stops (test pattern, failover) that encodes nothing for this long
/// has a stalled pipeline.
const FRAMES_STALLED: Duration = Duration::from_secs(10);

/// What the channel's worker thread reports while it runs.
struct Live {
    state: Mutex<(ChannelState, Option<String>)>,
    restarts: AtomicU64,
    meter: Arc<ChannelMeter>,
    born: Instant,
    /// Milliseconds since `born` at the worker's latest loop turn.
    heartbeat_ms: AtomicU64,
}

impl Live {
    fn beat(&self) {
        self.heartbeat_ms
            .store(self.born.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn set(&self, state: ChannelState, error: Option<String>) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 = state;
        if error.is_some() {
            s.1 = error;
        }
    }
}

impl ChannelRunner {
    /// Starts the channel's outputs, then its encoding pipeline. `on_finished` runs when a
    /// non-looping input has been played to its end and every output has drained.
    pub fn start(
        channel: Channel,
        process_start: Instant,
        on_finished: Box<dyn Fn() + Send>,
    ) -> Self {
        let outputs = Arc::new(OutputSet::new(
            channel
                .outputs
                .iter()
                .map(|o| OutputEntry {
                    config: o.clone(),
                    slot: OutputSlot::new(OutputHandle::start(&channel.name, o, process_start)),
                })
                .collect(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let live = Arc::new(Live {
            state: Mutex::new((ChannelState::Starting, None)),
            restarts: AtomicU64::new(0),
            meter: ChannelMeter::new(&channel),
            born: Instant::now(),
            heartbeat_ms: AtomicU64::new(0),
        });
        let worker = Worker {
            channel: channel.clone(),
            outputs: outputs.clone(),
            stop: stop.clone(),
            process_start,
            live: live.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("ch-{}", channel.name))
            .spawn(move || {
                if worker.run() {
                    for o in worker.outputs.snapshot().1 {
                        o.slot.current().join();
                    }
                    worker.live.set(ChannelState::Finished, None);
                    on_finished();
                }
            })
            .ok();
        ChannelRunner {
            name: channel.name.clone(),
            always_on: matches!(channel.input, Input::TestPattern { .. })
                || channel.effective_failover().is_some(),
            progress: Mutex::new((0, Instant::now())),
            outputs,
            live,
            process_start,
            stop,
            thread,
        }
    }

    /// Whether the channel's media threads are alive, for the service watchdog: its worker
    /// loops, and a channel whose source never stops keeps encoding frames. (A network input
    /// that stops sending is not a stall: the channel waits for it.)
    pub fn liveness(&self) -> Result<(), String> {
        let (state, _) = self
            .live
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if matches!(state, ChannelState::Finished | ChannelState::Stopped) {
            return Ok(());
        }
        let now_ms = self.live.born.elapsed().as_millis() as u64;
        let idle = now_ms.saturating_sub(self.live.heartbeat_ms.load(Ordering::Relaxed));
        if idle > WORKER_STUCK.as_millis() as u64 {
            return Err(format!(
                "channel {}: worker stuck for {} s",
                self.name,
                idle / 1000
            ));
        }
        let frames: u64 = self
            .live
            .meter
            .rendition_status()
            .iter()
            .map(|r| r.frames)
            .sum();
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        if frames != progress.0 || state != ChannelState::Running || !self.always_on {
            *progress = (frames, Instant::now());
            return Ok(());
        }
        let stalled = progress.1.elapsed();
        if stalled > FRAMES_STALLED {
            return Err(format!(
                "channel {}: no frame encoded for {} s",
                self.name,
                stalled.as_secs()
            ));
        }
        Ok(())
    }

    pub fn output_status(&self) -> Vec<OutputStatus> {
        self.outputs
            .snapshot()
            .1
            .iter()
            .map(|o| o.slot.current().status())
            .collect()
    }

    pub fn status(&self) -> ChannelStatus {
        let (state, last_error) = self
            .live
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        ChannelStatus {
            name: self.name.clone(),
            state,
            restarts: self.live.restarts.load(Ordering::Relaxed),
            last_error,
            input: self.live.meter.input_status(),
            ladder_backlog: self.live.meter.backlog.status(),
            renditions: self.live.meter.rendition_status(),
            outputs: self.output_status(),
        }
    }

    /// Takes the channel back to its primary input at the next frame. Refused (with the
    /// reason) when the channel has no failover or its primary input is not healthy.
    pub fn revert_input(&self) -> Result<(), String> {
        let status = self
            .live
            .meter
            .failover
            .status()
            .ok_or("the channel has no failover section, or is not running")?;
        if let Some(fault) = status
            .inputs
            .iter()
            .find(|i| i.role == "primary")
            .and_then(|i| i.fault.clone())
        {
            return Err(format!("the primary input is not healthy: {fault}"));
        }
        self.live.meter.failover.request_revert();
        Ok(())
    }

    /// The latest program thumbnail (JPEG), if a picture has been seen.
    pub fn thumbnail(&self) -> Option<crate::confidence::Thumbnail> {
        self.live.meter.confidence.thumbnail()
    }

    /// Makes the channel feed `outputs` (matched by name) while its encoders keep running:
    /// removed outputs are stopped, changed transports restarted, new ones started; the worker
    /// then detaches and attaches mux branches on the playing pipeline. Outputs that did not
    /// change are not touched.
    pub fn set_outputs(&self, outputs: &[Output]) -> OutputChanges {
        let (_, current) = self.outputs.snapshot();
        let old: Vec<Output> = current.iter().map(|e| e.config.clone()).collect();
        let changes = OutputChanges::between(&old, outputs);
        if changes.is_empty() {
            return changes;
        }
        // Old transports go first: a new or changed one may need the same listening port.
        for entry in current
            .iter()
            .filter(|e| changes.removed.contains(&e.config.name))
        {
            entry.slot.current().stop();
        }
        let mut next = Vec::new();
        for output in outputs {
            let start = || OutputHandle::start(&self.name, output, self.process_start);
            let slot = match current.iter().find(|e| e.config.name == output.name) {
                Some(entry) => {
                    if changes.transport.contains(&output.name) {
                        entry.slot.current().stop();
                        entry.slot.replace(start());
                    }
                    entry.slot.clone()
                }
                None => OutputSlot::new(start()),
            };
            next.push(OutputEntry {
                config: output.clone(),
                slot,
            });
        }
        let generation = self.outputs.replace(next);
        // Answer once the pipeline feeds the new set, so a receiver that connects after the
        // reply sees only the new shape. A channel between pipelines picks the set up when it
        // rebuilds.
        let live = self.outputs.wait_applied(generation, RESHAPE_WAIT);
        info!(channel = %self.name, added = ?changes.added, removed = ?changes.removed,
            transport = ?changes.transport, content = ?changes.content, live,
            "outputs changed while the channel runs");
        changes
    }

    /// Stops the pipeline and the outputs; bounded well under 2 s.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for o in self.outputs.snapshot().1 {
            o.slot.current().stop();
        }
        self.live.set(ChannelState::Stopped, None);
    }
}

struct Worker {
    channel: Channel,
    outputs: Arc<OutputSet>,
    stop: Arc<AtomicBool>,
    process_start: Instant,
    live: Arc<Live>,
}

enum Run {
    Stopped,
    Finished,
    Failed,
}

impl Worker {
    /// Returns true when the input reached its end (the channel is finished).
    fn run(&self) -> bool {
        let mut failures: u32 = 0;
        loop {
            self.live.beat();
            if self.stop.load(Ordering::SeqCst) {
                return false;
            }
            let started = Instant::now();
            match self.run_once() {
                Run::Stopped => return false,
                Run::Finished => return true,
                Run::Failed => {
                    self.live.restarts.fetch_add(1, Ordering::Relaxed);
                    if started.elapsed() > Duration::from_secs(30) {
                        failures = 0;
                    }
                    let wait = retry::backoff(RESTART_FIRST, RESTART_CAP, failures);
                    failures += 1;
                    warn!(channel = %self.channel.name, retry_in_ms = wait.as_millis() as u64,
                        "channel restarting after failure");
                    if !retry::sleep_unless_stopped(&self.stop, wait) {
                        return false;
                    }
                }
            }
        }
    }

    fn describe_input(&self) -> String {
        match &self.channel.input {
            Input::File { path, .. } => format!("file {}", path.display()),
            Input::Srt {
                mode,
                address,
                port,
                ..
            } => format!("srt {mode:?} {address}:{port}").to_lowercase(),
            Input::Udp { address, port, .. } => format!("udp {address}:{port}"),
            Input::V4l2 { device, .. } => format!("v4l2 {}", device.display()),
            Input::Decklink {
                device_number,
                mode,
                ..
            } => {
                format!("decklink {device_number} {mode}")
            }
            Input::TestPattern { .. } => "test pattern".to_string(),
        }
    }

    /// One log line an operator can act on: which channel, which input (or element), why.
    fn report_error(
        &self,
        graph: &graph::ChannelGraph,
        source: Option<&gst::Object>,
        reason: &str,
    ) {
        let name = &self.channel.name;
        let element = source.map(|s| s.name().to_string()).unwrap_or_default();
        let from_input = source.is_some_and(|src| {
            graph.input_elements.iter().any(|e| {
                let e = e.upcast_ref::<gst::Object>();
                src == e || src.has_as_ancestor(e)
            })
        });
        if from_input {
            error!(channel = %name, input = %self.describe_input(), %element, %reason, "input failed");
            self.live.set(
                ChannelState::Restarting,
                Some(format!("input {}: {reason}", self.describe_input())),
            );
        } else {
            error!(channel = %name, %element, %reason, "channel pipeline error");
            self.live.set(
                ChannelState::Restarting,
                Some(format!("{element}: {reason}")),
            );
        }
    }

    fn run_once(&self) -> Run {
        let name = &self.channel.name;
        self.live.meter.pipeline_restarted();
        let (mut shaped_to, outputs) = self.outputs.snapshot();
        let mut graph = match graph::build(&self.channel, &outputs, &self.live.meter) {
            Ok(g) => g,
            Err(e) => {
                error!(channel = %name, error = %e, "channel cannot be built");
                self.live.set(
                    ChannelState::Restarting,
                    Some(format!("cannot be built: {e}")),
                );
                return Run::Failed;
            }
        };
        self.outputs.mark_applied(shaped_to);
        let pipeline = graph.pipeline.clone();
        let Some(bus) = pipeline.bus() else {
            return Run::Failed;
        };
        if pipeline.set_state(gst::State::Playing).is_err() {
            match bus::pop_error(&bus) {
                Some((source, reason)) => self.report_error(&graph, source.as_ref(), &reason),
                None => {
                    error!(channel = %name, "channel pipeline refused to start");
                    self.live.set(
                        ChannelState::Restarting,
                        Some("pipeline refused to start".into()),
                    );
                }
            }
            let _ = pipeline.set_state(gst::State::Null);
            return Run::Failed;
        }
        let mut announced = false;
        let outcome = loop {
            self.live.beat();
            if self.stop.load(Ordering::SeqCst) {
                break Run::Stopped;
            }
            if self.outputs.generation() != shaped_to {
                let (generation, outputs) = self.outputs.snapshot();
                shaped_to = generation;
                if let Err(e) = graph.reshape_outputs(&self.channel, &outputs) {
                    error!(channel = %name, error = %e, "outputs cannot be changed on the running channel");
                    self.live.set(
                        ChannelState::Restarting,
                        Some(format!("output change: {e}")),
                    );
                    break Run::Failed;
                }
                self.outputs.mark_applied(generation);
            }
            let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(50)) else {
                continue;
            };
            match msg.view() {
                gst::MessageView::Error(err) => {
                    self.report_error(&graph, msg.src(), &bus::error_text(err));
                    break Run::Failed;
                }
                gst::MessageView::Element(e) => {
                    if let Some(s) = e.structure() {
                        self.live.meter.confidence.record_levels(s);
                    }
                }
                gst::MessageView::Warning(w) => {
                    warn!(channel = %name, element = ?msg.src().map(|s| s.name()), warning = %w.error(), "pipeline warning");
                }
                gst::MessageView::Eos(_) => {
                    info!(channel = %name, "input ended; channel finished");
                    break Run::Finished;
                }
                gst::MessageView::StateChanged(sc)
                    if !announced
                        && sc.current() == gst::State::Playing
                        && msg.src() == Some(pipeline.upcast_ref::<gst::Object>()) =>
                {
                    announced = true;
                    self.live.set(ChannelState::Running, None);
                    info!(channel = %name, input = %self.describe_input(),
                        since_process_start_ms = self.process_start.elapsed().as_millis() as u64,
                        "channel running");
                }
                _ => {}
            }
        };
        let _ = pipeline.set_state(gst::State::Null);
        drop(graph.file_source);
        drop(graph.frame_sync);
        outcome
    }
}
