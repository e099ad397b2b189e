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

/// Installs the probes on `videorate`'s pads; `videorate` must have been built with
/// `skip-to-first=true`, which is turned off once the first picture is out.
pub fn keep_time(videorate: &gst::Element) {
    let (Some(sink), Some(src)) = (videorate.static_pad("sink"), videorate.static_pad("src"))
    else {
        return;
    };
    let times = Arc::new(Times::default());
    // What goes in: the end of the latest picture, which videorate may still hold when the
    // change comes (it then goes out before the fill).
    let seen = times.clone();
    sink.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
        move |pad, info| {
            match info.data.as_mut() {
                Some(gst::PadProbeData::Buffer(buffer)) => {
                    if let Some((end, _)) = span(pad, buffer) {
                        seen.input_end.store(end, Ordering::Relaxed);
                    }
                }
                Some(gst::PadProbeData::Event(event)) => {
                    let gst::EventView::Segment(e) = event.view() else {
                        return gst::PadProbeReturn::Ok;
                    };
                    let moved = e
                        .segment()
                        .downcast_ref::<gst::ClockTime>()
                        .zip(seen.resume_at())
                        .and_then(|(segment, at)| starting_at(segment, at));
                    if let Some(moved) = moved {
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
    // What comes out: the programme's frame grid.
    let weak = videorate.downgrade();
    src.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let Some((end, duration)) = info.buffer().and_then(|b| span(pad, b)) else {
            return gst::PadProbeReturn::Ok;
        };
        times.output_frame.store(duration, Ordering::Relaxed);
        if times.output_end.swap(end, Ordering::Relaxed) == NONE {
            // Once the first picture is out, a reset fills from the (moved) segment's start.
            if let Some(videorate) = weak.upgrade() {
                videorate.set_property("skip-to-first", false);
            }
        }
        gst::PadProbeReturn::Ok
    });
}

/// Running times in nanoseconds, NONE before the first picture.
struct Times {
    input_end: AtomicU64,
    output_end: AtomicU64,
    output_frame: AtomicU64,
}

impl Default for Times {
    fn default() -> Self {
        Times {
            input_end: AtomicU64::new(NONE),
            output_end: AtomicU64::new(NONE),
            output_frame: AtomicU64::new(NONE),
        }
    }
}

impl Times {
    /// Where the programme resumes after a change: on the output's frame grid, at or after the
    /// end of the last picture that went in.
    fn resume_at(&self) -> Option<gst::ClockTime> {
        let load = |a: &AtomicU64| Some(a.load(Ordering::Relaxed)).filter(|v| *v != NONE);
        let (input_end, output_end) = (load(&self.input_end)?, load(&self.output_end)?);
        let frame = load(&self.output_frame).filter(|f| *f > 0);
        Some(gst::ClockTime::from_nseconds(on_grid(
            input_end, output_end, frame,
        )))
    }
}

/// The first point of the grid `output_end + k × frame` (k ≥ 0) not before `input_end`, less a
/// microsecond of rounding (a 30 fps frame is 33 333 333 ns, three of them are not 100 ms).
fn on_grid(input_end: u64, output_end: u64, frame: Option<u64>) -> u64 {
    const ROUNDING_NS: u64 = 1_000;
    let Some(frame) = frame else {
        return input_end.max(output_end);
    };
    let behind = input_end.saturating_sub(output_end + ROUNDING_NS);
    output_end + behind.div_ceil(frame) * frame
}

/// A buffer's end and duration in running time on `pad`.
fn span(pad: &gst::Pad, buffer: &gst::BufferRef) -> Option<(u64, u64)> {
    let start = crate::running_time::on_pad(pad, buffer.pts())?;
    let duration = buffer.duration().unwrap_or(gst::ClockTime::ZERO);
    Some(((start + duration).nseconds(), duration.nseconds()))
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

    #[test]
    fn the_programme_resumes_on_its_frame_grid_after_the_last_picture_in() {
        let frame = 33_333_333;
        // The input's last picture ended 1.79 frames past the last picture out: two frames on.
        assert_eq!(
            on_grid(1_000_000_000 + 59_722_222, 1_000_000_000, Some(frame)),
            1_000_000_000 + 2 * frame
        );
        // A held picture one frame past: one frame on, not two (rounding).
        assert_eq!(
            on_grid(1_000_000_000 + frame + 1, 1_000_000_000, Some(frame)),
            1_000_000_000 + frame
        );
        // Nothing held: where the output ended.
        assert_eq!(
            on_grid(900_000_000, 1_000_000_000, Some(frame)),
            1_000_000_000
        );
        assert_eq!(on_grid(1_200_000_000, 1_000_000_000, None), 1_200_000_000);
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
