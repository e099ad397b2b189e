//! A channel: one input, its timecode, an ABR ladder of renditions, audio and outputs.

use crate::{Failover, FrameRate, Input, Output, OutputTransport, Secret, SrtMode};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,32}$")]
    pub name: String,
    pub input: Input,
    #[serde(default)]
    pub timecode: Timecode,
    #[serde(default)]
    pub video: VideoEncoding,
    pub ladder: Vec<Rendition>,
    #[serde(default)]
    pub audio: Audio,
    pub outputs: Vec<Output>,
    /// Backup input and slate; without it a lost input stops the picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<Failover>,
}

/// Where the timecode carried in every rendition's `pic_timing` SEI comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Timecode {
    #[serde(default)]
    pub source: TimecodeSource,
}

impl Default for Timecode {
    fn default() -> Self {
        Timecode {
            source: TimecodeSource::SystemClock,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimecodeSource {
    /// Time of day from the system clock (kept frame-exact, resynced on drift).
    #[default]
    SystemClock,
    /// A frame counter starting at 00:00:00:00 when the channel starts (the test pattern's clock).
    Internal,
}

/// Encoder settings every rung shares, so that their GOPs line up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoEncoding {
    /// GOP length in frames at the ladder's highest frame rate; IDRs fall on the same source
    /// frames in every rung.
    #[serde(default = "default_gop")]
    pub gop_frames: u32,
    #[serde(default)]
    pub b_frames: u32,
    #[serde(default)]
    pub rate_control: RateControl,
    #[serde(default)]
    pub latency: Latency,
}

fn default_gop() -> u32 {
    60
}

impl Default for VideoEncoding {
    fn default() -> Self {
        VideoEncoding {
            gop_frames: default_gop(),
            b_frames: 0,
            rate_control: RateControl::Cbr,
            latency: Latency::Low,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateControl {
    /// Constant bit rate with HRD filler: what contribution links and MediaConnect expect.
    #[default]
    Cbr,
    /// Variable bit rate capped at twice the target.
    Vbr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Latency {
    /// No frame reordering, no lookahead: frames leave the encoder as they enter.
    #[default]
    Low,
    /// Lookahead and B-frames allowed: better quality per bit, some hundreds of ms more delay.
    Normal,
}

/// One rung of the ABR ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rendition {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,32}$")]
    pub name: String,
    #[schema(minimum = 16, maximum = 7680)]
    pub width: u32,
    #[schema(minimum = 16, maximum = 4320)]
    pub height: u32,
    pub frame_rate: FrameRate,
    #[serde(default)]
    pub codec: Codec,
    #[schema(minimum = 100, maximum = 100000)]
    pub bitrate_kbps: u32,
    /// Defaults to `high` for H.264 and `main` for HEVC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    #[serde(default)]
    pub encoder: EncoderChoice,
}

impl Rendition {
    pub fn effective_profile(&self) -> Profile {
        self.profile.unwrap_or(match self.codec {
            Codec::H264 => Profile::High,
            Codec::Hevc => Profile::Main,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Codec {
    #[default]
    H264,
    Hevc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Baseline,
    Main,
    High,
}

/// Which encoder family a rendition uses; `auto` takes the first available of
/// NVENC → QuickSync → VA → software.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EncoderChoice {
    #[default]
    Auto,
    Nvenc,
    Qsv,
    Va,
    Software,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Audio {
    #[serde(default)]
    pub codec: AudioCodec,
    #[serde(default = "default_audio_bitrate")]
    pub bitrate_kbps: u32,
    #[serde(default = "default_sample_rate")]
    pub sample_rate: u32,
    #[serde(default = "default_audio_channels")]
    pub channels: u32,
}

fn default_audio_bitrate() -> u32 {
    128
}
fn default_sample_rate() -> u32 {
    48_000
}
fn default_audio_channels() -> u32 {
    2
}

impl Default for Audio {
    fn default() -> Self {
        Audio {
            codec: AudioCodec::Aac,
            bitrate_kbps: default_audio_bitrate(),
            sample_rate: default_sample_rate(),
            channels: default_audio_channels(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AudioCodec {
    /// AAC-LC.
    #[default]
    Aac,
}

impl Channel {
    /// The failover the channel runs with: its `[channels.failover]` section, or for a capture
    /// card without one an implicit one, so that a lost signal puts the black slate on air and a
    /// new format re-opens only the input instead of stopping the channel. The implicit one
    /// judges the signal and missing frames only: a static or black picture from a card is
    /// programme, not a fault, unless the operator asks for those checks.
    pub fn effective_failover(&self) -> Option<Cow<'_, Failover>> {
        match (&self.failover, &self.input) {
            (Some(failover), _) => Some(Cow::Borrowed(failover)),
            (None, Input::V4l2 { .. }) => Some(Cow::Owned(Failover {
                black_ms: 0,
                frozen_ms: 0,
                no_data_ms: 500,
                revert_after_s: 1,
                ..Failover::default()
            })),
            (None, _) => None,
        }
    }

    /// The default channel: 1080p30 test pattern, 3-rung H.264 ladder, SRT listener on 9000.
    pub fn default_test_pattern() -> Self {
        let rung = |name: &str, width, height, bitrate_kbps| Rendition {
            name: name.to_string(),
            width,
            height,
            frame_rate: FrameRate::new(30, 1),
            codec: Codec::H264,
            bitrate_kbps,
            profile: None,
            encoder: EncoderChoice::Auto,
        };
        Channel {
            name: "main".to_string(),
            input: Input::TestPattern {
                width: 1920,
                height: 1080,
                frame_rate: FrameRate::new(30, 1),
                tone_hz: 1000,
            },
            timecode: Timecode::default(),
            video: VideoEncoding::default(),
            ladder: vec![
                rung("1080p", 1920, 1080, 5000),
                rung("720p", 1280, 720, 3000),
                rung("540p", 960, 540, 1500),
            ],
            audio: Audio::default(),
            outputs: vec![Output {
                name: "srt-listener".to_string(),
                renditions: None,
                copy_of: None,
                transport: OutputTransport::Srt {
                    mode: SrtMode::Listener,
                    address: "0.0.0.0".to_string(),
                    port: 9000,
                    latency_ms: 120,
                    passphrase: None::<Secret>,
                    encryption: Default::default(),
                    stream_id: None,
                    fec: None,
                },
            }],
            failover: None,
        }
    }

    /// The ladder's highest frame rate: the rate the input is normalised to before the tee.
    pub fn channel_frame_rate(&self) -> FrameRate {
        self.ladder
            .iter()
            .map(|r| r.frame_rate)
            .max_by(|a, b| a.as_f64().total_cmp(&b.as_f64()))
            .unwrap_or(FrameRate::new(30, 1))
    }
}
