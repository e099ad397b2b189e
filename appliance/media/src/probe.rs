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
    let mut reports = Vec::new();
    for backend in Backend::PROBE_ORDER {
        for codec in [Codec::H264, Codec::Hevc] {
            let element = backend.factory(codec);
            let plugin = backend.plugin(codec);
            let available = gst::ElementFactory::find(element).is_some();
            let reason = (!available).then(|| match registry.find_plugin(plugin) {
                Some(_) => format!(
                    "plugin {plugin:?} is installed but registered no {element}: no {} device or driver found",
                    match backend {
                        Backend::Nvenc => "NVIDIA GPU with NVENC",
                        Backend::Qsv => "Intel QuickSync (oneVPL)",
                        Backend::Va => "VA-API encode-capable",
                        Backend::Software => "software",
                    }
                ),
                None => format!(
                    "GStreamer plugin {plugin:?} is not installed ({})",
                    match backend {
                        Backend::Software if codec == Codec::H264 => "Debian package gstreamer1.0-plugins-ugly",
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
