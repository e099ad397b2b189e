//! Counters the running pipeline updates from pad probes, read by `ChannelRunner::status`.
//!
//! They live as long as the channel runner, not the pipeline, so they keep counting across
//! pipeline rebuilds: Prometheus counters must never go backwards while the process lives.

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

#[derive(Default)]
struct InputMeter {
    frames: AtomicU64,
    last_frame: Mutex<Option<Instant>>,
    timecode: Mutex<Option<String>>,
    format: Mutex<Option<String>>,
}

struct RungMeter {
    name: String,
    frame_ns: u64,
    frames: AtomicU64,
    bytes: AtomicU64,
    dropped: AtomicU64,
    last_pts: Mutex<Option<u64>>,
}

pub struct ChannelMeter {
    input: InputMeter,
    rungs: Vec<RungMeter>,
}

impl ChannelMeter {
    pub fn new(channel: &Channel) -> Arc<Self> {
        Arc::new(ChannelMeter {
            input: InputMeter::default(),
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
                    last_pts: Mutex::new(None),
                })
                .collect(),
        })
    }

    /// Watches the stamped picture entering the ladder: signal, timecode, format.
    pub fn watch_input(self: &Arc<Self>, pad: &gst::Pad) {
        let meter = self.clone();
        pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
            if let Some(buffer) = info.buffer() {
                let m = &meter.input;
                m.frames.fetch_add(1, Ordering::Relaxed);
                *lock(&m.last_frame) = Some(Instant::now());
                if let Some(meta) = buffer.meta::<gst_video::VideoTimeCodeMeta>() {
                    *lock(&m.timecode) = Some(meta.tc().to_string());
                }
                let mut format = lock(&m.format);
                if format.is_none() {
                    *format = pad.current_caps().and_then(|c| describe_caps(&c));
                }
            }
            gst::PadProbeReturn::Ok
        });
        // A caps change (a new source format) is described afresh on the next frame.
        let meter = self.clone();
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let Some(gst::EventView::Caps(_)) = info.event().map(|e| e.view()) {
                *lock(&meter.input.format) = None;
            }
            gst::PadProbeReturn::Ok
        });
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
                let mut last = lock(&rung.last_pts);
                if let Some(prev) = *last {
                    let missing = missing_frames(prev, pts, rung.frame_ns);
                    if missing > 0 {
                        rung.dropped.fetch_add(missing, Ordering::Relaxed);
                    }
                }
                *last = Some(pts);
            }
            gst::PadProbeReturn::Ok
        });
    }

    /// A new pipeline starts its timestamps afresh: do not count the restart as a gap.
    pub fn pipeline_restarted(&self) {
        for rung in &self.rungs {
            *lock(&rung.last_pts) = None;
        }
        *lock(&self.input.format) = None;
    }

    pub fn input_status(&self) -> InputStatus {
        let m = &self.input;
        let signal = lock(&m.last_frame).is_some_and(|t| t.elapsed() < SIGNAL_TIMEOUT);
        InputStatus {
            signal,
            format: if signal {
                lock(&m.format).clone()
            } else {
                None
            },
            timecode: lock(&m.timecode).clone(),
            frames: m.frames.load(Ordering::Relaxed),
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
            })
            .collect()
    }
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::missing_frames;

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
