//! Read-only snapshots of what the media side is doing, for logs now and the API later.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputState {
    /// First connection attempt in progress (or a listener waiting for its first caller).
    Connecting,
    /// A receiver is connected and TS packets are flowing.
    Connected,
    /// The connection failed or dropped; retrying with backoff.
    Reconnecting,
    /// The output cannot work as configured (missing plugin, address that cannot be bound…).
    Failed,
    /// Stopped on request or at the end of the input.
    Stopped,
}

impl fmt::Display for OutputState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputState::Connecting => "connecting",
            OutputState::Connected => "connected",
            OutputState::Reconnecting => "reconnecting",
            OutputState::Failed => "failed",
            OutputState::Stopped => "stopped",
        })
    }
}

/// SRT link figures from libsrt, as srtsink reports them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SrtLinkStats {
    pub rtt_ms: f64,
    pub send_rate_mbps: f64,
    pub packets_sent: u64,
    pub packets_lost: u64,
    pub packets_retransmitted: u64,
    pub packets_dropped: u64,
    pub negotiated_latency_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputStatus {
    pub name: String,
    pub state: OutputState,
    pub connection_attempts: u64,
    pub last_error: Option<String>,
    pub bytes_out: u64,
    /// Bytes the output dropped because its receiver was absent or too slow.
    pub bytes_dropped: u64,
    pub srt: Option<SrtLinkStats>,
}

impl OutputStatus {
    pub fn new(name: &str) -> Self {
        OutputStatus {
            name: name.to_string(),
            state: OutputState::Connecting,
            connection_attempts: 0,
            last_error: None,
            bytes_out: 0,
            bytes_dropped: 0,
            srt: None,
        }
    }
}
