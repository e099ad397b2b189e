//! A network input's pictures through the programme's rate converter (`videorate`) across a
//! program change: another codec or picture size from the sender, or a sender restarted.
//!
//! decodebin then hands on new caps and a new segment that starts at 0, and videorate, reset
//! by the caps, fills from the segment's start: hundreds of copies of the new first picture
//! stamped from 0 on, in an instant (the late-frames queue shed most; one reached the encoders
//! stamped 0, and the receiver saw the PTS go back 7 s). Told to start at its first picture
//! instead (`skip-to-first`), it left the change's gap unfilled (0.5 s without pictures, and a
//! false "ladder cannot keep up" from the gap in the rungs' timestamps).
//!
//! So videorate starts with the input's first picture (nothing before the sender began), and
//! from then on every new segment is moved to start where the last picture ended, with the
//! same running time for every timestamp: after a reset videorate fills exactly the change's
//! gap, as it fills any other.

use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const NONE: u64 = u64::MAX;

/// Installs the probe on `videorate`'s sink pad; `videorate` must have been built with
/// `skip-to-first=true`, which the probe turns off after the first picture.
pub fn keep_time(videorate: &gst::Element) {
    let Some(pad) = videorate.static_pad("sink") else {
        return;
    };
    // Once the first picture is out, a reset fills from the (moved) segment's start.
    if let Some(src) = videorate.static_pad("src") {
        let weak = videorate.downgrade();
        src.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            if let Some(videorate) = weak.upgrade() {
                videorate.set_property("skip-to-first", false);
            }
            gst::PadProbeReturn::Remove
        });
    }
    // The running time at which the latest picture ends; NONE before the first.
    let last_end = Arc::new(AtomicU64::new(NONE));
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
        move |pad, info| {
            match info.data.as_mut() {
                Some(gst::PadProbeData::Buffer(buffer)) => {
                    let Some(segment) = time_segment(pad) else {
                        return gst::PadProbeReturn::Ok;
                    };
                    let Some(start) = buffer.pts().and_then(|t| segment.to_running_time(t)) else {
                        return gst::PadProbeReturn::Ok;
                    };
                    let end = start + buffer.duration().unwrap_or(gst::ClockTime::ZERO);
                    last_end.store(end.nseconds(), Ordering::Relaxed);
                }
                Some(gst::PadProbeData::Event(event)) => {
                    let gst::EventView::Segment(e) = event.view() else {
                        return gst::PadProbeReturn::Ok;
                    };
                    let Some(segment) = e.segment().downcast_ref::<gst::ClockTime>() else {
                        return gst::PadProbeReturn::Ok;
                    };
                    let last = last_end.load(Ordering::Relaxed);
                    if last == NONE {
                        return gst::PadProbeReturn::Ok;
                    }
                    if let Some(moved) = starting_at(segment, gst::ClockTime::from_nseconds(last)) {
                        *event = gst::event::Segment::builder(&moved)
                            .seqnum(event.seqnum())
                            .build();
                    }
                }
                _ => {}
            }
            gst::PadProbeReturn::Ok
        },
    );
}

fn time_segment(pad: &gst::Pad) -> Option<gst::FormattedSegment<gst::ClockTime>> {
    pad.sticky_event::<gst::event::Segment>(0)
        .and_then(|e| e.segment().downcast_ref::<gst::ClockTime>().cloned())
}

