//! Counters the running pipeline updates from pad probes, read by `ChannelRunner::status`.
//!
//! They live as long as the channel runner, not the pipeline, so they keep counting across
//! pipeline rebuilds: Prometheus counters must never go backwards while the process lives.

use crate::confidence::ConfidenceMonitor;
use crate::encode_latency::EncodeLatency;
use crate::lock;
use crate::status::{InputStatus, RenditionStatus};
use feedline_config::Channel;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// No picture for this long and the input counts as lost.
const SIGNAL_TIMEOUT: Duration = Duration::from_secs(1);
/// No sound from a watched input for this long while its pictures arrive and its sound counts
/// as missing. A TS carries sound in PES packets of a few hundred milliseconds at most.
const SOUND_TIMEOUT: Duration = Duration::from_secs(1);
/// "Never" for the atomic timestamps below.
const NONE: u64 = u64::MAX;

/// Updated on the streaming thread for every picture, so only atomics there: no lock, no
/// allocation. The format string is built once per caps event, not per frame.
struct InputMeter {
    frames: AtomicU64,
    /// Nanoseconds since the meter was created; `NONE` before the first picture.
    last_frame_ns: AtomicU64,
    /// When the current run of pictures began (the first picture after a loss of signal).
    signal_since_ns: AtomicU64,
    /// Whether the input's own sound is watched (a network input's decoded sound: other inputs'
    /// sound is made by Feedline and cannot go missing).
    sound_watched: std::sync::atomic::AtomicBool,
    /// The latest of the input's own sound; `NONE` before the first.
    last_sound_ns: AtomicU64,
    /// The latest picture's timecode, packed by `pack_timecode`; `NONE` before the first.
    timecode: AtomicU64,
    format: Mutex<Option<String>>,
}

struct RungMeter {
    name: String,
    frame_ns: u64,
    frames: AtomicU64,
    bytes: AtomicU64,
    dropped: AtomicU64,
    /// `NONE` until the first frame after a (re)start.
    last_pts: AtomicU64,
    /// The encoder the running pipeline picked: (backend, element factory).
    encoder: Mutex<Option<(&'static str, &'static str)>>,
    /// How long its pictures spend in that encoder.
    encode: EncodeLatency,
}

pub struct ChannelMeter {
    /// Picture and audio levels for the operator's eyes and ears.
    pub confidence: Arc<ConfidenceMonitor>,
    /// The failover switch's state, kept across pipeline rebuilds.
    pub failover: Arc<crate::frame_sync::FailoverShared>,
    /// The programme frames waiting in front of the ladder (a live channel's late-frames queue).
    pub backlog: Arc<crate::late_frames::Backlog>,
    /// The video decoder a channel without failover decodes its input with (a failover
    /// input's own is in its failover status).
    pub video_decoder: Arc<crate::video_decoder::VideoDecoder>,
    born: Instant,
    input: InputMeter,
    rungs: Vec<RungMeter>,
}

impl ChannelMeter {
    pub fn new(channel: &Channel) -> Arc<Self> {
        Arc::new(ChannelMeter {
            confidence: Arc::default(),
            failover: Arc::default(),
            backlog: Arc::default(),
            video_decoder: Arc::default(),
            born: Instant::now(),
            input: InputMeter {
                frames: AtomicU64::new(0),
                last_frame_ns: AtomicU64::new(NONE),
                signal_since_ns: AtomicU64::new(NONE),
                sound_watched: std::sync::atomic::AtomicBool::new(false),
                last_sound_ns: AtomicU64::new(NONE),
                timecode: AtomicU64::new(NONE),
                format: Mutex::new(None),
            },
            rungs: channel
                .ladder
                .iter()
                .map(|r| RungMeter {
                    name: r.name.clone(),
                    frame_ns: 1_000_000_000 * r.frame_rate.den as u64
                        / r.frame_rate.num.max(1) as u64,
                    frames: AtomicU64::new(0),
                    bytes: AtomicU64::new(0),
                    dropped: AtomicU64::new(0),
                    last_pts: AtomicU64::new(NONE),
                    encoder: Mutex::new(None),
                    encode: EncodeLatency::default(),
                })
                .collect(),
        })
    }

