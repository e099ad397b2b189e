//! One input of a failover channel, run in its own pipeline so that its failure, restart or
//! odd timestamps never reach the programme: `input → deinterlace → scale to the programme
//! size → appsink` and `audio → S16 at the programme rate → appsink`, both feeding a `Feed` the
//! programme pump takes from. A failed input is re-opened with capped backoff.

use super::health::{Condition, Health, Thresholds};
use super::picture::{rms_dbfs, LumaGrid};
use super::playout::{PictureQueue, SoundQueue};
use super::ProgramFormat;
use crate::input::{self, InputPlan};
use crate::retry;
use crate::spec::{build_chain, ElementSpec};
use feedline_config::Input;
use feedline_v4l2::{DvTimings, Signal};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// The most an input may run ahead of the programme, in pictures and in sound: enough for the
/// burstiest sender measured (a third of a second, `playout`); the queues keep only what the
/// input's delivery needs.
const MOST_AHEAD: Duration = Duration::from_millis(500);
/// Audio kept ahead of the pump before it starts taking (jitter).
const AUDIO_PRIME: Duration = Duration::from_millis(40);
/// An input that delivered and then went quiet this long is re-opened. An SRT listener holds
/// a caller that vanished without a goodbye (power cut, cable pulled) until libsrt's 5 s peer
/// timeout, refusing the same caller when it comes back; and a decoder can stay wedged after
/// its sender restarts with new timestamps.
const STALL_REOPEN: Duration = Duration::from_secs(2);
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
/// How often a capture input's signal (DV timings) is checked: a cable pulled or a format
/// change is seen within this.
const SIGNAL_POLL: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// How an input delivers its pictures, which decides how they are played out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// A capture card or the test pattern: a picture per frame period, on the source's own
    /// clock, with nothing to de-jitter. Two pictures are queued, loss is counted on arrival,
    /// and off air only the freshest picture and sound are kept, so that nothing of it is
    /// held longer than the programme needs. This is how every input ran before the jitter
    /// buffer; with the jitter buffer, the appliance image's V4L2 test (an emulated capture
    /// host far slower than real time) failed in CI, the slate missing from the programme.
    Clocked,
    /// IP streams and files: pictures arrive in bursts and play out through the jitter buffer
    /// (`playout`), loss counted on the playout.
    Buffered,
}

impl Delivery {
    pub fn of(input: &Input) -> Self {
        match input {
            Input::V4l2 { .. } | Input::Decklink { .. } | Input::TestPattern { .. } => {
                Delivery::Clocked
            }
            _ => Delivery::Buffered,
        }
    }
}

/// A clocked input's pictures queued ahead of the pump: enough to ride out a frame of jitter,
/// few enough to add at most two frames of delay.
const CLOCKED_PICTURES: usize = 2;
/// The most sound a clocked input keeps in hand (beyond it the input's clock has drifted
/// ahead: the oldest half goes).
const CLOCKED_SOUND: Duration = Duration::from_millis(200);

/// What the switch and the status read of one input at a programme frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub condition: Condition,
    /// Times the input was re-opened.
    pub reopens: u64,
    pub signal: Option<Signal>,
    /// How long the input's pictures wait for air on average (the last 2 s): the delay its
    /// playout adds to absorb the way it delivers. Changes at most once a window, so the status
    /// is not rebuilt every frame.
    pub playout_delay_ms: u32,
    /// The video decoder of its current opening (shared, not copied, each frame).
    pub video_decoder: Option<Arc<str>>,
}

/// What an input delivered, waiting for the programme pump.
pub struct Feed {
    format: ProgramFormat,
    delivery: Delivery,
    state: Mutex<FeedState>,
    /// The video decoder of the input's current opening.
    pub video_decoder: Arc<crate::video_decoder::VideoDecoder>,
}

