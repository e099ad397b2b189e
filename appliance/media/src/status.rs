//! Read-only snapshots of what the media side is doing, for the supervisor, the API and metrics.

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

/// RIST figures, as ristsink reports them (summed over its bonds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RistLinkStats {
    /// Original RTP packets sent (retransmissions not included).
    pub packets_sent: u64,
    /// Packets sent again on the receiver's NACKs.
    pub packets_retransmitted: u64,
    /// From the receiver's RTCP receiver reports; `None` while ristsink has none (with librist's
    /// `ristreceiver` it reported 0 throughout the tests).
    pub rtt_ms: Option<f64>,
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
    /// Bytes waiting in the output's own (leaky) buffer for the transport.
    pub buffer_bytes: u64,
    /// How long after its capture the latest TS reached this output's transport (the muxer's
    /// hand-off, by the channel's clock); `None` before the first and once TS has stopped.
    pub delay_from_capture: Option<std::time::Duration>,
    pub srt: Option<SrtLinkStats>,
    pub rist: Option<RistLinkStats>,
    /// An SRT group output: each member link, in the order configured.
    pub group_links: Vec<GroupLinkStatus>,
}

/// One member link of an SRT group output.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupLinkStatus {
    /// The receiver as this link reaches it, `host:port` as configured.
    pub address: String,
    /// The local address the link sends from, when one is configured.
    pub bind: Option<String>,
    /// The network interface the link is tied to, when one is configured.
    pub interface: Option<String>,
    /// Connecting, active (carrying the stream), silent (nothing heard from the receiver for
    /// over a second), standby (backup mode) or down.
    pub state: feedline_srt::LinkState,
    pub stats: SrtLinkStats,
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
            buffer_bytes: 0,
            delay_from_capture: None,
            srt: None,
            rist: None,
            group_links: Vec::new(),
        }
    }
}

/// What the channel's encoding pipeline is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    /// Building the pipeline, waiting for the input to deliver.
    Starting,
    /// The pipeline is playing.
    Running,
    /// The pipeline failed; it is rebuilt after a backoff.
    Restarting,
    /// A non-looping input reached its end.
    Finished,
    /// Stopped on request.
    Stopped,
}

impl fmt::Display for ChannelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChannelState::Starting => "starting",
            ChannelState::Running => "running",
            ChannelState::Restarting => "restarting",
            ChannelState::Finished => "finished",
            ChannelState::Stopped => "stopped",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InputStatus {
    /// A picture arrived within the last second.
    pub signal: bool,
    /// The format of the picture entering the ladder, e.g. `1920x1080p30 I420`.
    pub format: Option<String>,
    /// The timecode stamped on the latest picture.
    pub timecode: Option<String>,
    pub frames: u64,
    /// Programme audio per channel, before encoding; empty when no audio flows.
    pub audio_levels: Vec<crate::confidence::AudioLevel>,
    /// The video decoder decodebin picked for a file or network input without failover
    /// (`avdec_h264`, `nvh264dec`); `None` for raw inputs and before the stream starts.
    pub video_decoder: Option<String>,
    /// How long a network input's own sound has been missing while its pictures arrive (silence
    /// goes out in its place); `None` while it arrives, and for inputs whose sound Feedline
    /// makes itself (test pattern, capture, file, failover).
    pub sound_missing: Option<std::time::Duration>,
    /// Present when the channel has a failover section.
    pub failover: Option<FailoverStatus>,
}

/// Counters of one rung since the channel was started; rates are derived by the reader.
#[derive(Debug, Clone, PartialEq)]
pub struct RenditionStatus {
    pub name: String,
    pub frames: u64,
    pub bytes: u64,
    /// Frames missing from the rung's timestamps (the channel ran late).
    pub dropped_frames: u64,
    /// The encoder in use: (backend, GStreamer element), e.g. `("software", "x264enc")`.
    pub encoder: Option<(&'static str, &'static str)>,
    /// Time its pictures spent in the encoder, summed since the channel started.
    pub encode: crate::encode_latency::EncodeTotals,
    /// How long one of its frames lasts (33.3 ms at 30 fps).
    pub frame_interval: std::time::Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChannelStatus {
    pub name: String,
    pub state: ChannelState,
    pub restarts: u64,
    pub last_error: Option<String>,
    pub input: InputStatus,
    /// The programme frames waiting in front of the ladder; `None` for a channel that does not
    /// shed late frames (a file read flat out) or before its pipeline runs.
    pub ladder_backlog: Option<crate::late_frames::BacklogStatus>,
    pub renditions: Vec<RenditionStatus>,
    pub outputs: Vec<OutputStatus>,
}

/// A failover channel's switch: which source is on air and how healthy each input is.
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverStatus {
    /// `primary`, `backup` or `slate`.
    pub active: String,
    /// `black`, `last_frame` or `image`.
    pub slate: String,
    pub inputs: Vec<FailoverInput>,
    /// The latest switches, oldest first (at most `SWITCHES_KEPT`).
    pub switches: Vec<SwitchRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FailoverInput {
    /// `primary` or `backup`.
    pub role: String,
    /// The input type, e.g. `srt`.
    pub kind: String,
    /// Media-quality confidence 0–100 (black, frozen, silence, loss).
    pub confidence: u8,
    /// What is wrong now, worst first: `no picture`, `black picture`, `frozen picture`,
    /// `silence`.
    pub fault: Option<String>,
    /// Times the input was re-opened after failing.
    pub reopens: u64,
    /// A capture input's signal: the format it locked to (`1280x720p60`), `no signal`, `no
    /// lock` or `out of range`; `None` for inputs without DV timings.
    pub signal: Option<String>,
    /// How long the input's pictures wait for air on average (its jitter buffer), ms.
    pub playout_delay_ms: u32,
    /// The video decoder decodebin picked for this input, as for a channel's input.
    pub video_decoder: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SwitchRecord {
    /// Increasing over the channel runner's life, so readers can tell new switches from seen.
    pub seq: u64,
    pub at_unix_ms: u64,
    pub from: String,
    pub to: String,
    pub reason: String,
}

pub const SWITCHES_KEPT: usize = 32;