    /// Watches the stamped picture entering the ladder: signal, timecode, format.
    pub fn watch_input(self: &Arc<Self>, pad: &gst::Pad) {
        let meter = self.clone();
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(buffer) = info.buffer() {
                let m = &meter.input;
                m.frames.fetch_add(1, Ordering::Relaxed);
                let now = meter.born.elapsed().as_nanos() as u64;
                let prev = m.last_frame_ns.swap(now, Ordering::Relaxed);
                if prev == NONE || now.saturating_sub(prev) >= SIGNAL_TIMEOUT.as_nanos() as u64 {
                    m.signal_since_ns.store(now, Ordering::Relaxed);
                }
                if let Some(meta) = buffer.meta::<gst_video::VideoTimeCodeMeta>() {
                    m.timecode
                        .store(pack_timecode(&meta.tc()), Ordering::Relaxed);
                }
            }
            gst::PadProbeReturn::Ok
        });
        let meter = self.clone();
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let Some(gst::EventView::Caps(caps)) = info.event().map(|e| e.view()) {
                *lock(&meter.input.format) = describe_caps(caps.caps());
            }
            gst::PadProbeReturn::Ok
        });
    }

    /// The channel expects sound from its input (a network input's, which may never come or
    /// stop): from now on the status says when it is missing while the pictures arrive, also
    /// for an input that never brings an audio stream.
    pub fn expect_input_sound(&self) {
        self.input.sound_watched.store(true, Ordering::Relaxed);
    }

    /// Watches the input's own sound where it enters the channel (`pad` carries nothing else).
    pub fn watch_input_sound(self: &Arc<Self>, pad: &gst::Pad) {
        let meter = self.clone();
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            let now = meter.born.elapsed().as_nanos() as u64;
            meter.input.last_sound_ns.store(now, Ordering::Relaxed);
            gst::PadProbeReturn::Ok
        });
    }

    /// Which encoder the pipeline built for rung `index` (`auto` resolves per build: a GPU
    /// that has gone makes the next build fall back).
    pub fn rendition_encoder(&self, index: usize, backend: &'static str, element: &'static str) {
        if let Some(rung) = self.rungs.get(index) {
            *lock(&rung.encoder) = Some((backend, element));
        }
    }

    /// Times the pictures of rung `index` through its `encoder` element (see `encode_latency`).
    /// Pictures are matched by running time: GStreamer's video encoders shift their output
    /// timestamps (x264enc by 1000 h, room for B-frames' decoding times) and their segment with
    /// them.
    pub fn watch_encoder(self: &Arc<Self>, index: usize, encoder: &gst::Element) {
        for (pad, entering) in [("sink", true), ("src", false)] {
            let Some(pad) = encoder.static_pad(pad) else {
                continue;
            };
            let meter = self.clone();
            pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
                let (Some(pts), Some(rung)) =
                    (info.buffer().and_then(|b| b.pts()), meter.rungs.get(index))
                else {
                    return gst::PadProbeReturn::Ok;
                };
                if let Some(running) = crate::running_time::on_pad(pad, Some(pts)) {
                    let now = meter.born.elapsed().as_nanos() as u64;
                    if entering {
                        rung.encode.entered(running.nseconds(), now);
                    } else {
                        rung.encode.left(running.nseconds(), now);
                    }
                }
                gst::PadProbeReturn::Ok
            });
        }
    }

    /// Watches one rung's encoded frames. A gap in their timestamps is frames the rung never
    /// encoded (the channel ran late and the live source skipped them): what a receiver would
    /// see as dropped.
    pub fn watch_rendition(self: &Arc<Self>, index: usize, pad: &gst::Pad) {
        let meter = self.clone();
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let (Some(buffer), Some(rung)) = (info.buffer(), meter.rungs.get(index)) else {
                return gst::PadProbeReturn::Ok;
            };
            rung.frames.fetch_add(1, Ordering::Relaxed);
            rung.bytes
                .fetch_add(buffer.size() as u64, Ordering::Relaxed);
            if let Some(pts) = buffer.pts().map(|t| t.nseconds()) {
                let prev = rung.last_pts.swap(pts, Ordering::Relaxed);
                if prev != NONE {
                    let missing = missing_frames(prev, pts, rung.frame_ns);
                    if missing > 0 {
                        rung.dropped.fetch_add(missing, Ordering::Relaxed);
                    }
                }
            }
            gst::PadProbeReturn::Ok
        });
    }

    /// A new pipeline starts its timestamps afresh: do not count the restart as a gap.
    pub fn pipeline_restarted(&self) {
        for rung in &self.rungs {
            rung.last_pts.store(NONE, Ordering::Relaxed);
            rung.encode.restarted();
        }
        self.backlog.restarted();
        self.video_decoder.forget();
        *lock(&self.input.format) = None;
        // The new pipeline's input watches its sound again if it has any to watch.
        self.input.sound_watched.store(false, Ordering::Relaxed);
        self.input.last_sound_ns.store(NONE, Ordering::Relaxed);
    }

    pub fn input_status(&self) -> InputStatus {
        let m = &self.input;
        let last = m.last_frame_ns.load(Ordering::Relaxed);
        let now = self.born.elapsed().as_nanos() as u64;
        let signal = last != NONE && now.saturating_sub(last) < SIGNAL_TIMEOUT.as_nanos() as u64;
        let timecode = m.timecode.load(Ordering::Relaxed);
        let sound_missing = sound_missing(
            signal && m.sound_watched.load(Ordering::Relaxed),
            m.signal_since_ns.load(Ordering::Relaxed),
            m.last_sound_ns.load(Ordering::Relaxed),
            now,
        );
        InputStatus {
            signal,
            format: if signal {
                lock(&m.format).clone()
            } else {
                None
            },
            timecode: (timecode != NONE).then(|| unpack_timecode(timecode)),
            frames: m.frames.load(Ordering::Relaxed),
            audio_levels: self.confidence.audio_levels(),
            video_decoder: self.video_decoder.name().map(|n| n.to_string()),
            sound_missing,
            failover: self.failover.status(),
        }
    }

    pub fn rendition_status(&self) -> Vec<RenditionStatus> {
        self.rungs
            .iter()
            .map(|r| RenditionStatus {
                name: r.name.clone(),
                frames: r.frames.load(Ordering::Relaxed),
                bytes: r.bytes.load(Ordering::Relaxed),
                dropped_frames: r.dropped.load(Ordering::Relaxed),
                encoder: *lock(&r.encoder),
                encode: r.encode.totals(),
                frame_interval: Duration::from_nanos(r.frame_ns),
            })
            .collect()
    }
}