struct FeedState {
    pictures: PictureQueue<gst::Buffer>,
    last_picture: Option<gst::Buffer>,
    audio: SoundQueue,
    /// The time between the input's own pictures, from its caps; `None` when unknown or
    /// variable.
    picture_interval: Option<Duration>,
    health: Health,
    restarts: u64,
    last_error: Option<String>,
    /// What a capture input's receiver sees: a format, or a fault that makes the input lost
    /// whatever it delivers (a receiver with no signal may still hand out noise).
    signal: Option<Signal>,
}

impl Feed {
    fn new(format: ProgramFormat, delivery: Delivery) -> Self {
        let ahead = |d: Duration| {
            usize::try_from(format.frame_time(1))
                .ok()
                .filter(|&frame| frame > 0)
                .map_or(2, |frame| d.as_nanos() as usize / frame)
        };
        let (pictures, sound) = match delivery {
            Delivery::Clocked => (CLOCKED_PICTURES, CLOCKED_SOUND),
            Delivery::Buffered => (ahead(MOST_AHEAD), MOST_AHEAD),
        };
        Feed {
            format,
            delivery,
            state: Mutex::new(FeedState {
                pictures: PictureQueue::new(pictures),
                last_picture: None,
                audio: SoundQueue::new(
                    format.audio_frame_bytes(),
                    format.audio_bytes(AUDIO_PRIME),
                    format.audio_bytes(sound),
                ),
                picture_interval: None,
                health: Health::default(),
                restarts: 0,
                last_error: None,
                signal: None,
            }),
            video_decoder: Arc::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the switch and the status read of this input at a frame, under one lock.
    ///
    /// The condition is judged against `t`, with `no_data` counted from when the input's next
    /// picture was due: an input slower than the programme (a 15 fps camera into 30 fps) leaves
    /// frames without a new picture as a matter of course.
    pub fn reading(&self, now: Instant, t: &Thresholds) -> Reading {
        let s = self.state();
        let programme_frame = Duration::from_nanos(self.format.frame_time(1));
        let t = Thresholds {
            no_data: t.no_data
                + s.picture_interval
                    .map_or(Duration::ZERO, |i| i.saturating_sub(programme_frame)),
            ..*t
        };
        let mut condition = s.health.condition(now, &t);
        condition.signal = s.signal.as_ref().and_then(Signal::fault);
        let frame_ns = self.format.frame_time(1) as f64;
        Reading {
            condition,
            reopens: s.restarts,
            signal: s.signal.clone(),
            playout_delay_ms: (s.pictures.mean_wait_frames() * frame_ns / 1e6) as u32,
            video_decoder: self.video_decoder.name(),
        }
    }

    /// The capture signal; `None` for inputs without DV timings. (No allocation: the pump
    /// reads it every frame.)
    pub fn signal(&self) -> Option<Signal> {
        self.state().signal.clone()
    }

    fn set_signal(&self, signal: Option<&Signal>) {
        self.state().signal = signal.cloned();
    }

    pub fn last_error(&self) -> Option<String> {
        self.state().last_error.clone()
    }

    /// One programme frame of this input: its next picture (else the last one again: a late
    /// picture is held, not shown as a gap) and exactly `bytes` of its sound. A buffered input
    /// plays out every frame, on air or not, so that taking it to air shows it at the delay it
    /// already runs with, and its health counts what it would have aired. A clocked input off
    /// air keeps only its freshest picture and sound, and gives nothing.
    pub fn play_frame(&self, bytes: usize, on_air: bool) -> (Option<gst::Buffer>, Vec<u8>) {
        let mut s = self.state();
        if self.delivery == Delivery::Clocked && !on_air {
            if let Some(p) = s.pictures.keep_newest() {
                s.last_picture = Some(p);
            }
            s.audio
                .keep_newest(2 * self.format.audio_bytes(AUDIO_PRIME));
            return (None, Vec::new());
        }
        let picture = match s.pictures.take() {
            Some(p) => {
                if self.delivery == Delivery::Buffered {
                    s.health.aired_new_picture(Instant::now());
                }
                s.last_picture = Some(p.clone());
                Some(p)
            }
            None => s.last_picture.clone(),
        };
        (picture, s.audio.take(bytes))
    }

    fn picture(&self, buffer: gst::Buffer, grid: LumaGrid) {
        let now = Instant::now();
        let mut s = self.state();
        s.health.picture(now, grid);
        if self.delivery == Delivery::Clocked {
            // Counted on arrival: a clocked input's pictures go to air as they come.
            s.health.aired_new_picture(now);
        }
        if let Some(oldest) = s.pictures.push(buffer) {
            s.last_picture = Some(oldest);
        }
    }

    /// The input's picture rate, as its caps give it (`0/1`: variable or unknown).
    fn picture_rate(&self, num: i32, den: i32) {
        self.state().picture_interval = (num > 0 && den > 0)
            .then(|| Duration::from_nanos(1_000_000_000 * den as u64 / num as u64));
    }

    fn audio(&self, samples: &[u8]) {
        let level = rms_dbfs(samples);
        let mut s = self.state();
        s.health.audio(Instant::now(), level);
        s.audio.push(samples);
    }

    fn reopened(&self, error: Option<String>) {
        let mut s = self.state();
        s.restarts += 1;
        if error.is_some() {
            s.last_error = error;
        }
        s.health.reset();
        s.pictures.clear();
        s.audio.clear();
    }

    fn last_picture_at(&self) -> Option<Instant> {
        self.state().health.last_picture()
    }
}

/// Which input of the channel this is, for names, logs and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Primary,
    Backup,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Backup => "backup",
        }
    }
}

