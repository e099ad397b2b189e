//! The last picture of a file input, held to the end of its loop.
//!
//! A loop ends where the file's longest stream ends. When the pictures end first (a clip whose
//! sound runs on, or AAC's padding at the end), the channel used to get nothing until the next
//! loop: the pace element waited, the rate converter then made up the hole all at once, late,
//! and the late-frames queue shed much of it (a 1 s clip with 3 s of sound: half-second holes
//! in the pictures at the receiver). The last picture is repeated instead, as a frame
//! synchroniser would hold a frame, keeping up with the sound as it arrives (the container's
//! duration is no guide: tsdemux estimated 1.35 s for that file), so the repeats reach the
//! channel on time.

use gstreamer as gst;
use gstreamer_app as gst_app;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

pub struct LastPicture {
    /// The channel's video appsrc.
    target: gst_app::AppSrc,
    /// The last picture sent, with its timestamps on the loop clock (a reference: its memory is
    /// shared, not copied).
    last: Mutex<Option<gst::Buffer>>,
    /// The pictures of this loop have all been sent.
    ended: AtomicBool,
}

impl LastPicture {
    pub fn new(target: gst_app::AppSrc) -> LastPicture {
        LastPicture {
            target,
            last: Mutex::new(None),
            ended: AtomicBool::new(false),
        }
    }

    /// Whether this loop's pictures have all been sent.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    pub fn set_ended(&self, ended: bool) {
        self.ended.store(ended, Ordering::SeqCst);
    }

    /// Holds the last picture on the channel up to `end`.
    pub fn hold_to(&self, end: gst::ClockTime) {
        for repeat in self.repeats_to(end) {
            if self.target.push_buffer(repeat).is_err() {
                return;
            }
        }
    }

    /// A picture went to the channel.
    pub fn sent(&self, picture: &gst::Buffer) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(picture.clone());
    }

    /// Copies of the last picture from its end up to `end`, each as long as it; none when the
    /// pictures reach `end` already (within half a picture) or their duration is unknown.
    fn repeats_to(&self, end: gst::ClockTime) -> Vec<gst::Buffer> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let Some(picture) = last.as_ref() else {
            return Vec::new();
        };
        let (Some(pts), Some(duration)) = (picture.pts(), picture.duration()) else {
            return Vec::new();
        };
        if duration.is_zero() {
            return Vec::new();
        }
        let mut repeats = Vec::new();
        let mut at = pts + duration;
        while at + duration / 2 < end {
            let mut repeat = picture.copy();
            if let Some(b) = repeat.get_mut() {
                b.set_pts(at);
                b.set_duration(duration);
                b.unset_flags(gst::BufferFlags::DISCONT);
            }
            repeats.push(repeat);
            at += duration;
        }
        if let Some(newest) = repeats.last() {
            *last = Some(newest.clone());
        }
        repeats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gstreamer::prelude::*;

    fn picture(pts_ms: u64, duration_ms: u64) -> gst::Buffer {
        gst::init().expect("gst");
        let mut b = gst::Buffer::from_mut_slice(vec![7u8; 16]);
        {
            let b = b.get_mut().expect("writable");
            b.set_pts(gst::ClockTime::from_mseconds(pts_ms));
            b.set_duration(gst::ClockTime::from_mseconds(duration_ms));
        }
        b
    }

    #[test]
    fn the_last_picture_is_repeated_to_the_loop_end() {
        gst::init().expect("gst");
        let appsrc = gst::ElementFactory::make("appsrc")
            .build()
            .expect("appsrc")
            .downcast::<gst_app::AppSrc>()
            .expect("appsrc");
        let hold = LastPicture::new(appsrc);
        assert!(hold.repeats_to(gst::ClockTime::from_seconds(1)).is_empty());
        hold.sent(&picture(960, 40));
        // Pictures end at 1.000 s, the loop (its sound) at 1.2 s: 5 repeats of 40 ms.
        let repeats = hold.repeats_to(gst::ClockTime::from_mseconds(1200));
        let starts: Vec<u64> = repeats
            .iter()
            .filter_map(|b| b.pts().map(|t| t.mseconds()))
            .collect();
        assert_eq!(starts, vec![1000, 1040, 1080, 1120, 1160]);
        assert!(repeats
            .iter()
            .all(|b| b.map_readable().is_ok_and(|m| m[0] == 7)));
        // Asked again for the same end: nothing more.
        assert!(hold
            .repeats_to(gst::ClockTime::from_mseconds(1200))
            .is_empty());
        // Sound ending within half a picture of the pictures: no repeat.
        hold.sent(&picture(2000, 40));
        assert!(hold
            .repeats_to(gst::ClockTime::from_mseconds(2055))
            .is_empty());
    }
}