/// How long a watched input's sound has been missing while its pictures arrive, counted from
/// its last sound or, when it has had none since, from the pictures' return: a sender that
/// connects sends its pictures and its sound together, and the wait before is no loss of sound.
/// `None` while the sound arrives, and when nothing is watched or the pictures are lost too.
fn sound_missing(
    watched_with_signal: bool,
    signal_since_ns: u64,
    last_sound_ns: u64,
    now_ns: u64,
) -> Option<Duration> {
    if !watched_with_signal || signal_since_ns == NONE {
        return None;
    }
    let heard = if last_sound_ns == NONE {
        signal_since_ns
    } else {
        last_sound_ns.max(signal_since_ns)
    };
    let missing = Duration::from_nanos(now_ns.saturating_sub(heard));
    (missing >= SOUND_TIMEOUT).then_some(missing)
}

/// Frames missing between two consecutive presentation timestamps of a constant-rate rung.
/// Half a frame of slack absorbs the nanosecond rounding of 30000/1001-style rates.
pub fn missing_frames(prev_ns: u64, pts_ns: u64, frame_ns: u64) -> u64 {
    if frame_ns == 0 || pts_ns <= prev_ns {
        return 0;
    }
    let gap = pts_ns - prev_ns;
    (gap + frame_ns / 2) / frame_ns - 1
}

/// `HH:MM:SS:FF` fields and the drop-frame flag in one word, so the streaming thread can store a
/// timecode without allocating.
fn pack_timecode(tc: &gst_video::ValidVideoTimeCode) -> u64 {
    let drop = tc
        .flags()
        .contains(gst_video::VideoTimeCodeFlags::DROP_FRAME);
    (u64::from(tc.hours()) << 40)
        | (u64::from(tc.minutes()) << 32)
        | (u64::from(tc.seconds()) << 24)
        | (u64::from(tc.frames()) << 8)
        | u64::from(drop)
}

/// SMPTE notation: `;` before the frames when drop-frame.
fn unpack_timecode(packed: u64) -> String {
    let field = |shift: u32, bits: u32| (packed >> shift) & ((1 << bits) - 1);
    let separator = if packed & 1 == 1 { ';' } else { ':' };
    format!(
        "{:02}:{:02}:{:02}{separator}{:02}",
        field(40, 8),
        field(32, 8),
        field(24, 8),
        field(8, 16)
    )
}

fn describe_caps(caps: &gst::CapsRef) -> Option<String> {
    let info = gst_video::VideoInfo::from_caps(caps).ok()?;
    let scan = if info.is_interlaced() { "i" } else { "p" };
    let fps = info.fps();
    let rate = if fps.denom() == 1 {
        fps.numer().to_string()
    } else {
        format!("{:.2}", fps.numer() as f64 / fps.denom() as f64)
    };
    Some(format!(
        "{}x{}{scan}{rate} {}",
        info.width(),
        info.height(),
        info.format().to_str()
    ))
}

