//! The frame synchroniser of a failover channel: a programme clock that puts exactly one
//! picture and one frame's worth of audio on air per frame, taken from the primary input, the
//! backup input or the slate, whichever the selector picks.
//!
//! Timestamps are made here, on the channel pipeline's clock, never taken from an input: so a
//! lost, restarted or re-timed input can only change *what* is on air, never the programme's
//! timing. PTS run on monotonically, the caps never change, and the encoders and muxers
//! downstream never see a gap, a flush or a discontinuity.

mod health;
mod picture;
mod playout;
mod selector;
mod slate;
mod source;

use crate::spec::ElementSpec;
use crate::status::{FailoverInput, FailoverStatus, SwitchRecord, SWITCHES_KEPT};
use feedline_config::{Channel, Failover};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use health::Thresholds;
use selector::{Selector, Source};
use source::{InputSource, Reading, Role};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// The programme's raw format: every input is converted to it before the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramFormat {
    pub width: u32,
    pub height: u32,
    pub rate_num: u32,
    pub rate_den: u32,
    pub sample_rate: u32,
    pub channels: u32,
}

impl ProgramFormat {
    /// The ladder's largest picture at its highest frame rate; the channel's audio format.
    pub fn of(channel: &Channel) -> Self {
        let (width, height) = channel
            .ladder
            .iter()
            .map(|r| (r.width, r.height))
            .max_by_key(|(w, h)| u64::from(*w) * u64::from(*h))
            .unwrap_or((1920, 1080));
        let rate = channel.channel_frame_rate();
        ProgramFormat {
            width,
            height,
            rate_num: rate.num,
            rate_den: rate.den,
            sample_rate: channel.audio.sample_rate,
            channels: channel.audio.channels,
        }
    }

    fn video_caps_without_rate(&self) -> String {
        format!(
            "video/x-raw,format=I420,width={},height={},pixel-aspect-ratio=1/1",
            self.width, self.height
        )
    }

    fn video_caps(&self) -> String {
        format!(
            "{},framerate={}/{},interlace-mode=progressive",
            self.video_caps_without_rate(),
            self.rate_num,
            self.rate_den
        )
    }

    fn audio_caps(&self) -> String {
        let mask = if self.channels > 2 {
            ",channel-mask=(bitmask)0x0"
        } else {
            ""
        };
        format!(
            "audio/x-raw,format=S16LE,layout=interleaved,rate={},channels={}{mask}",
            self.sample_rate, self.channels
        )
    }

    /// Bytes of one sample on every channel.
    fn audio_frame_bytes(&self) -> usize {
        2 * self.channels as usize
    }

    fn audio_bytes(&self, d: Duration) -> usize {
        (d.as_micros() as usize * self.sample_rate as usize / 1_000_000) * self.audio_frame_bytes()
    }

    /// Programme time of frame `n`, in ns from the first frame.
    fn frame_time(&self, n: u64) -> u64 {
        mul_div(
            n,
            1_000_000_000 * u64::from(self.rate_den),
            u64::from(self.rate_num),
        )
    }

    /// Audio samples due by the end of frame `n` (exact over any number of frames, so
    /// 29.97 fps alternates 1601/1602 samples and never drifts).
    fn samples_through(&self, n: u64) -> u64 {
        mul_div(
            n + 1,
            u64::from(self.sample_rate) * u64::from(self.rate_den),
            u64::from(self.rate_num),
        )
    }
}

fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    (u128::from(a) * u128::from(b) / u128::from(c.max(1))) as u64
}

/// The channel's appsrcs for the programme's raw video and audio.
pub fn appsrc_specs(prefix: &str, format: &ProgramFormat) -> (ElementSpec, ElementSpec) {
    let src = |name: String, caps: String| {
        ElementSpec::new("appsrc", name)
            .prop("caps", caps)
            .prop("format", "time")
            .prop("is-live", true)
            .prop("do-timestamp", false)
            .prop("max-buffers", 8)
            // If the encoders ever fall behind, the oldest pictures go, not the newest.
            .prop("leaky-type", "downstream")
    };
    (
        src(format!("{prefix}-programme-video"), format.video_caps()),
        src(format!("{prefix}-programme-audio"), format.audio_caps()),
    )
}

/// What survives a pipeline rebuild: the status readers see, the switch log, and a pending
/// revert request.
#[derive(Default)]
pub struct FailoverShared {
    status: Mutex<Option<FailoverStatus>>,
    revert: AtomicBool,
    seq: AtomicU64,
}

impl FailoverShared {
    pub fn status(&self) -> Option<FailoverStatus> {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Asks the switch to go back to the primary input at its next frame, if the primary is
    /// healthy.
    pub fn request_revert(&self) {
        self.revert.store(true, Ordering::SeqCst);
    }

    fn update(&self, f: impl FnOnce(&mut FailoverStatus)) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(status) = s.as_mut() {
            f(status);
        }
    }
}

