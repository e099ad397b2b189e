//! Feedline's typed configuration.
//!
//! One `Config` type with one `Default` (the shipped default config), parsing that reports the
//! field path of unknown keys and wrong types, and `validate()` whose errors name the field path
//! (`channels[0].ladder[1].bitrate_kbps: must be between 100 and 100000`).

mod channel;
mod failover;
pub mod field_path;
mod frame_rate;
mod input;
mod load;
mod output;
mod redact;
mod secret;
mod server;
mod srt_group;
mod validate;

pub use channel::{
    Audio, AudioCodec, Channel, Codec, EncoderChoice, Latency, Profile, RateControl, Rendition,
    Timecode, TimecodeSource, VideoEncoding,
};
pub use failover::{Failover, Slate};
pub use frame_rate::FrameRate;
pub use input::{DecklinkConnection, Input, SrtInputMode};
pub use load::{parse, read_file, LoadError};
pub use output::{
    Encryption, Output, OutputTransport, RistPath, RtpFec, SrtFec, SrtFecArq, SrtFecLayout, SrtMode,
};
pub use redact::REDACTED;
pub use secret::Secret;
pub use server::{Metrics, Server};
pub use srt_group::{SrtGroupLink, SrtGroupMode};
pub use validate::{FieldError, ValidationErrors};

use serde::{Deserialize, Serialize};

/// The whole appliance configuration: the channels it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: Server,
    #[serde(default)]
    pub channels: Vec<Channel>,
}

impl Default for Config {
    /// The shipped default: live test pattern → 1080p30/720p30/540p30 H.264 + AAC → SRT
    /// listener on port 9000. `config/feedline.toml` is the commented form of this value.
    fn default() -> Self {
        Config {
            server: Server::default(),
            channels: vec![Channel::default_test_pattern()],
        }
    }
}

impl Config {
    /// Checks every rule and returns all violations, each naming its field path.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        validate::validate(self)
    }
}