#[cfg(test)]
mod tests {
    use super::{
        missing_frames, pack_timecode, sound_missing, unpack_timecode, ChannelMeter, NONE,
    };
    use std::time::Duration;

    /// Sound is missing from a second after the last of it, or after the pictures' return when
    /// none came since; never for an unwatched input or without pictures.
    #[test]
    fn sound_counts_as_missing_a_second_after_it_was_last_heard_with_pictures() {
        let s = 1_000_000_000u64;
        // Heard at 10 s, pictures since 2 s: missing from 11 s on.
        assert_eq!(sound_missing(true, 2 * s, 10 * s, 10 * s + s / 2), None);
        assert_eq!(
            sound_missing(true, 2 * s, 10 * s, 13 * s),
            Some(Duration::from_secs(3))
        );
        // Never heard: counted from the pictures' start, not from the channel's.
        assert_eq!(sound_missing(true, 20 * s, NONE, 20 * s + s / 2), None);
        assert_eq!(
            sound_missing(true, 20 * s, NONE, 22 * s),
            Some(Duration::from_secs(2))
        );
        // Heard before the pictures were lost: the count starts again with their return.
        assert_eq!(sound_missing(true, 30 * s, 10 * s, 30 * s + s / 2), None);
        // Not watched, or no pictures: nothing to say.
        assert_eq!(sound_missing(false, 2 * s, NONE, 60 * s), None);
        assert_eq!(sound_missing(true, NONE, NONE, 60 * s), None);
    }
    use gstreamer as gst;
    use gstreamer::prelude::*;
    use gstreamer_video as gst_video;

    /// Every picture through a real x264enc is timed, although x264enc hands its frames on
    /// 1000 h later by their timestamps than the pictures came in.
    #[test]
    fn pictures_are_timed_through_a_real_encoder() {
        gst::init().expect("gst");
        let channel = &feedline_config::Config::default().channels[0];
        let meter = ChannelMeter::new(channel);
        let pipeline = gst::parse::launch(
            "videotestsrc num-buffers=30 ! video/x-raw,width=320,height=180,framerate=30/1 \
             ! x264enc name=encoder tune=zerolatency speed-preset=veryfast ! fakesink",
        )
        .expect("pipeline")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
        let encoder = pipeline.by_name("encoder").expect("encoder");
        meter.watch_encoder(0, &encoder);
        pipeline.set_state(gst::State::Playing).expect("play");
        let bus = pipeline.bus().expect("bus");
        let end = bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(20),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        );
        pipeline.set_state(gst::State::Null).expect("stop");
        assert!(
            matches!(
                end.as_ref().map(|m| m.view()),
                Some(gst::MessageView::Eos(_))
            ),
            "{end:?}"
        );
        let rungs = meter.rendition_status();
        assert_eq!(rungs[0].encode.pictures, 30, "every picture timed");
        assert!(rungs[0].encode.total_ns > 0);
        assert_eq!(rungs[1].encode.pictures, 0, "only the rung watched");
    }

    #[test]
    fn timecode_survives_packing() {
        gstreamer::init().expect("gst");
        let rate = gstreamer::Fraction::new(30000, 1001);
        let tc = gst_video::ValidVideoTimeCode::new(
            rate,
            None,
            gst_video::VideoTimeCodeFlags::DROP_FRAME,
            23,
            59,
            58,
            29,
            0,
        )
        .expect("timecode");
        assert_eq!(unpack_timecode(pack_timecode(&tc)), tc.to_string());
        assert_eq!(unpack_timecode(pack_timecode(&tc)), "23:59:58;29");
    }

    #[test]
    fn consecutive_frames_miss_nothing() {
        assert_eq!(missing_frames(0, 33_366_666, 33_366_666), 0);
        // 29.97: alternate 33_366_666 / 33_366_667 ns steps.
        assert_eq!(missing_frames(33_366_666, 66_733_333, 33_366_666), 0);
    }

    #[test]
    fn a_gap_of_three_frame_times_is_two_missing_frames() {
        assert_eq!(missing_frames(0, 100_000_000, 33_333_333), 2);
    }

    #[test]
    fn timestamps_going_back_are_not_counted() {
        assert_eq!(missing_frames(100, 50, 33), 0);
    }
}
