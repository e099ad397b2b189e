//! One output's transport, isolated in its own pipeline and thread.
//!
//! The channel's muxer hands TS buffers to `OutputHandle::push`, which never blocks (a network
//! output drops its oldest data when the receiver is slow or absent). The output thread builds
//! `appsrc ! <sink>`, watches it, and on failure tears it down and tries again with capped
//! exponential backoff, while the encoder and the other outputs carry on.

use crate::bus;
use crate::capture_delay::CaptureDelay;
use crate::link_stats::{rist_link_stats, srt_link_stats, AckWatch};
use crate::lock;
use crate::retry;
use crate::spec::ElementSpec;
use crate::srt_group_output::{self, GroupSender};
use crate::status::{OutputState, OutputStatus};
use crate::transport;
use feedline_config::{Output, OutputTransport};
use feedline_srt::LinkState;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

pub const BACKOFF_START: Duration = Duration::from_millis(100);
/// Capped low so that a receiver that comes back is served again within about a second.
pub const BACKOFF_CAP: Duration = Duration::from_millis(1000);
/// Network outputs buffer at most this much TS while a receiver is slow; older data is dropped.
const NETWORK_QUEUE_BYTES: u64 = 4 * 1024 * 1024;

struct Shared {
    channel: String,
    /// State, attempts, errors, SRT figures: changed by the output thread, a few times a second.
    status: Mutex<OutputStatus>,
    /// Counted per TS buffer on the encoder's streaming thread, so kept out of the mutex.
    bytes_out: AtomicU64,
    bytes_dropped: AtomicU64,
    delay_from_capture: CaptureDelay,
    appsrc: Mutex<Option<gst_app::AppSrc>>,
    stop: AtomicBool,
    /// The input ended (non-looping file): drain, then stop.
    eos: AtomicBool,
}

#[derive(Clone)]
pub struct OutputHandle {
    shared: Arc<Shared>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl OutputHandle {
    pub fn start(channel: &str, output: &Output, process_start: Instant) -> Self {
        let shared = Arc::new(Shared {
            channel: channel.to_string(),
            status: Mutex::new(OutputStatus::new(&output.name)),
            bytes_out: AtomicU64::new(0),
            bytes_dropped: AtomicU64::new(0),
            delay_from_capture: CaptureDelay::default(),
            appsrc: Mutex::new(None),
            stop: AtomicBool::new(false),
            eos: AtomicBool::new(false),
        });
        let runner = Runner {
            shared: shared.clone(),
            output: output.clone(),
            process_start,
        };
        let thread = std::thread::Builder::new()
            .name(format!("out-{}", output.name))
            .spawn(move || runner.run())
            .ok();
        OutputHandle {
            shared,
            thread: Arc::new(Mutex::new(thread)),
        }
    }

    /// Hands one TS buffer to the transport, `delay_from_capture` after its content was
    /// captured. Never blocks the caller for a network output.
    pub fn push(&self, mut buffer: gst::Buffer, delay_from_capture: Option<Duration>) {
        if let Some(delay) = delay_from_capture {
            self.shared.delay_from_capture.note(delay);
        }
        let appsrc = lock(&self.shared.appsrc).clone();
        let size = buffer.size() as u64;
        match appsrc {
            Some(src) => {
                {
                    let b = buffer.make_mut();
                    // srtsink skips HEADER-flagged buffers once it has a streamheader, which would
                    // drop the TS packets carrying SPS/PPS + IDR; our buffers are plain data.
                    b.unset_flags(gst::BufferFlags::HEADER);
                    // The transport pipeline runs on its own clock: timestamps mean nothing there.
                    b.set_pts(gst::ClockTime::NONE);
                    b.set_dts(gst::ClockTime::NONE);
                }
                let counter = if src.push_buffer(buffer).is_ok() {
                    &self.shared.bytes_out
                } else {
                    &self.shared.bytes_dropped
                };
                counter.fetch_add(size, Ordering::Relaxed);
            }
            None => {
                self.shared.bytes_dropped.fetch_add(size, Ordering::Relaxed);
            }
        }
    }

    /// The channel's input ended: deliver what is queued, then stop.
    pub fn end_of_stream(&self) {
        self.shared.eos.store(true, Ordering::SeqCst);
        if let Some(src) = lock(&self.shared.appsrc).clone() {
            let _ = src.end_of_stream();
        }
    }

    pub fn status(&self) -> OutputStatus {
        let mut status = lock(&self.shared.status).clone();
        status.bytes_out = self.shared.bytes_out.load(Ordering::Relaxed);
        status.bytes_dropped = self.shared.bytes_dropped.load(Ordering::Relaxed);
        status.buffer_bytes = lock(&self.shared.appsrc)
            .as_ref()
            .map(|src| src.current_level_bytes())
            .unwrap_or(0);
        status.delay_from_capture = self.shared.delay_from_capture.current();
        status
    }

    /// Stops the transport and waits for its thread (bounded by the thread's own timeouts).
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.join();
    }

