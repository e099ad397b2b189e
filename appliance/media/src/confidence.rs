//! Confidence monitoring: what an operator looks at to trust the feed without a receiver — a
//! small JPEG of the program picture and the programme audio levels, both taken from the real
//! signal inside the channel's pipeline.

use crate::lock;
use crate::spec::{build_chain, ElementSpec};
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Thumbnails per second: enough for a dashboard that refreshes once a second.
pub const THUMBNAIL_FPS: i32 = 2;
pub const THUMBNAIL_WIDTH: i32 = 320;
/// How often the `level` element reports, in nanoseconds.
pub const LEVEL_INTERVAL_NS: u64 = 250_000_000;
/// Silence reads as this, not as minus infinity (JSON has no infinity).
pub const FLOOR_DBFS: f64 = -100.0;

#[derive(Debug, Clone, PartialEq)]
pub struct AudioLevel {
    /// Highest sample over the last interval, dBFS.
    pub peak_dbfs: f64,
    /// RMS over the last interval, dBFS.
    pub rms_dbfs: f64,
}

#[derive(Clone)]
pub struct Thumbnail {
    pub jpeg: Arc<[u8]>,
    pub captured: Instant,
}

#[derive(Default)]
pub struct ConfidenceMonitor {
    thumbnail: Mutex<Option<Thumbnail>>,
    levels: Mutex<(Vec<AudioLevel>, Option<Instant>)>,
}

impl ConfidenceMonitor {
    pub fn thumbnail(&self) -> Option<Thumbnail> {
        lock(&self.thumbnail).clone()
    }

    /// The levels of the last report, per audio channel; empty when no report came for a second
    /// (no audio is flowing, which is not the same as silence).
    pub fn audio_levels(&self) -> Vec<AudioLevel> {
        let levels = lock(&self.levels);
        match levels.1 {
            Some(at) if at.elapsed() < Duration::from_secs(1) => levels.0.clone(),
            _ => Vec::new(),
        }
    }

    /// Takes a `level` element message; false when `s` is not one.
    pub fn record_levels(&self, s: &gst::StructureRef) -> bool {
        if s.name() != "level" {
            return false;
        }
        let dbfs = |v: &gst::glib::Value| {
            let db = v.get::<f64>().unwrap_or(FLOOR_DBFS);
            if db.is_finite() {
                db.max(FLOOR_DBFS)
            } else {
                FLOOR_DBFS
            }
        };
        // GStreamer 1.22's level posts a GValueArray; newer ones a GstValueArray.
        let values = |field: &str| -> Vec<f64> {
            if let Ok(list) = s.get::<gst::glib::ValueArray>(field) {
                return list.iter().map(dbfs).collect();
            }
            s.get::<gst::Array>(field)
                .map(|list| list.iter().map(|v| dbfs(v)).collect())
                .unwrap_or_default()
        };
        let levels = values("peak")
            .into_iter()
            .zip(values("rms"))
            .map(|(peak_dbfs, rms_dbfs)| AudioLevel {
                peak_dbfs,
                rms_dbfs,
            })
            .collect();
        *lock(&self.levels) = (levels, Some(Instant::now()));
        true
    }

    /// Taps the program picture: a leaky queue (the encoders never wait for it), a rate cut to
    /// `THUMBNAIL_FPS`, a scale to `THUMBNAIL_WIDTH` keeping the aspect ratio, and JPEG.
    pub fn tap_picture(
        self: &Arc<Self>,
        bin: &gst::Bin,
        video_tee: &gst::Element,
        prefix: &str,
    ) -> Result<(), MediaError> {
        let chain = [
            ElementSpec::new("queue", format!("{prefix}-thumb-queue"))
                .prop("leaky", "downstream")
                .prop("max-size-buffers", 1u32)
                .prop("max-size-bytes", 0u32)
                .prop("max-size-time", 0u64),
            ElementSpec::new("videorate", format!("{prefix}-thumb-rate"))
                .prop("drop-only", true)
                .prop("max-rate", THUMBNAIL_FPS),
            ElementSpec::new("videoscale", format!("{prefix}-thumb-scale")),
            ElementSpec::caps(
                format!("{prefix}-thumb-caps"),
                format!("video/x-raw,width={THUMBNAIL_WIDTH},pixel-aspect-ratio=1/1"),
            ),
            ElementSpec::new("jpegenc", format!("{prefix}-thumb-jpeg")).prop("quality", 70),
            ElementSpec::new("appsink", format!("{prefix}-thumb-sink"))
                .prop("sync", false)
                .prop("async", false)
                .prop("max-buffers", 1u32)
                .prop("drop", true),
        ];
        let elements = build_chain(bin, &chain)?;
        video_tee
            .link(&elements[0])
            .map_err(|e| MediaError::Link(format!("video tee ! thumbnail: {e}")))?;
        let sink = elements
            .last()
            .cloned()
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| MediaError::Link("thumbnail appsink".into()))?;
        let monitor = self.clone();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let Some(map) = sample.buffer().and_then(|b| b.map_readable().ok()) {
                        *lock(&monitor.thumbnail) = Some(Thumbnail {
                            jpeg: Arc::from(map.as_slice()),
                            captured: Instant::now(),
                        });
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        Ok(())
    }
}

/// The `level` element for the audio chain, before the encoder: programme levels, not codec output.
pub fn level_meter(prefix: &str) -> ElementSpec {
    ElementSpec::new("level", format!("{prefix}-audio-level"))
        .prop("interval", LEVEL_INTERVAL_NS)
        .prop("post-messages", true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_messages_become_per_channel_dbfs_with_a_floor() {
        gst::init().expect("gst");
        // As the level element posts it (silence is far below the floor).
        let s: gst::Structure = "level, peak=(GValueArray)< (double)-18.0, (double)-700.0 >, \
             rms=(GValueArray)< (double)-21.0, (double)-700.0 >"
            .parse()
            .expect("level structure");
        let monitor = ConfidenceMonitor::default();
        assert!(monitor.record_levels(&s));
        assert_eq!(
            monitor.audio_levels(),
            vec![
                AudioLevel {
                    peak_dbfs: -18.0,
                    rms_dbfs: -21.0
                },
                AudioLevel {
                    peak_dbfs: FLOOR_DBFS,
                    rms_dbfs: FLOOR_DBFS
                }
            ]
        );
        assert!(!monitor.record_levels(&gst::Structure::new_empty("other")));
    }
}
