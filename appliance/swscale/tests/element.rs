//! `feedlineswscale` in a real GStreamer pipeline: it negotiates the size downstream asks for,
//! scales the picture, and passes an unscaled rung through untouched.

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app::AppSink;

/// Plays `description` (ending in an appsink named `sink`) and returns its first sample.
fn first_frame(description: &str) -> gst::Sample {
    gst::init().expect("gst init");
    feedline_swscale::register().expect("register");
    let pipeline = gst::parse::launch(description)
        .expect("pipeline")
        .downcast::<gst::Pipeline>()
        .expect("bin");
    let sink = pipeline
        .by_name("sink")
        .expect("sink")
        .downcast::<AppSink>()
        .expect("appsink");
    pipeline.set_state(gst::State::Playing).expect("playing");
    let sample = sink.pull_sample().expect("a frame comes out");
    pipeline.set_state(gst::State::Null).expect("null");
    sample
}

/// Runs `videotestsrc ! caps ! feedlineswscale ! caps ! appsink` for one frame; returns the
/// sample's caps and its luma plane's mean and range.
fn scale_one_frame(
    pattern: &str,
    from: (u32, u32),
    to: (u32, u32),
    method: &str,
) -> (gst::Caps, f64, u8, u8) {
    let sample = first_frame(&format!(
        "videotestsrc num-buffers=1 pattern={pattern} ! video/x-raw,format=I420,width={},height={},framerate=30/1 \
         ! feedlineswscale method={method} ! video/x-raw,width={},height={},pixel-aspect-ratio=1/1 \
         ! appsink name=sink sync=false",
        from.0, from.1, to.0, to.1
    ));
    let caps = sample.caps().expect("caps").to_owned();
    let info = gstreamer_video::VideoInfo::from_caps(&caps).expect("video caps");
    let buffer = sample.buffer().expect("buffer");
    let map = buffer.map_readable().expect("map");
    let stride = info.stride()[0] as usize;
    let luma: Vec<u8> = (0..info.height() as usize)
        .flat_map(|r| map[r * stride..r * stride + info.width() as usize].to_vec())
        .collect();
    let mean = luma.iter().map(|&p| f64::from(p)).sum::<f64>() / luma.len() as f64;
    (
        caps,
        mean,
        *luma.iter().min().expect("pixels"),
        *luma.iter().max().expect("pixels"),
    )
}

fn size_of(caps: &gst::Caps) -> (i32, i32) {
    let s = caps.structure(0).expect("structure");
    (
        s.get("width").expect("width"),
        s.get("height").expect("height"),
    )
}

#[test]
fn negotiates_the_rung_size_and_keeps_a_flat_picture_flat() {
    for method in ["bicubic", "bilinear", "lanczos"] {
        let (caps, mean, min, max) = scale_one_frame("white", (1920, 1080), (640, 360), method);
        assert_eq!(size_of(&caps), (640, 360), "{method}");
        // Lanczos rings by a level at the picture edge.
        assert!(
            min >= 234 && max <= 236,
            "{method}: white stays 235, got {min}..{max} mean {mean}"
        );
    }
}

#[test]
fn scales_the_picture_not_just_the_caps() {
    // SMPTE bars: the source's mean luma survives a 3:1 shrink within a level or two; a
    // scaler that wrote nothing (zeros) or only the top-left corner would not.
    let (_, full, _, _) = scale_one_frame("smpte", (1920, 1080), (1920, 1080), "bicubic");
    let (_, small, _, _) = scale_one_frame("smpte", (1920, 1080), (640, 360), "bicubic");
    assert!(
        (full - small).abs() < 2.0,
        "mean luma {full:.1} at 1080p, {small:.1} at 360p"
    );
}

#[test]
fn same_size_passes_through() {
    let (caps, _, min, max) = scale_one_frame("black", (1280, 720), (1280, 720), "bicubic");
    assert_eq!(size_of(&caps), (1280, 720));
    assert_eq!((min, max), (16, 16));
}

#[test]
fn same_size_with_other_caps_is_copied_not_refused() {
    // The source's pixels are 4:3; downstream wants square pixels at the same size: not
    // passthrough (the caps differ), no scaling (the size does not): the frame is copied.
    let sample = first_frame(
        "videotestsrc num-buffers=2 pattern=white ! video/x-raw,format=I420,width=320,height=240,pixel-aspect-ratio=4/3 \
         ! feedlineswscale ! video/x-raw,width=320,height=240,pixel-aspect-ratio=1/1 ! appsink name=sink sync=false",
    );
    let map = sample
        .buffer()
        .expect("buffer")
        .map_readable()
        .expect("map");
    assert!(map[..320].iter().all(|&p| p == 235), "white luma copied");
}
