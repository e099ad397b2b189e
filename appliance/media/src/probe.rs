//! What this box can do: encoder backends (and why one is unavailable) and capture devices.

use crate::encoder::Backend;
use feedline_config::Codec;
use gstreamer as gst;
use gstreamer::prelude::*;

#[derive(Debug, Clone)]
pub struct BackendReport {
    pub backend: Backend,
    pub codec: Codec,
    pub element: &'static str,
    pub available: bool,
    /// Why not, when unavailable.
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CaptureDevice {
    pub kind: String,
    pub name: String,
    pub path: Option<String>,
    pub caps: Option<String>,
    /// What an HDMI/SDI receiver sees (DV timings): `1920x1080p60`, `no signal`, …
    pub signal: Option<String>,
}

pub fn encoder_backends() -> Vec<BackendReport> {
    let registry = gst::Registry::get();
    // Asked once: it reads /proc and runs `ldconfig -p`, and both NVENC codecs share it.
    let nvidia_reason = std::cell::OnceCell::new();
    let mut reports = Vec::new();
    for backend in Backend::PROBE_ORDER {
        for codec in [Codec::H264, Codec::Hevc] {
            let element = backend.factory(codec);
            let plugin = backend.plugin(codec);
            let available = gst::ElementFactory::find(element).is_some();
            let reason = (!available).then(|| match registry.find_plugin(plugin) {
                Some(_) => format!(
                    "plugin {plugin:?} is installed but registered no {element}: {}",
                    why_not_registered(backend, &nvidia_reason)
                ),
                None => format!(
                    "GStreamer plugin {plugin:?} is not installed ({})",
                    match backend {
                        Backend::Software if codec == Codec::H264 =>
                            "Debian package gstreamer1.0-plugins-ugly",
                        _ => "Debian package gstreamer1.0-plugins-bad",
                    }
                ),
            });
            reports.push(BackendReport {
                backend,
                codec,
                element,
                available,
                reason,
            });
        }
    }
    reports
}

/// A video decoder that file and network inputs can use for a codec.
#[derive(Debug, Clone)]
pub struct DecoderReport {
    pub codec: Codec,
    pub element: String,
    pub description: String,
    /// A GPU or other hardware block (GStreamer's `Hardware` class), not the CPU.
    pub hardware: bool,
}

/// The decoders for H.264 and HEVC that decodebin may pick, best first: decodebin takes the
/// highest-ranked one that accepts the stream, so the first of each codec is what file and
/// network inputs decode with (on a box with an NVIDIA GPU, NVDEC's `nvh264dec` outranks
/// libav's `avdec_h264`).
pub fn video_decoders() -> Vec<DecoderReport> {
    let factories = gst::ElementFactory::factories_with_type(
        gst::ElementFactoryType::DECODER | gst::ElementFactoryType::MEDIA_VIDEO,
        gst::Rank::MARGINAL,
    );
    let mut reports = Vec::new();
    for (codec, caps) in [(Codec::H264, "video/x-h264"), (Codec::Hevc, "video/x-h265")] {
        let caps = gst::Caps::builder(caps).build();
        let mut fitting: Vec<&gst::ElementFactory> = factories
            .iter()
            .filter(|f| f.can_sink_any_caps(&caps))
            .collect();
        // By rank, as decodebin sorts them; by name among equals.
        fitting.sort_by(|a, b| b.rank().cmp(&a.rank()).then(a.name().cmp(&b.name())));
        reports.extend(fitting.into_iter().map(|f| DecoderReport {
            codec,
            element: f.name().to_string(),
            description: f.longname().to_string(),
            hardware: f.klass().contains("Hardware"),
        }));
    }
    reports
}

/// Why an installed plugin registered no encoder: the plugins probe the hardware when they
/// load and register only what works.
fn why_not_registered(backend: Backend, nvidia_reason: &std::cell::OnceCell<String>) -> String {
    let missing = match backend {
        Backend::Nvenc => {
            return nvidia_reason
                .get_or_init(|| {
                    crate::nvidia::why_no_nvenc(
                        std::path::Path::new("/proc"),
                        crate::nvidia::library_found,
                    )
                })
                .clone()
        }
        Backend::Qsv => "Intel QuickSync (oneVPL)",
        Backend::Va => "VA-API encode-capable",
        Backend::Software => "software",
    };
    format!("no {missing} device or driver found")
}

/// Capture devices seen by GStreamer's device monitor (V4L2, DeckLink providers).
pub fn capture_devices() -> Vec<CaptureDevice> {
    let monitor = gst::DeviceMonitor::new();
    monitor.add_filter(Some("Video/Source"), None);
    if monitor.start().is_err() {
        return Vec::new();
    }
    let devices = monitor
        .devices()
        .iter()
        .map(|d| {
            let props = d.properties();
            let path = props.as_ref().and_then(|p| {
                p.get::<String>("device.path")
                    .or_else(|_| p.get::<String>("api.v4l2.path"))
                    .ok()
            });
            let signal = path
                .as_deref()
                .filter(|p| p.starts_with("/dev/video"))
                .and_then(|p| feedline_v4l2::query(std::path::Path::new(p)).ok().flatten())
                .map(|s| s.describe());
            CaptureDevice {
                kind: d.device_class().to_string(),
                name: d.display_name().to_string(),
                path,
                caps: d.caps().map(|c| c.to_string()),
                signal,
            }
        })
        .collect();
    monitor.stop();
    devices
}