pub struct FrameSync {
    stop: Arc<AtomicBool>,
    pump: Option<JoinHandle<()>>,
}

impl FrameSync {
    pub fn start(
        channel: &Channel,
        failover: &Failover,
        video: gst_app::AppSrc,
        audio: gst_app::AppSrc,
        pipeline: &gst::Pipeline,
        shared: Arc<FailoverShared>,
    ) -> Self {
        let format = ProgramFormat::of(channel);
        let mut inputs = vec![InputSource::start(
            &channel.name,
            Role::Primary,
            &channel.input,
            format,
        )];
        if let Some(backup) = &failover.backup {
            inputs.push(InputSource::start(
                &channel.name,
                Role::Backup,
                backup,
                format,
            ));
        }
        {
            let mut status = shared.status.lock().unwrap_or_else(|p| p.into_inner());
            let switches = status.take().map(|s| s.switches).unwrap_or_default();
            *status = Some(FailoverStatus {
                active: Source::Slate.as_str().into(),
                slate: failover.slate.kind().into(),
                inputs: Vec::new(),
                switches,
            });
        }
        let stop = Arc::new(AtomicBool::new(false));
        let pump = Pump {
            channel: channel.name.clone(),
            format,
            thresholds: Thresholds::from_config(failover),
            selector: Selector::new(
                (failover.revert_after_s > 0)
                    .then(|| Duration::from_secs(u64::from(failover.revert_after_s))),
            ),
            slate: slate::Slate::prepare(&failover.slate, &format),
            inputs,
            video,
            audio,
            pipeline: pipeline.downgrade(),
            shared,
            stop: stop.clone(),
            published: [None, None],
        };
        let pump = std::thread::Builder::new()
            .name(format!("sync-{}", channel.name))
            .spawn(move || pump.run())
            .ok();
        FrameSync { stop, pump }
    }
}

impl Drop for FrameSync {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.pump.take() {
            let _ = t.join();
        }
    }
}

struct Pump {
    channel: String,
    format: ProgramFormat,
    thresholds: Thresholds,
    selector: Selector,
    slate: slate::Slate,
    inputs: Vec<InputSource>,
    video: gst_app::AppSrc,
    audio: gst_app::AppSrc,
    pipeline: gst::glib::WeakRef<gst::Pipeline>,
    shared: Arc<FailoverShared>,
    stop: Arc<AtomicBool>,
    /// What was last published of each input (primary, backup).
    published: [Option<Reading>; 2],
}