/// `segment` moved to start at running time `at`, every timestamp keeping its running time;
/// `None` when it already starts there or later (nothing before `at` to fill).
fn starting_at(
    segment: &gst::FormattedSegment<gst::ClockTime>,
    at: gst::ClockTime,
) -> Option<gst::FormattedSegment<gst::ClockTime>> {
    if segment.rate() < 0.0 {
        return None;
    }
    let start = segment.start()?;
    let start_running = segment.to_running_time(start)?;
    let shift = at.checked_sub(start_running).filter(|s| !s.is_zero())?;
    let mut moved = segment.clone();
    moved.set_start(start + shift);
    moved.set_base(segment.base().unwrap_or(gst::ClockTime::ZERO) + shift);
    moved.set_time(segment.time().map(|t| t + shift));
    moved.set_position(start + shift);
    Some(moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gstreamer_app as gst_app;

    fn ms(v: u64) -> gst::ClockTime {
        gst::ClockTime::from_mseconds(v)
    }

    /// A new segment from 0 after 7.3 s of programme starts at 7.3 s, and a picture stamped
    /// 7.8 s keeps its running time of 7.8 s.
    #[test]
    fn a_new_segment_starts_where_the_last_picture_ended() {
        crate::init().expect("gstreamer");
        let mut fresh = gst::FormattedSegment::<gst::ClockTime>::new();
        fresh.set_start(ms(0));
        fresh.set_time(ms(0));
        let moved = starting_at(&fresh, ms(7_300)).expect("moved");
        assert_eq!(moved.start(), Some(ms(7_300)));
        assert_eq!(moved.to_running_time(ms(7_300)), Some(ms(7_300)));
        assert_eq!(moved.to_running_time(ms(7_800)), Some(ms(7_800)));
        assert_eq!(
            fresh.to_running_time(ms(7_800)),
            moved.to_running_time(ms(7_800))
        );
        // Already starting there or later: left alone.
        assert!(starting_at(&moved, ms(7_300)).is_none());
        assert!(starting_at(&moved, ms(5_000)).is_none());
    }

    /// The real element: after a caps change and a segment from 0, videorate fills the gap to
    /// the new first picture from where the last one ended, and stamps nothing before it.
    #[test]
    fn videorate_fills_a_program_change_from_the_last_picture_not_from_zero() {
        crate::init().expect("gstreamer");
        let pipeline = gst::Pipeline::new();
        let src = gst_app::AppSrc::builder()
            .format(gst::Format::Time)
            .handle_segment_change(true)
            .build();
        let rate = gst::ElementFactory::make("videorate")
            .property("skip-to-first", true)
            .build()
            .expect("videorate");
        let caps = gst::ElementFactory::make("capsfilter")
            .property(
                "caps",
                gst::Caps::builder("video/x-raw")
                    .field("framerate", gst::Fraction::new(10, 1))
                    .build(),
            )
            .build()
            .expect("capsfilter");
        let sink = gst_app::AppSink::builder().sync(false).build();
        pipeline
            .add_many([src.upcast_ref(), &rate, &caps, sink.upcast_ref()])
            .expect("add");
        gst::Element::link_many([src.upcast_ref(), &rate, &caps, sink.upcast_ref()]).expect("link");
        keep_time(&rate);
        pipeline.set_state(gst::State::Playing).expect("play");
        let picture = |width: i32, at_ms: u64, segment: &gst::FormattedSegment<gst::ClockTime>| {
            let caps = gst::Caps::builder("video/x-raw")
                .field("format", "GRAY8")
                .field("width", width)
                .field("height", 2)
                .field("framerate", gst::Fraction::new(10, 1))
                .build();
            let mut buffer = gst::Buffer::from_mut_slice(vec![0u8; (width * 2) as usize]);
            {
                let b = buffer.get_mut().expect("writable");
                b.set_pts(ms(at_ms));
                b.set_duration(ms(100));
            }
            gst::Sample::builder()
                .buffer(&buffer)
                .caps(&caps)
                .segment(segment)
                .build()
        };
        let mut from_zero = gst::FormattedSegment::<gst::ClockTime>::new();
        from_zero.set_start(ms(0));
        // The sender starts at 2 s: nothing before it.
        for at in [2_000, 2_100, 2_200] {
            src.push_sample(&picture(4, at, &from_zero)).expect("push");
        }
        // A program change: new caps, a new segment from 0 (this one says so by its time), the
        // new first picture at 2.8 s.
        let mut again_from_zero = from_zero.clone();
        again_from_zero.set_time(ms(0));
        again_from_zero.set_position(ms(0));
        again_from_zero.set_duration(ms(3_600_000));
        for at in [2_800, 2_900] {
            src.push_sample(&picture(8, at, &again_from_zero))
                .expect("push");
        }
        src.end_of_stream().expect("eos");
        let mut stamps = Vec::new();
        while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(2)) {
            let buffer = sample.buffer().expect("buffer");
            let segment = sample
                .segment()
                .and_then(|s| s.downcast_ref::<gst::ClockTime>().cloned());
            let running = segment
                .and_then(|s| s.to_running_time(buffer.pts().expect("pts")))
                .expect("running time");
            stamps.push(running.mseconds());
        }
        pipeline.set_state(gst::State::Null).expect("stop");
        assert_eq!(
            stamps,
            [2_000, 2_100, 2_200, 2_300, 2_400, 2_500, 2_600, 2_700, 2_800, 2_900],
            "one picture every 100 ms from the first, the change's gap filled"
        );
    }
}
