//! A media file played as a live source, looped without a seam.
//!
//! The file is decoded in its own pipeline (`filesrc ! decodebin ! appsink`) and its raw frames
//! enter the channel through `appsrc`, with timestamps re-based on every loop: when the file
//! ends it is rewound *there*, so the channel's encoders and muxers never see a flush, an EOS or
//! a timestamp going back. (A segment seek in the channel pipeline cannot do this: tsdemux does
//! not support segment seeks.)

use crate::spec::ElementSpec;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tracing::{info, warn};

/// Where each loop's timestamps start: the end of everything played before.
#[derive(Default)]
struct LoopClock {
    offset: gst::ClockTime,
    /// Furthest end time (pts + duration, after offset) any stream reached in this loop.
    end: gst::ClockTime,
}

pub struct FileSource {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Appsrc specs for the channel side: raw video and raw audio from the file.
pub fn appsrc_specs(prefix: &str) -> (ElementSpec, ElementSpec) {
    let src = |name: String, max_bytes: u64| {
        ElementSpec::new("appsrc", name)
            .prop("format", "time")
            .prop("is-live", false)
            .prop("block", true)
            // A few frames of look-ahead: the file pipeline runs only as fast as we consume.
            .prop("max-bytes", max_bytes)
    };
    (
        src(format!("{prefix}-file-video"), 32 * 1024 * 1024),
        src(format!("{prefix}-file-audio"), 256 * 1024),
    )
}

impl FileSource {
    pub fn start(
        path: &Path,
        loop_playback: bool,
        video: gst_app::AppSrc,
        audio: gst_app::AppSrc,
    ) -> FileSource {
        let stop = Arc::new(AtomicBool::new(false));
        let path = path.to_path_buf();
        let stop_flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("file-source".into())
            .spawn(move || run(&path, loop_playback, video, audio, &stop_flag))
            .ok();
        FileSource { stop, thread }
    }
}

impl Drop for FileSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn fail(target: &gst_app::AppSrc, message: &str, detail: &str) {
    gst::element_error!(
        target,
        gst::ResourceError::NotFound,
        ("{}", message),
        ["{}", detail]
    );
}

fn run(
    path: &Path,
    loop_playback: bool,
    video: gst_app::AppSrc,
    audio: gst_app::AppSrc,
    stop: &AtomicBool,
) {
    if !path.exists() {
        fail(
            &video,
            "Resource not found.",
            &format!("No such file {}", path.display()),
        );
        return;
    }
    let pipeline = gst::Pipeline::with_name("file-source");
    let built = ElementSpec::new("filesrc", "file-source-file")
        .prop("location", path.display())
        .build()
        .and_then(|src| {
            Ok((
                src,
                ElementSpec::new("decodebin", "file-source-decode").build()?,
            ))
        });
    let (filesrc, decodebin) = match built {
        Ok(pair) => pair,
        Err(e) => return fail(&video, "cannot build file reader", &e.to_string()),
    };
    if pipeline.add_many([&filesrc, &decodebin]).is_err() || filesrc.link(&decodebin).is_err() {
        return fail(&video, "cannot build file reader", "filesrc ! decodebin");
    }
    // libav's automatic thread count oversubscribes small machines: on 2 cores it cost 10 % more
    // CPU than one decoder thread per core, all of it in the kernel (measured on 1080p30 H.264).
    let cores = crate::ladder::cores();
    if let Some(bin) = decodebin.downcast_ref::<gst::Bin>() {
        bin.connect_deep_element_added(move |_, _, element| {
            let is_libav_decoder = element
                .factory()
                .is_some_and(|f| f.name().starts_with("avdec_"));
            if is_libav_decoder && element.find_property("max-threads").is_some() {
                element.set_property("max-threads", cores as i32);
            }
        });
    }
    let clock = Arc::new(Mutex::new(LoopClock::default()));
    let linked = Arc::new(Mutex::new((false, false)));
    let weak = pipeline.downgrade();
    let (v, a, c, l) = (video.clone(), audio.clone(), clock.clone(), linked.clone());
    decodebin.connect_pad_added(move |_, pad| {
        let Some(pipeline) = weak.upgrade() else {
            return;
        };
        let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
        let kind = caps
            .structure(0)
            .map(|s| s.name().to_string())
            .unwrap_or_default();
        let mut done = l.lock().unwrap_or_else(|p| p.into_inner());
        let target = if kind.starts_with("video/") && !done.0 {
            done.0 = true;
            v.clone()
        } else if kind.starts_with("audio/") && !done.1 {
            done.1 = true;
            a.clone()
        } else {
            return;
        };
        if let Err(e) = link_stream(&pipeline, pad, target, c.clone()) {
            warn!(%kind, error = %e, "cannot link stream of the file input");
        }
    });
    if pipeline.set_state(gst::State::Playing).is_err() {
        return fail(&video, "cannot open the file", &path.display().to_string());
    }
    let Some(bus) = pipeline.bus() else { return };
    let mut loops = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(50)) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Error(err) => {
                fail(
                    &video,
                    &err.error().to_string(),
                    &err.debug().map(|d| d.to_string()).unwrap_or_default(),
                );
                break;
            }
            gst::MessageView::Eos(_) if loop_playback => {
                let mut c = clock.lock().unwrap_or_else(|p| p.into_inner());
                c.offset = c.end;
                drop(c);
                loops += 1;
                info!(path = %path.display(), loops, "file input looped");
                if pipeline
                    .seek_simple(
                        gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
                        gst::ClockTime::ZERO,
                    )
                    .is_err()
                {
                    fail(
                        &video,
                        "cannot rewind the file for looping",
                        &path.display().to_string(),
                    );
                    break;
                }
            }
            gst::MessageView::Eos(_) => {
                let _ = video.end_of_stream();
                let _ = audio.end_of_stream();
                break;
            }
            _ => {}
        }
    }
    let _ = pipeline.set_state(gst::State::Null);
}