pub struct InputSource {
    pub role: Role,
    pub kind: &'static str,
    pub feed: Arc<Feed>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl InputSource {
    pub fn start(channel: &str, role: Role, input: &Input, format: ProgramFormat) -> Self {
        let feed = Arc::new(Feed::new(format, Delivery::of(input)));
        let stop = Arc::new(AtomicBool::new(false));
        let prefix = format!("{channel}-{}", role.as_str());
        let opening = Opening {
            input: input.clone(),
            capture_device: match input {
                Input::V4l2 { device, .. } => Some(device.clone()),
                _ => None,
            },
            // Capture cards and streams may be interlaced; the test pattern never is.
            deinterlace: !matches!(input, Input::TestPattern { .. }),
            prefix,
        };
        let (f, s) = (feed.clone(), stop.clone());
        let name = channel.to_string();
        let thread = std::thread::Builder::new()
            .name(format!("in-{}", opening.prefix))
            .spawn(move || supervise(&name, role, &opening, &f, &s))
            .ok();
        InputSource {
            role,
            kind: input.kind(),
            feed,
            stop,
            thread,
        }
    }
}

impl Drop for InputSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How to open an input.
struct Opening {
    prefix: String,
    input: Input,
    /// A V4L2 device whose signal (DV timings) is watched.
    capture_device: Option<PathBuf>,
    deinterlace: bool,
}

/// How an opened input stopped without failing.
enum Closed {
    /// The channel is stopping.
    Stopped,
    /// The sender left (an SRT caller hung up) or went quiet: not a fault of ours.
    Ended,
    /// The capture signal went away, or came back in another format: re-open to follow it.
    SignalChanged,
}

fn supervise(channel: &str, role: Role, opening: &Opening, feed: &Arc<Feed>, stop: &AtomicBool) {
    let mut failures: u32 = 0;
    while !stop.load(Ordering::SeqCst) {
        let watched = opening.capture_device.as_deref().map(watch_signal);
        if let Some(seen) = &watched {
            feed.set_signal(seen.as_ref());
        }
        let signal = match watched {
            Some(Some(Signal::Locked(t))) => Some(t),
            // No signal: nothing to open. The input counts as lost until one locks.
            Some(Some(_)) => {
                retry::sleep_unless_stopped(stop, SIGNAL_POLL);
                continue;
            }
            Some(None) | None => None,
        };
        let opened = Instant::now();
        match run_once(opening, signal.as_ref(), feed, stop) {
            Ok(Closed::Stopped) => break,
            Ok(Closed::SignalChanged) => {
                info!(
                    channel,
                    input = role.as_str(),
                    signal = feed
                        .signal()
                        .map(|s| s.describe())
                        .as_deref()
                        .unwrap_or("none"),
                    "capture signal changed; re-opening this input only"
                );
                feed.reopened(None);
                failures = 0;
            }
            Ok(Closed::Ended) => {
                // Be listening again at once, so that the sender can come straight back.
                info!(
                    channel,
                    input = role.as_str(),
                    "input ended or went quiet; re-opening"
                );
                feed.reopened(None);
                failures = 0;
                retry::sleep_unless_stopped(stop, Duration::from_millis(50));
            }
            Err(error) => {
                if opened.elapsed() > STALL_REOPEN {
                    failures = 0;
                }
                let wait = retry::backoff(BACKOFF_FIRST, BACKOFF_CAP, failures);
                failures += 1;
                warn!(channel, input = role.as_str(), error = %error, retry_in_ms = wait.as_millis() as u64, "input failed; re-opening");
                feed.reopened(Some(error));
                retry::sleep_unless_stopped(stop, wait);
            }
        }
    }
}

/// Reads a capture device's signal before opening it, and sets the device to the detected
/// format. `None`: the device has no DV timings (or cannot be asked); open it as configured.
fn watch_signal(device: &Path) -> Option<Signal> {
    match feedline_v4l2::adopt(device) {
        Ok(signal) => signal,
        Err(error) => {
            tracing::debug!(device = %device.display(), %error, "no DV timings");
            None
        }
    }
}

/// Runs the input's pipeline until it closes (`Ok`) or fails (`Err`, the reason).
fn run_once(
    opening: &Opening,
    signal: Option<&DvTimings>,
    feed: &Arc<Feed>,
    stop: &AtomicBool,
) -> Result<Closed, String> {
    let pipeline = gst::Pipeline::with_name(&format!("input-{}", opening.prefix));
    // Each opening picks its decoder afresh (the stream may have changed).
    feed.video_decoder.forget();
    crate::video_decoder::watch(
        pipeline.upcast_ref(),
        feed.video_decoder.clone(),
        &opening.prefix,
    );
    let mut file_source = None;
    let result = play(&pipeline, opening, signal, feed, stop, &mut file_source);
    let _ = pipeline.set_state(gst::State::Null);
    // After the pipeline: its appsrcs, now flushing, release a push the file's thread is in.
    drop(file_source);
    result
}

fn play(
    pipeline: &gst::Pipeline,
    opening: &Opening,
    signal: Option<&DvTimings>,
    feed: &Arc<Feed>,
    stop: &AtomicBool,
    file_source: &mut Option<crate::file_source::FileSource>,
) -> Result<Closed, String> {
    let bin = pipeline.upcast_ref::<gst::Bin>();
    let prefix = opening.prefix.as_str();
    let video = build_chain(bin, &video_tail(prefix, &feed.format, opening.deinterlace))
        .map_err(|e| e.to_string())?;
    let audio = build_chain(bin, &audio_tail(prefix, &feed.format)).map_err(|e| e.to_string())?;
    attach_sinks(&video, &audio, feed)?;
    match &input::plan_for_signal(&opening.input, prefix, signal) {
        InputPlan::Raw { video: v, audio: a } => {
            let vsrc = build_chain(bin, v).map_err(|e| e.to_string())?;
            let asrc = build_chain(bin, a).map_err(|e| e.to_string())?;
            link(vsrc.last(), &video[0])?;
            link(asrc.last(), &audio[0])?;
        }
        InputPlan::Decoded { source } => {
            let src = build_chain(bin, source).map_err(|e| e.to_string())?;
            let decoder = src.last().cloned().ok_or("empty input")?;
            link_decoded(&decoder, &video[0], &audio[0]);
        }
        InputPlan::File {
            path,
            loop_playback,
            ..
        } => {
            // Decoded in its own thread for as long as this pipeline plays.
            *file_source = Some(play_file(
                bin,
                prefix,
                path,
                *loop_playback,
                &video,
                &audio,
                feed.video_decoder.clone(),
            )?);
        }
    }
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| first_error(pipeline).unwrap_or_else(|| "input refused to start".into()))?;
    info!(input = prefix, "input opened");
    let bus = pipeline.bus().ok_or("input has no bus")?;
    let mut signal_checked = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        if let Some(device) = &opening.capture_device {
            if signal_checked.elapsed() >= SIGNAL_POLL {
                signal_checked = Instant::now();
                // Also when the input was opened without a reading (the device node appeared
                // before udev let us at it): the first reading re-opens it at its format.
                if let Ok(Some(now)) = feedline_v4l2::query(device) {
                    let changed = now.timings() != signal;
                    feed.set_signal(Some(&now));
                    if changed {
                        return Ok(Closed::SignalChanged);
                    }
                }
            }
        }
        if feed
            .last_picture_at()
            .is_some_and(|at| at.elapsed() > STALL_REOPEN)
        {
            return Ok(Closed::Ended);
        }
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Error(err) => return Err(crate::bus::error_text(err)),
            gst::MessageView::Eos(_) => return Ok(Closed::Ended),
            _ => {}
        }
    }
    Ok(Closed::Stopped)
}

