//! The slate: what goes to air when no input is healthy.

use super::ProgramFormat;
use crate::spec::{build_chain, ElementSpec};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::path::Path;
use std::time::Duration;
use tracing::{info, warn};

pub enum Slate {
    /// A prepared picture (black, or the decoded image).
    Still(gst::Buffer),
    /// The last picture that was on air; black if there never was one.
    LastFrame(gst::Buffer),
}

impl Slate {
    pub fn prepare(config: &feedline_config::Slate, format: &ProgramFormat) -> Slate {
        let black = black_picture(format);
        match config {
            feedline_config::Slate::Black => Slate::Still(black),
            feedline_config::Slate::LastFrame => Slate::LastFrame(black),
            feedline_config::Slate::Image { path } => match load_image(path, format) {
                Ok(picture) => {
                    info!(path = %path.display(), "slate image loaded");
                    Slate::Still(picture)
                }
                Err(e) => {
                    warn!(path = %path.display(), error = %e, "cannot load the slate image; the slate is black");
                    Slate::Still(black)
                }
            },
        }
    }

    pub fn picture(&self, last_on_air: Option<&gst::Buffer>) -> Option<gst::Buffer> {
        Some(match self {
            Slate::Still(p) => p.clone(),
            Slate::LastFrame(black) => last_on_air.unwrap_or(black).clone(),
        })
    }
}

/// Limited-range black in I420: luma 16, chroma 128.
fn black_picture(f: &ProgramFormat) -> gst::Buffer {
    let (w, h) = (f.width as usize, f.height as usize);
    let luma = w * h;
    let chroma = w.div_ceil(2) * h.div_ceil(2);
    let mut data = vec![16u8; luma];
    data.resize(luma + 2 * chroma, 128);
    gst::Buffer::from_mut_slice(data)
}

/// Decodes a PNG/JPEG and scales it (letterboxed) to the programme size.
fn load_image(path: &Path, f: &ProgramFormat) -> Result<gst::Buffer, String> {
    if !path.is_file() {
        return Err(format!("no such file {}", path.display()));
    }
    let pipeline = gst::Pipeline::with_name("slate-image");
    let bin = pipeline.upcast_ref::<gst::Bin>();
    let reader = build_chain(
        bin,
        &[
            ElementSpec::new("filesrc", "slate-file").prop("location", path.display()),
            ElementSpec::new("decodebin", "slate-decode"),
        ],
    )
    .map_err(|e| e.to_string())?;
    let tail = build_chain(
        bin,
        &[
            ElementSpec::new("videoconvert", "slate-convert"),
            ElementSpec::new("videoscale", "slate-scale").prop("add-borders", true),
            ElementSpec::new("videoconvert", "slate-convert-out"),
            ElementSpec::caps("slate-caps", f.video_caps_without_rate()),
            ElementSpec::new("appsink", "slate-sink"),
        ],
    )
    .map_err(|e| e.to_string())?;
    let head = tail[0]
        .static_pad("sink")
        .ok_or("videoconvert has no sink")?;
    reader[1].connect_pad_added(move |_, pad| {
        if !head.is_linked() {
            let _ = pad.link(&head);
        }
    });
    let sink = tail
        .last()
        .cloned()
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .ok_or("appsink")?;
    let result = pipeline
        .set_state(gst::State::Paused)
        .map_err(|_| "cannot decode the image".to_string())
        .and_then(|_| {
            sink.try_pull_preroll(gst::ClockTime::from_nseconds(
                Duration::from_secs(5).as_nanos() as u64,
            ))
            .ok_or_else(|| "the image did not decode within 5 s".to_string())
        })
        .and_then(|sample| sample.buffer_owned().ok_or_else(|| "empty image".into()));
    let _ = pipeline.set_state(gst::State::Null);
    result
}
