//! Channel inputs: live sources, files, network streams and capture devices.

use crate::{FrameRate, Secret};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Input {
    /// Moving SMPTE bars with burned-in timecode and a tone.
    TestPattern {
        width: u32,
        height: u32,
        frame_rate: FrameRate,
        #[serde(default = "default_tone")]
        tone_hz: u32,
    },
    /// A media file played at real-time pace, looped by default.
    File {
        #[schema(value_type = String)]
        path: PathBuf,
        #[serde(default = "yes")]
        loop_playback: bool,
        /// `false` encodes as fast as possible (benchmarks, file-to-file jobs).
        #[serde(default = "yes")]
        live_pace: bool,
    },
    /// MPEG-TS over SRT.
    Srt {
        mode: SrtInputMode,
        #[serde(default = "any_address")]
        address: String,
        port: u16,
        #[serde(default = "default_srt_latency")]
        latency_ms: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passphrase: Option<Secret>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stream_id: Option<String>,
    },
    /// MPEG-TS over UDP, unicast or multicast.
    Udp {
        #[serde(default = "any_address")]
        address: String,
        port: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        interface: Option<String>,
    },
    /// A V4L2 capture device (HDMI/SDI capture cards with a V4L2 driver, USB capture).
    V4l2 {
        #[schema(value_type = String)]
        device: PathBuf,
        /// The format to capture. Leave `width`, `height` and `frame_rate` out to follow the
        /// signal: an HDMI/SDI input with DV timings captures whatever format it locks to, and
        /// a format change re-opens only this input. A capture input always runs behind a
        /// frame synchroniser: without `[channels.failover]`, a lost signal puts the black
        /// slate on air.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        width: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        height: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frame_rate: Option<FrameRate>,
        /// V4L2 pixel format as GStreamer names it (`YUY2`, `UYVY`, `NV12`); `None` lets the
        /// driver pick.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pixel_format: Option<String>,
    },
    /// A Blackmagic DeckLink input.
    Decklink {
        #[serde(default)]
        device_number: u32,
        /// Video mode in GStreamer's decklink naming, e.g. `1080p30`, `1080i5994`, `720p60`.
        mode: String,
        #[serde(default)]
        connection: DecklinkConnection,
        #[serde(default = "default_decklink_audio")]
        audio_channels: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SrtInputMode {
    Caller,
    Listener,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecklinkConnection {
    #[default]
    Auto,
    Sdi,
    Hdmi,
}

impl DecklinkConnection {
    pub fn as_str(self) -> &'static str {
        match self {
            DecklinkConnection::Auto => "auto",
            DecklinkConnection::Sdi => "sdi",
            DecklinkConnection::Hdmi => "hdmi",
        }
    }
}

fn default_tone() -> u32 {
    1000
}
fn yes() -> bool {
    true
}
fn any_address() -> String {
    "0.0.0.0".to_string()
}
fn default_srt_latency() -> u32 {
    120
}
fn default_decklink_audio() -> u32 {
    2
}

impl Input {
    pub fn kind(&self) -> &'static str {
        match self {
            Input::TestPattern { .. } => "test_pattern",
            Input::File { .. } => "file",
            Input::Srt { .. } => "srt",
            Input::Udp { .. } => "udp",
            Input::V4l2 { .. } => "v4l2",
            Input::Decklink { .. } => "decklink",
        }
    }
}

/// DeckLink video modes we accept, in GStreamer's `decklinkvideosrc mode` nick form, with their
/// size and rate (`None` for an unknown name). Kept as data so validation and the element
/// builder agree.
pub fn decklink_mode_is_known(mode: &str) -> Option<(u32, u32, FrameRate, bool)> {
    const MODES: &[(&str, u32, u32, u32, u32, bool)] = &[
        ("ntsc", 720, 486, 30000, 1001, true),
        ("pal", 720, 576, 25, 1, true),
        ("720p50", 1280, 720, 50, 1, false),
        ("720p5994", 1280, 720, 60000, 1001, false),
        ("720p60", 1280, 720, 60, 1, false),
        ("1080i50", 1920, 1080, 25, 1, true),
        ("1080i5994", 1920, 1080, 30000, 1001, true),
        ("1080i60", 1920, 1080, 30, 1, true),
        ("1080p2398", 1920, 1080, 24000, 1001, false),
        ("1080p24", 1920, 1080, 24, 1, false),
        ("1080p25", 1920, 1080, 25, 1, false),
        ("1080p2997", 1920, 1080, 30000, 1001, false),
        ("1080p30", 1920, 1080, 30, 1, false),
        ("1080p50", 1920, 1080, 50, 1, false),
        ("1080p5994", 1920, 1080, 60000, 1001, false),
        ("1080p60", 1920, 1080, 60, 1, false),
        ("2160p25", 3840, 2160, 25, 1, false),
        ("2160p2997", 3840, 2160, 30000, 1001, false),
        ("2160p30", 3840, 2160, 30, 1, false),
        ("2160p50", 3840, 2160, 50, 1, false),
        ("2160p5994", 3840, 2160, 60000, 1001, false),
        ("2160p60", 3840, 2160, 60, 1, false),
    ];
    MODES
        .iter()
        .find(|m| m.0 == mode)
        .map(|&(_, w, h, num, den, interlaced)| (w, h, FrameRate::new(num, den), interlaced))
}