/// `appsrc ! clocksync` for the file's pictures and sound, fed by a `FileSource`: a backup
/// file plays in real time (looped if asked), as a live input would deliver.
fn play_file(
    bin: &gst::Bin,
    prefix: &str,
    path: &Path,
    loop_playback: bool,
    video: &[gst::Element],
    audio: &[gst::Element],
    decoder: Arc<crate::video_decoder::VideoDecoder>,
) -> Result<crate::file_source::FileSource, String> {
    let (video_src, audio_src) = crate::file_source::appsrc_specs(prefix);
    let paced = |src: ElementSpec, kind: &str, head: &gst::Element| {
        let chain = build_chain(
            bin,
            &[
                src,
                ElementSpec::new("clocksync", format!("{prefix}-{kind}-pace")),
            ],
        )
        .map_err(|e| e.to_string())?;
        link(chain.last(), head)?;
        chain[0]
            .clone()
            .downcast::<gst_app::AppSrc>()
            .map_err(|_| "appsrc".to_string())
    };
    let video_src = paced(video_src, "video", &video[0])?;
    let audio_src = paced(audio_src, "audio", &audio[0])?;
    Ok(crate::file_source::FileSource::start(
        path,
        loop_playback,
        video_src,
        audio_src,
        decoder,
    ))
}

