//! Silence for a file that has no sound: every output still carries its audio PID.
//!
//! A file input feeds the channel through two appsrcs; the muxers wait for both, so a
//! video-only file used to leave the channel running with nothing on the wire. The silence
//! follows the file's pictures (each picture's span, on the loop clock), so it loops with the
//! file and never runs ahead of or behind the picture.

use gstreamer as gst;
use gstreamer_app as gst_app;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// What the silence is: the programme's audio format, so the channel only passes it on.
pub const RATE: u64 = 48_000;
const CHANNELS: usize = 2;
const BYTES_PER_SAMPLE: usize = 2 * CHANNELS;

/// Sound for the pictures of a file without an audio stream; off until the file is known to
/// have none.
pub struct SilenceFill {
    target: gst_app::AppSrc,
    on: AtomicBool,
    /// The next sample to send (counted from running time zero); `None` before the first.
    next_sample: Mutex<Option<u64>>,
}

/// The sample at `time` (the one that starts at or after it), at 48 kHz: computed from the time
/// itself, never summed per frame, so a 29.97 fps file does not drift.
pub fn sample_at(time: gst::ClockTime) -> u64 {
    (u128::from(time.nseconds()) * u128::from(RATE)).div_ceil(1_000_000_000) as u64
}

fn time_of(sample: u64) -> gst::ClockTime {
    gst::ClockTime::from_nseconds((u128::from(sample) * 1_000_000_000 / u128::from(RATE)) as u64)
}

impl SilenceFill {
    pub fn new(target: gst_app::AppSrc) -> SilenceFill {
        SilenceFill {
            target,
            on: AtomicBool::new(false),
            next_sample: Mutex::new(None),
        }
    }

    /// The file has no audio stream: from now on each picture brings its silence.
    pub fn start(&self) {
        let caps = gst::Caps::builder("audio/x-raw")
            .field("format", "S16LE")
            .field("layout", "interleaved")
            .field("rate", RATE as i32)
            .field("channels", CHANNELS as i32)
            .field("channel-mask", gst::Bitmask::new(0x3))
            .build();
        self.target.set_caps(Some(&caps));
        self.on.store(true, Ordering::SeqCst);
    }

    /// A picture spanning `[start, end)` went to the channel: send the silence up to `end`.
    pub fn cover(&self, start: gst::ClockTime, end: gst::ClockTime) -> Result<(), gst::FlowError> {
        if !self.on.load(Ordering::SeqCst) {
            return Ok(());
        }
        let Some(buffer) = self.span(start, end) else {
            return Ok(());
        };
        self.target.push_buffer(buffer).map(|_| ())
    }

    /// The silent buffer from where the last one ended (or `start`, for the first) to `end`;
    /// `None` when that is under one sample.
    fn span(&self, start: gst::ClockTime, end: gst::ClockTime) -> Option<gst::Buffer> {
        let mut next = self.next_sample.lock().unwrap_or_else(|p| p.into_inner());
        let first = next.unwrap_or_else(|| sample_at(start));
        let last = sample_at(end);
        if last <= first {
            return None;
        }
        *next = Some(last);
        let samples = (last - first) as usize;
        let mut buffer = gst::Buffer::from_mut_slice(vec![0u8; samples * BYTES_PER_SAMPLE]);
        {
            let b = buffer.get_mut()?;
            b.set_pts(time_of(first));
            b.set_duration(time_of(last) - time_of(first));
        }
        Some(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gstreamer::prelude::*;

    fn fill() -> SilenceFill {
        gst::init().expect("gst");
        let src = gst::ElementFactory::make("appsrc")
            .build()
            .expect("appsrc")
            .downcast::<gst_app::AppSrc>()
            .expect("appsrc");
        SilenceFill::new(src)
    }

    /// 30 000 pictures at 30000/1001 fps: the silence is exactly as long as the pictures, each
    /// buffer starting where the last ended.
    #[test]
    fn silence_follows_ntsc_pictures_without_drift() {
        let fill = fill();
        let frame = |n: u64| gst::ClockTime::from_nseconds(n * 1_001_000_000_000 / 30_000);
        let mut samples = 0u64;
        let mut expected_pts = gst::ClockTime::ZERO;
        for n in 0..30_000 {
            let buffer = fill
                .span(frame(n), frame(n + 1))
                .expect("a picture's silence");
            assert_eq!(buffer.pts(), Some(expected_pts), "picture {n}");
            expected_pts = buffer.pts().expect("pts") + buffer.duration().expect("duration");
            let map = buffer.map_readable().expect("map");
            assert!(map.iter().all(|b| *b == 0), "not silent");
            samples += (map.len() / BYTES_PER_SAMPLE) as u64;
        }
        // 30 000 frames of 1001/30000 s = 1001 s.
        assert_eq!(samples, 1001 * RATE);
        // Each buffer is 1601 or 1602 samples (1601.6 on average).
        let one = fill.span(frame(30_000), frame(30_001)).expect("one more");
        let size = one.size() / BYTES_PER_SAMPLE;
        assert!((1601..=1602).contains(&size), "{size}");
    }

    /// The first picture may start late (a file's first PTS is not zero on the loop clock after
    /// re-basing): the silence starts with it, not at zero.
    #[test]
    fn silence_starts_with_the_first_picture() {
        let fill = fill();
        let start = gst::ClockTime::from_mseconds(500);
        let buffer = fill
            .span(start, start + gst::ClockTime::from_mseconds(40))
            .expect("silence");
        assert_eq!(buffer.pts(), Some(start));
        assert_eq!(buffer.size() / BYTES_PER_SAMPLE, 1920);
        // A picture that ends before the silence already sent (a repeated timestamp) adds none.
        assert!(fill
            .span(start, start + gst::ClockTime::from_mseconds(20))
            .is_none());
    }

    #[test]
    fn nothing_is_sent_until_the_file_is_known_to_have_no_audio() {
        let fill = fill();
        fill.cover(gst::ClockTime::ZERO, gst::ClockTime::from_mseconds(40))
            .expect("no-op");
        assert!(fill.next_sample.lock().expect("lock").is_none());
    }
}