/// `pad ! convert ! appsink`, whose samples are re-timed onto the loop clock and pushed into the
/// channel's appsrc.
fn link_stream(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    target: gst_app::AppSrc,
    clock: Arc<Mutex<LoopClock>>,
) -> Result<(), String> {
    let sink = gst_app::AppSink::builder()
        .sync(false)
        .max_buffers(2)
        .build();
    pipeline.add(&sink).map_err(|e| e.to_string())?;
    sink.sync_state_with_parent().map_err(|e| e.to_string())?;
    let sink_pad = sink.static_pad("sink").ok_or("appsink has no pad")?;
    pad.link(&sink_pad).map_err(|e| format!("{e:?}"))?;
    let caps_set = AtomicBool::new(false);
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |s| {
                let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                if !caps_set.swap(true, Ordering::SeqCst) {
                    if let Some(caps) = sample.caps() {
                        target.set_caps(Some(&caps.to_owned()));
                    }
                }
                let Some(buffer) = sample.buffer_owned() else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let running = sample
                    .segment()
                    .and_then(|seg| seg.downcast_ref::<gst::ClockTime>().cloned())
                    .and_then(|seg| seg.to_running_time(buffer.pts()));
                let mut buffer = buffer;
                {
                    let mut c = clock.lock().unwrap_or_else(|p| p.into_inner());
                    let pts = running.unwrap_or(gst::ClockTime::ZERO) + c.offset;
                    let end = pts + buffer.duration().unwrap_or(gst::ClockTime::ZERO);
                    if end > c.end {
                        c.end = end;
                    }
                    let b = buffer.make_mut();
                    b.set_pts(pts);
                    b.set_dts(gst::ClockTime::NONE);
                }
                target.push_buffer(buffer).map(|_| gst::FlowSuccess::Ok)
            })
            .build(),
    );
    Ok(())
}