fn first_error(pipeline: &gst::Pipeline) -> Option<String> {
    let bus = pipeline.bus()?;
    crate::bus::pop_error(&bus).map(|(_, reason)| reason)
}

fn link(src: Option<&gst::Element>, sink: &gst::Element) -> Result<(), String> {
    let src = src.ok_or("empty chain")?;
    src.link(sink)
        .map_err(|e| format!("{} ! {}: {e}", src.name(), sink.name()))
}

fn video_tail(prefix: &str, f: &ProgramFormat, deinterlace: bool) -> Vec<ElementSpec> {
    let mut chain = Vec::new();
    if deinterlace {
        chain.push(ElementSpec::new(
            "deinterlace",
            format!("{prefix}-deinterlace"),
        ));
    }
    chain.extend([
        // The pump takes one picture per programme frame: a faster input (1080p60 or a
        // deinterlaced 1080i50 into a 30 fps programme) is thinned before it is converted and
        // scaled, not after.
        ElementSpec::new("videorate", format!("{prefix}-rate"))
            .prop("drop-only", true)
            .prop("max-rate", f.rate_num.div_ceil(f.rate_den.max(1)) as i32),
        ElementSpec::new("videoconvert", format!("{prefix}-convert")),
        // A picture of another aspect ratio is letterboxed or pillarboxed, never stretched.
        ElementSpec::new("videoscale", format!("{prefix}-scale")).prop("add-borders", true),
        ElementSpec::caps(format!("{prefix}-video-caps"), f.video_caps_without_rate()),
        ElementSpec::new("appsink", format!("{prefix}-video-sink"))
            .prop("sync", false)
            .prop("max-buffers", 4)
            .prop("drop", true),
    ]);
    chain
}

