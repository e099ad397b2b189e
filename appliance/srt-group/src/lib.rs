//! SRT socket groups for contribution over several paths: `broadcast` (every packet on every
//! link) and `backup` (main and standby links), each link from its own local address, through
//! libsrt 1.5's group API (Debian's `libsrt1.5-gnutls` exports it; GStreamer's `srtsink` has
//! no group support). Per-link state and statistics for status and metrics.

mod ffi;
mod group;
mod silence;
mod stranded;
mod warm_up;

pub use group::{
    GroupMode, GroupSettings, Link, LinkState, LinkStatus, Maintenance, SrtError, SrtGroup,
};
