//! Input failover: a backup input and a slate that keep the outputs on air when the primary
//! input is lost, goes black, freezes or falls silent.

use crate::Input;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Failover {
    /// Taken when the primary input fails; without one the slate goes to air.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<Input>,
    /// What goes to air when no input is healthy.
    #[serde(default)]
    pub slate: Slate,
    /// No new picture to air for this long and an input counts as lost. For IP and file inputs
    /// counted on the programme's playout, not on arrival, so a sender delivering in bursts is
    /// not lost between them; for capture inputs on arrival. For an input slower than the
    /// programme, from when its next picture was due. Also the longest the last picture is held
    /// before the switch.
    #[serde(default = "default_no_data_ms")]
    pub no_data_ms: u32,
    /// A black picture for this long counts as a failure; 0 disables the check.
    #[serde(default = "default_black_ms")]
    pub black_ms: u32,
    /// An unchanging picture for this long counts as a failure; 0 disables the check.
    #[serde(default = "default_frozen_ms")]
    pub frozen_ms: u32,
    /// Audio below -60 dBFS for this long counts as a failure; 0 (the default: programmes have
    /// quiet moments) disables the check.
    #[serde(default)]
    pub silence_ms: u32,
    /// Go back to the primary once it has been healthy this long; 0 means only on request
    /// (`POST /api/v1/channels/{name}/input/revert`).
    #[serde(default = "default_revert_after_s")]
    pub revert_after_s: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Slate {
    /// Black picture, silence.
    #[default]
    Black,
    /// The last good picture held, silence.
    LastFrame,
    /// A still image (PNG or JPEG), scaled to the channel's picture size, silence.
    Image {
        #[schema(value_type = String)]
        path: PathBuf,
    },
}

impl Slate {
    pub fn kind(&self) -> &'static str {
        match self {
            Slate::Black => "black",
            Slate::LastFrame => "last_frame",
            Slate::Image { .. } => "image",
        }
    }
}

fn default_no_data_ms() -> u32 {
    // The third missing frame at 30 fps: the slate is on the wire 67 ms after the last live
    // picture (target < 100 ms). Bursty delivery no longer counts against it: the input's
    // playout queue absorbs bursts (120 ms was the default while loss was counted on arrival).
    80
}
fn default_black_ms() -> u32 {
    3000
}
fn default_frozen_ms() -> u32 {
    3000
}
fn default_revert_after_s() -> u32 {
    5
}

impl Default for Failover {
    fn default() -> Self {
        Failover {
            backup: None,
            slate: Slate::default(),
            no_data_ms: default_no_data_ms(),
            black_ms: default_black_ms(),
            frozen_ms: default_frozen_ms(),
            silence_ms: 0,
            revert_after_s: default_revert_after_s(),
        }
    }
}

/// Accepted ranges, shared by validation and the API schema's documentation.
pub const NO_DATA_MS: (u32, u32) = (40, 10_000);
pub const DETECT_MS: (u32, u32) = (0, 600_000);
pub const REVERT_AFTER_S: (u32, u32) = (0, 3_600);