fn audio_tail(prefix: &str, f: &ProgramFormat) -> Vec<ElementSpec> {
    vec![
        ElementSpec::new("audioconvert", format!("{prefix}-audio-convert")),
        ElementSpec::new("audioresample", format!("{prefix}-audio-resample")),
        ElementSpec::caps(format!("{prefix}-audio-caps"), f.audio_caps()),
        ElementSpec::new("appsink", format!("{prefix}-audio-sink"))
            .prop("sync", false)
            .prop("max-buffers", 50)
            .prop("drop", true),
    ]
}

fn attach_sinks(
    video: &[gst::Element],
    audio: &[gst::Element],
    feed: &Arc<Feed>,
) -> Result<(), String> {
    let as_sink = |chain: &[gst::Element]| {
        chain
            .last()
            .cloned()
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| "appsink".to_string())
    };
    let mut video_info: Option<(gst::Caps, gst_video::VideoInfo)> = None;
    let f = feed.clone();
    as_sink(video)?.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                // The caps change only with the input's frame rate: parse them once per change,
                // not once per picture.
                if let Some(caps) = sample.caps() {
                    if video_info
                        .as_ref()
                        .is_none_or(|(known, _)| known.as_ref() != caps)
                    {
                        video_info = gst_video::VideoInfo::from_caps(caps)
                            .ok()
                            .map(|info| (caps.to_owned(), info));
                        if let Some((_, info)) = &video_info {
                            f.picture_rate(info.fps().numer(), info.fps().denom());
                        }
                    }
                }
                let grid =
                    video_info
                        .as_ref()
                        .zip(sample.buffer())
                        .and_then(|((_, info), buffer)| {
                            let frame =
                                gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, info)
                                    .ok()?;
                            let luma = frame.plane_data(0).ok()?;
                            Some(LumaGrid::sample(
                                luma,
                                frame.plane_stride()[0] as usize,
                                info.width() as usize,
                                info.height() as usize,
                            ))
                        });
                if let (Some(buffer), Some(grid)) = (sample.buffer_owned(), grid) {
                    f.picture(buffer, grid);
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    let f = feed.clone();
    as_sink(audio)?.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                if let Some(map) = sample.buffer().and_then(|b| b.map_readable().ok()) {
                    f.audio(map.as_slice());
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    Ok(())
}

/// Links decodebin's first raw video and audio pads as they appear; an input without audio
/// leaves the audio tail unlinked, and the pump plays silence for it.
fn link_decoded(decoder: &gst::Element, video_head: &gst::Element, audio_head: &gst::Element) {
    let (Some(video_sink), Some(audio_sink)) =
        (video_head.static_pad("sink"), audio_head.static_pad("sink"))
    else {
        return;
    };
    decoder.connect_pad_added(move |_, pad| {
        let Some((target, kind)) =
            crate::decoded_pads::decoded_target(pad, &video_sink, &audio_sink)
        else {
            return;
        };
        if !target.is_linked() {
            if let Err(e) = pad.link(target) {
                warn!(%kind, error = ?e, "cannot link decoded stream");
            }
        }
    });
}