    /// Waits for the output thread to finish (after `stop` or the end of the stream).
    pub fn join(&self) {
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

/// Where a channel's muxer sends one output's TS. The transport behind it can be replaced while
/// the channel runs, so changing one output's destination does not touch the encoder or the
/// other outputs.
#[derive(Clone)]
pub struct OutputSlot(Arc<std::sync::RwLock<OutputHandle>>);

impl OutputSlot {
    pub fn new(handle: OutputHandle) -> Self {
        OutputSlot(Arc::new(std::sync::RwLock::new(handle)))
    }

    pub fn current(&self) -> OutputHandle {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn push(&self, buffer: gst::Buffer, delay_from_capture: Option<Duration>) {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(buffer, delay_from_capture);
    }

    pub fn end_of_stream(&self) {
        self.current().end_of_stream();
    }

    /// The same slot (not merely an equal one): a mux branch feeds exactly one slot.
    pub fn same_as(&self, other: &OutputSlot) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Puts `handle` in the slot; the caller has stopped the transport it replaces.
    pub fn replace(&self, handle: OutputHandle) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = handle;
    }
}

impl Shared {
    fn connection_attempts_started(&self) -> u64 {
        lock(&self.status).connection_attempts
    }
}

struct Runner {
    shared: Arc<Shared>,
    output: Output,
    process_start: Instant,
}

enum Ended {
    Stopped,
    Finished,
    Failed(String),
}

impl Runner {
    fn run(self) {
        let mut attempt: u32 = 0;
        loop {
            if self.shared.stop.load(Ordering::SeqCst) {
                break;
            }
            lock(&self.shared.status).connection_attempts += 1;
            let started = Instant::now();
            let outcome = match self.build() {
                Ok((pipeline, appsrc, sink)) => self.watch(&pipeline, appsrc, &sink),
                Err(reason) => {
                    // Nothing will change by retrying a pipeline we cannot even build.
                    error!(channel = %self.shared.channel, output = %self.output.name, %reason, "output cannot be built");
                    self.set_state(OutputState::Failed, Some(reason));
                    return;
                }
            };
            *lock(&self.shared.appsrc) = None;
            match outcome {
                Ended::Stopped | Ended::Finished => break,
                Ended::Failed(reason) => {
                    // A connection that lived a while starts its retries from the beginning.
                    if started.elapsed() > Duration::from_secs(10) {
                        attempt = 0;
                    }
                    let wait = retry::backoff(BACKOFF_START, BACKOFF_CAP, attempt);
                    attempt = attempt.saturating_add(1);
                    warn!(channel = %self.shared.channel, output = %self.output.name, %reason,
                        retry_in_ms = wait.as_millis() as u64, attempt, "output connection lost; retrying");
                    self.set_state(OutputState::Reconnecting, Some(reason));
                    retry::sleep_unless_stopped(&self.shared.stop, wait);
                }
            }
        }
        self.set_state(OutputState::Stopped, None);
    }

    fn set_state(&self, state: OutputState, error: Option<String>) {
        let mut status = lock(&self.shared.status);
        if status.state != state {
            info!(channel = %self.shared.channel, output = %self.output.name,
                from = %status.state, to = %state, "output state changed");
            status.state = state;
        }
        if error.is_some() {
            status.last_error = error;
        }
    }

    fn build(&self) -> Result<(gst::Pipeline, gst_app::AppSrc, gst::Element), String> {
        let prefix = format!("{}-{}", self.shared.channel, self.output.name);
        let pipeline = gst::Pipeline::with_name(&format!("output-{prefix}"));
        let lossless = transport::is_lossless(&self.output.transport);
        let mut src_spec = ElementSpec::new("appsrc", format!("{prefix}-src"))
            .prop(
                "caps",
                "video/mpegts,systemstream=(boolean)true,packetsize=(int)188",
            )
            .prop("is-live", !lossless)
            .prop("format", "time")
            .prop("block", lossless);
        if !lossless {
            src_spec = src_spec
                .prop("max-bytes", NETWORK_QUEUE_BYTES)
                .prop("leaky-type", "downstream");
        }
        if transport::stamps_arrival_time(&self.output.transport) {
            src_spec = src_spec.prop("do-timestamp", true);
        }
        let mut chain = vec![src_spec];
        chain.extend(transport::payloader_specs(&self.output.transport, &prefix));
        let fec = transport::fec_sink_description(&self.output.transport, &prefix);
        if fec.is_none() {
            chain.push(transport::sink_spec(&self.output.transport, &prefix));
        }
        let elements = crate::spec::build_chain(pipeline.upcast_ref::<gst::Bin>(), &chain)
            .map_err(|e| e.to_string())?;
        let (Some(src), Some(mut sink)) = (elements.first().cloned(), elements.last().cloned())
        else {
            return Err("empty output chain".into());
        };
        if matches!(self.output.transport, OutputTransport::Rist { .. }) {
            crate::rist::configure(&sink, &self.output.transport)
                .map_err(|e| format!("RIST sender: {e}"))?;
        }
        if let Some(description) = fec {
            // The FEC encoder fans out to three sockets: a bin with one sink pad, the
            // encoder's. (Letting the parser ghost every unlinked pad would also ghost the FEC
            // sockets' pads, whose links wait for the encoder's FEC pads to appear.)
            let bin = gst::parse::bin_from_description(&description, false)
                .map_err(|e| format!("FEC sender: {e}"))?;
            let encoder_sink = bin
                .by_name(&format!("{prefix}-fec"))
                .and_then(|fec| fec.static_pad("sink"))
                .ok_or("FEC sender: no encoder")?;
            let ghost = gst::GhostPad::with_target(&encoder_sink)
                .map_err(|e| format!("FEC sender: {e}"))?;
            bin.add_pad(&ghost)
                .map_err(|e| format!("FEC sender: {e}"))?;
            pipeline.add(&bin).map_err(|e| e.to_string())?;
            sink.link(&bin)
                .map_err(|e| format!("payloader ! FEC: {e}"))?;
            sink = bin.upcast();
        }
        self.log_first_packet(&sink);
        let appsrc = src
            .downcast::<gst_app::AppSrc>()
            .map_err(|_| "appsrc is not an AppSrc".to_string())?;
        Ok((pipeline, appsrc, sink))
    }

    /// Logs how long after process start the first TS packet reached the transport: the
    /// appliance's start time.
    fn log_first_packet(&self, sink: &gst::Element) {
        // Only the output's first transport measures start-up; a reconnect is not a start.
        if self.shared.connection_attempts_started() > 1 {
            return;
        }
        let Some(pad) = sink.static_pad("sink") else {
            return;
        };
        let start = self.process_start;
        let channel = self.shared.channel.clone();
        let output = self.output.name.clone();
        pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |_, _| {
                info!(%channel, %output, since_process_start_ms = start.elapsed().as_millis() as u64,
                    "first TS packet handed to the transport");
                gst::PadProbeReturn::Remove
            },
        );
    }

    fn watch(
        &self,
        pipeline: &gst::Pipeline,
        appsrc: gst_app::AppSrc,
        sink: &gst::Element,
    ) -> Ended {
        if let OutputTransport::SrtGroup { links, .. } = &self.output.transport {
            return self.watch_group(pipeline, appsrc, sink, links);
        }
        if let Err(e) = pipeline.set_state(gst::State::Playing) {
            let reason = pipeline
                .bus()
                .and_then(|b| bus::pop_error(&b))
                .map(|(_, text)| text)
                .unwrap_or_else(|| e.to_string());
            let _ = pipeline.set_state(gst::State::Null);
            return Ended::Failed(reason);
        }
        *lock(&self.shared.appsrc) = Some(appsrc.clone());
        if self.shared.eos.load(Ordering::SeqCst) {
            let _ = appsrc.end_of_stream();
        }
        let is_srt = matches!(self.output.transport, OutputTransport::Srt { .. });
        let is_rist = matches!(self.output.transport, OutputTransport::Rist { .. });
        if !is_srt {
            self.set_state(OutputState::Connected, None);
        }
        let bus = match pipeline.bus() {
            Some(bus) => bus,
            None => return Ended::Failed("pipeline has no bus".into()),
        };
        let mut next_stats = Instant::now();
        let mut liveness = AckWatch::default();
        let outcome = loop {
            if self.shared.stop.load(Ordering::SeqCst) {
                // Let what is queued leave, but never wait long: SIGTERM must finish in 2 s.
                let _ = appsrc.end_of_stream();
                let _ = bus.timed_pop_filtered(
                    gst::ClockTime::from_mseconds(300),
                    &[gst::MessageType::Eos, gst::MessageType::Error],
                );
                break Ended::Stopped;
            }
            if let Some(msg) = bus.timed_pop_filtered(
                gst::ClockTime::from_mseconds(50),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            ) {
                match msg.view() {
                    gst::MessageView::Eos(_) => break Ended::Finished,
                    gst::MessageView::Error(err) => break Ended::Failed(bus::error_text(err)),
                    _ => {}
                }
            }
            if Instant::now() < next_stats {
                continue;
            }
            next_stats = Instant::now() + Duration::from_millis(250);
            if is_rist {
                let stats = sink
                    .property::<Option<gst::Structure>>("stats")
                    .map(|s| rist_link_stats(&s));
                lock(&self.shared.status).rist = stats;
            }
            if is_srt {
                if let Some(stats) = self.update_srt_stats(sink) {
                    if let Some(silent) = liveness.observe(&stats, Instant::now()) {
                        break Ended::Failed(format!(
                            "receiver stopped acknowledging for {} ms (gone without closing)",
                            silent.as_millis()
                        ));
                    }
                }
            }
        };
        let _ = pipeline.set_state(gst::State::Null);
        outcome
    }

    /// An SRT group output: connects the group, then moves the TS from the pipeline's appsink
    /// onto it. Fails (and is retried) when no link can take the stream.
    fn watch_group(
        &self,
        pipeline: &gst::Pipeline,
        appsrc: gst_app::AppSrc,
        sink: &gst::Element,
        configured: &[feedline_config::SrtGroupLink],
    ) -> Ended {
        lock(&self.shared.status).group_links =
            srt_group_output::links_without_group(configured, LinkState::Connecting);
        let sender = match srt_group_output::group_settings(&self.output.transport)
            .and_then(|settings| GroupSender::connect(settings, self.output.name.clone()))
        {
            Ok(sender) => sender,
            Err(reason) => {
                lock(&self.shared.status).group_links =
                    srt_group_output::links_without_group(configured, LinkState::Down);
                return Ended::Failed(reason);
            }
        };
        let Ok(appsink) = sink.clone().downcast::<gst_app::AppSink>() else {
            return Ended::Failed("the SRT group's sink is not an appsink".into());
        };
        if let Err(e) = pipeline.set_state(gst::State::Playing) {
            let _ = pipeline.set_state(gst::State::Null);
            return Ended::Failed(e.to_string());
        }
        *lock(&self.shared.appsrc) = Some(appsrc.clone());
        if self.shared.eos.load(Ordering::SeqCst) {
            let _ = appsrc.end_of_stream();
        }
        let mut next_stats = Instant::now();
        let outcome = loop {
            if self.shared.stop.load(Ordering::SeqCst) {
                break Ended::Stopped;
            }
            if let Some(sample) = appsink.try_pull_sample(gst::ClockTime::from_mseconds(50)) {
                let sent = sample
                    .buffer()
                    .and_then(|b| b.map_readable().ok())
                    .map_or(Ok(()), |ts| sender.send(ts.as_slice()));
                if let Err(reason) = sent {
                    break Ended::Failed(reason);
                }
            } else if appsink.is_eos() {
                break Ended::Finished;
            }
            if Instant::now() >= next_stats {
                next_stats = Instant::now() + Duration::from_millis(250);
                let links = srt_group_output::link_statuses(configured, &sender.links());
                let up = links.iter().any(|l| l.state.is_up());
                lock(&self.shared.status).group_links = links;
                // Connected while any link carries the stream; the group itself tells a send
                // that no link took apart, and that fails the attempt.
                if up {
                    self.set_state(OutputState::Connected, None);
                }
            }
        };
        let _ = pipeline.set_state(gst::State::Null);
        // The group closes with this attempt: none of its links carries anything now.
        for link in &mut lock(&self.shared.status).group_links {
            link.state = LinkState::Down;
        }
        outcome
    }

    /// Refreshes the SRT figures and the connected state; returns the caller/rendezvous link's
    /// raw stats (a listener's callers come and go on their own).
    fn update_srt_stats(&self, sink: &gst::Element) -> Option<gst::Structure> {
        let stats = sink.property::<Option<gst::Structure>>("stats")?;
        // Listener: one entry per caller. Caller/rendezvous: the link's figures at top level.
        let link = match stats.get::<gst::glib::ValueArray>("callers") {
            Ok(callers) => callers
                .iter()
                .next()
                .and_then(|v| v.get::<gst::Structure>().ok()),
            Err(_) => stats.has_field("packets-sent").then(|| stats.clone()),
        };
        let connected = link.is_some();
        let caller_link = if stats.has_field("callers") {
            None
        } else {
            link.clone()
        };
        {
            let mut status = lock(&self.shared.status);
            status.srt = link.as_ref().map(srt_link_stats);
        }
        let state = if connected {
            OutputState::Connected
        } else {
            let current = lock(&self.shared.status).state;
            if current == OutputState::Connected {
                OutputState::Reconnecting
            } else {
                current
            }
        };
        self.set_state(state, None);
        caller_link
    }
}