impl Pump {
    /// The pipeline's clock and base time, once it plays (live appsrcs let it play at once).
    fn wait_for_clock(&self) -> Option<(gst::Clock, gst::ClockTime)> {
        while !self.stop.load(Ordering::SeqCst) {
            let pipeline = self.pipeline.upgrade()?;
            // The pipeline hands out its clock as it goes to PLAYING, with the base time.
            if let (Some(clock), Some(base)) = (pipeline.clock(), pipeline.base_time()) {
                return Some((clock, base));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    fn run(mut self) {
        let Some((clock, base)) = self.wait_for_clock() else {
            return;
        };
        let frame_ns = self.format.frame_time(1);
        // The first frame is due one frame from now: time to make it.
        let start = clock.time().nseconds() - base.nseconds() + frame_ns;
        let mut n: u64 = 0;
        let mut samples_sent: u64 = 0;
        let mut last_on_air: Option<gst::Buffer> = None;
        while !self.stop.load(Ordering::SeqCst) {
            let pts = start + self.format.frame_time(n);
            let due = gst::ClockTime::from_nseconds(base.nseconds() + pts);
            let now = clock.time().nseconds();
            if now < due.nseconds() {
                let _ = clock.new_single_shot_id(due).wait();
            } else if now > due.nseconds() + 5 * frame_ns {
                // Starved of CPU: skip the frames that are already too late rather than
                // sending a burst.
                let behind = (now - due.nseconds()) / frame_ns;
                warn!(channel = %self.channel, frames = behind, "programme clock ran late; skipping frames");
                n += behind;
                samples_sent = self.format.samples_through(n - 1);
                continue;
            }
            self.decide();
            let on_air = role_of(self.selector.active());
            let bytes = (self.format.samples_through(n) - samples_sent) as usize
                * self.format.audio_frame_bytes();
            let mut aired = None;
            for input in &self.inputs {
                let frame = input.feed.play_frame(bytes, Some(input.role) == on_air);
                if Some(input.role) == on_air {
                    aired = Some(frame);
                }
            }
            let (picture, sound) = match aired {
                Some((picture, sound)) => {
                    last_on_air.clone_from(&picture);
                    (picture, sound)
                }
                None => (self.slate.picture(last_on_air.as_ref()), vec![0; bytes]),
            };
            // An input that has never delivered a picture has none to hold: the slate.
            let picture = picture.or_else(|| self.slate.picture(last_on_air.as_ref()));
            if let Some(picture) = picture {
                let mut picture = picture;
                let b = picture.make_mut();
                b.set_pts(gst::ClockTime::from_nseconds(pts));
                b.set_dts(gst::ClockTime::NONE);
                b.set_duration(gst::ClockTime::from_nseconds(frame_ns));
                if self.video.push_buffer(picture).is_err() {
                    break;
                }
            }
            let audio_pts = start
                + mul_div(
                    samples_sent,
                    1_000_000_000,
                    u64::from(self.format.sample_rate),
                );
            let count = sound.len() / self.format.audio_frame_bytes();
            let mut buffer = gst::Buffer::from_mut_slice(sound);
            if let Some(b) = buffer.get_mut() {
                b.set_pts(gst::ClockTime::from_nseconds(audio_pts));
                b.set_duration(gst::ClockTime::from_nseconds(mul_div(
                    count as u64,
                    1_000_000_000,
                    u64::from(self.format.sample_rate),
                )));
            }
            samples_sent += count as u64;
            if self.audio.push_buffer(buffer).is_err() {
                break;
            }
            n += 1;
        }
    }

    /// Judges each input and moves the switch; publishes the status.
    fn decide(&mut self) {
        let now = Instant::now();
        let judged = |input: &InputSource| input.feed.reading(now, &self.thresholds);
        let seen = [
            self.inputs.first().map(judged),
            self.inputs.get(1).map(judged),
        ];
        let Some(primary) = &seen[0] else {
            return;
        };
        let revert = self.shared.revert.swap(false, Ordering::SeqCst);
        let switch = self.selector.step(
            now,
            &primary.condition,
            seen[1].as_ref().map(|r| &r.condition),
            revert,
        );
        // Once a frame, but the status readers see is rebuilt only when something in it changed.
        if switch.is_none() && seen == self.published {
            return;
        }
        self.published = seen.clone();
        let inputs: Vec<FailoverInput> = self
            .inputs
            .iter()
            .zip(seen.iter().flatten())
            .map(|(input, r)| FailoverInput {
                role: input.role.as_str().into(),
                kind: input.kind.into(),
                confidence: r.condition.confidence(),
                fault: r.condition.fault().map(str::to_string),
                reopens: r.reopens,
                signal: r.signal.as_ref().map(feedline_v4l2::Signal::describe),
                playout_delay_ms: r.playout_delay_ms,
                video_decoder: r.video_decoder.as_deref().map(str::to_string),
                last_error: input.feed.last_error(),
            })
            .collect();
        let active = self.selector.active().as_str();
        let record = switch.map(|sw| {
            info!(channel = %self.channel, from = sw.from.as_str(), to = sw.to.as_str(), reason = %sw.reason, "input switch");
            SwitchRecord {
                seq: self.shared.seq.fetch_add(1, Ordering::SeqCst) + 1,
                at_unix_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0),
                from: sw.from.as_str().into(),
                to: sw.to.as_str().into(),
                reason: sw.reason,
            }
        });
        self.shared.update(|s| {
            s.active = active.into();
            s.inputs = inputs;
            if let Some(r) = record {
                s.switches.push(r);
                let excess = s.switches.len().saturating_sub(SWITCHES_KEPT);
                s.switches.drain(..excess);
            }
        });
    }
}

fn role_of(source: Source) -> Option<Role> {
    match source {
        Source::Primary => Some(Role::Primary),
        Source::Backup => Some(Role::Backup),
        Source::Slate => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(num: u32, den: u32) -> ProgramFormat {
        ProgramFormat {
            width: 640,
            height: 360,
            rate_num: num,
            rate_den: den,
            sample_rate: 48_000,
            channels: 2,
        }
    }

    #[test]
    fn ntsc_rate_audio_alternates_and_never_drifts() {
        let f = format(30_000, 1001);
        let per_frame: Vec<u64> = (0..5)
            .map(|n| f.samples_through(n) - if n == 0 { 0 } else { f.samples_through(n - 1) })
            .collect();
        assert!(
            per_frame.iter().all(|&s| s == 1601 || s == 1602),
            "{per_frame:?}"
        );
        // 30000 frames are exactly 1001 s.
        assert_eq!(f.samples_through(29_999), 48_000 * 1001);
        assert_eq!(f.frame_time(30_000), 1_001_000_000_000);
    }

    #[test]
    fn the_programme_is_the_largest_rung_at_the_highest_rate() {
        let mut channel = Channel::default_test_pattern();
        channel.ladder.reverse();
        let f = ProgramFormat::of(&channel);
        assert_eq!(
            (f.width, f.height, f.rate_num, f.rate_den),
            (1920, 1080, 30, 1)
        );
        assert_eq!(
            f.video_caps(),
            "video/x-raw,format=I420,width=1920,height=1080,pixel-aspect-ratio=1/1,framerate=30/1,interlace-mode=progressive"
        );
        assert_eq!(
            f.audio_caps(),
            "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2"
        );
        assert_eq!(f.audio_bytes(Duration::from_millis(40)), 1920 * 4);
    }
}
