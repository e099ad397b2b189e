//! The live status the API serves, pushes over SSE and exports as metrics.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ApplianceStatus {
    /// Unix time of this snapshot, milliseconds.
    pub time_ms: u64,
    pub uptime_s: f64,
    /// Why the appliance runs no channels, when its store cannot be used.
    pub safe_mode: Option<String>,
    pub channels: Vec<ChannelLive>,
    pub alarms: Vec<Alarm>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelLive {
    pub name: String,
    /// `starting`, `running`, `restarting`, `finished` or `stopped`.
    pub state: String,
    /// Whether the operator wants it running (it comes back after a restart if so).
    pub enabled: bool,
    pub restarts: u64,
    pub last_error: Option<String>,
    pub input: InputLive,
    /// The programme frames waiting in front of the ladder. `null` for a file read faster than
    /// real time (it waits for the encoders rather than shed) and while the channel is not
    /// running.
    pub ladder_backlog: Option<LadderBacklogLive>,
    pub renditions: Vec<RenditionLive>,
    pub outputs: Vec<OutputLive>,
}

/// A live channel holds a few programme frames in front of its ladder for stalls of its
/// encoders; once that backlog is full the ladder cannot keep up, and the channel sheds frames
/// rather than fall behind.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LadderBacklogLive {
    /// Frames waiting now: near 0 while the ladder keeps up.
    pub frames: u32,
    /// The most it holds: 15 frames, half a second at 30 fps.
    pub capacity: u32,
    /// How long it has been full, s. From 2 s the channel raises the `ladder` alarm (a start
    /// fills it for about a second); `null` while it is not full.
    pub full_for_s: Option<f64>,
    /// How long it has held at least half its capacity since the channel's start settled, s.
    /// Once settled a full backlog sheds at once, so a ladder falling behind slowly shows here
    /// before any frame goes: from 1 s the channel raises the `ladder` alarm. `null` while under
    /// half, and during the start.
    pub filling_for_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InputLive {
    /// `input` type from the config (`test_pattern`, `srt`, `v4l2`, …).
    pub kind: String,
    /// A picture arrived within the last second.
    pub signal: bool,
    /// e.g. `1920x1080p30 I420`.
    pub format: Option<String>,
    /// Timecode of the latest picture, `HH:MM:SS:FF` (`;` before frames when drop-frame).
    pub timecode: Option<String>,
    pub frames: u64,
    /// Programme audio levels per audio channel, measured before encoding over the last 250 ms;
    /// empty when no audio flows.
    pub audio_levels: Vec<AudioLevelLive>,
    /// The video decoder a file or network input without failover is decoded with, as
    /// decodebin picked it when the stream started: `avdec_h264` (libav, CPU), `nvh264dec`
    /// (NVIDIA NVDEC), …; null for raw inputs (test pattern, capture) and before the stream
    /// starts. A failover input's own is in `failover.inputs`.
    pub video_decoder: Option<String>,
    /// How long the input's own sound has been missing while its pictures arrive, s (silence
    /// goes out in its place, and the channel raises an `input` warning); also for a stream
    /// that has no audio at all. Watched for a network input without failover (a failover input's silence is one of its failover
    /// triggers); null while its sound arrives, and for inputs whose sound Feedline makes.
    pub sound_missing_s: Option<f64>,
    /// The failover switch, for a channel with a `failover` section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverLive>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailoverLive {
    /// What is on air: `primary`, `backup` or `slate`.
    pub active: String,
    /// The slate kind: `black`, `last_frame` or `image`.
    pub slate: String,
    pub inputs: Vec<FailoverInputLive>,
    /// The latest switches (at most 32), oldest first.
    pub switches: Vec<SwitchLive>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailoverInputLive {
    /// `primary` or `backup`.
    pub role: String,
    /// Input type, e.g. `srt`.
    pub kind: String,
    /// Media-quality confidence 0–100: 0 with no picture; a black picture costs 60, a frozen
    /// one 50, silence 30 (when its check is on).
    pub confidence: u8,
    /// `no picture`, `black picture`, `frozen picture` or `silence`; null when healthy.
    pub fault: Option<String>,
    /// Times the input was re-opened after failing.
    pub reopens: u64,
    /// A capture input's signal (V4L2 DV timings): the detected format, e.g. `1920x1080p60`,
    /// or `no signal`, `no lock`, `out of range`; null for inputs without DV timings.
    pub signal: Option<String>,
    /// How long the input's pictures wait for air on average over the last 2 s, ms: the delay
    /// its jitter buffer adds to absorb the way it delivers (0 for a steady source; a sender
    /// delivering in bursts needs about half its burst gap).
    pub playout_delay_ms: u32,
    /// The video decoder of the input's current opening (`avdec_h264`, `nvh264dec`, …); null
    /// for raw inputs and while it is not open.
    pub video_decoder: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SwitchLive {
    /// Increases with every switch while the process runs.
    pub seq: u64,
    /// Unix time, milliseconds.
    pub at_ms: u64,
    pub from: String,
    pub to: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AudioLevelLive {
    /// Highest sample, dBFS (−100 stands for silence).
    pub peak_dbfs: f64,
    /// RMS, dBFS (−100 stands for silence).
    pub rms_dbfs: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RenditionLive {
    pub name: String,
    /// Encoded frames per second over the last sampling interval.
    pub fps: f64,
    /// Encoded video bits per second over the last sampling interval.
    pub bitrate_bps: f64,
    pub frames: u64,
    pub bytes: u64,
    /// Frames the rung never encoded since the channel started: the ladder could not keep up
    /// and the channel shed them (every rung the same frames).
    pub dropped_frames: u64,
    /// Of those, how many in the last 10 s. Above zero, the channel raises the `ladder` alarm.
    pub dropped_frames_last_10s: u64,
    /// The encoder backend in use (`nvenc`, `qsv`, `va`, `software`): what `auto` resolved
    /// to, or the one configured. `null` until the pipeline is built.
    pub backend: Option<String>,
    /// Its GStreamer element, e.g. `x264enc`.
    pub encoder_element: Option<String>,
    /// Mean time a picture spent in the encoder over the last sampling interval, ms: from
    /// entering it to its encoded frame leaving it. With a software encoder at low latency that
    /// is the work per picture, and the rung whose time is near or above its frame duration
    /// (33 ms at 30 fps) is the one the ladder waits for; with look-ahead or a hardware encoder
    /// it also counts the pictures the encoder holds. `null` while no frame left the encoder.
    pub encode_latency_ms: Option<f64>,
    /// How long one of its frames lasts, ms (33.3 at 30 fps): what a picture may spend in an
    /// encoder that works one picture at a time, on average, for the rung to keep up.
    pub frame_interval_ms: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutputLive {
    pub name: String,
    /// `connecting`, `connected`, `reconnecting`, `failed` or `stopped`.
    pub state: String,
    pub transport: String,
    pub connection_attempts: u64,
    pub last_error: Option<String>,
    pub bytes_out: u64,
    pub bytes_dropped: u64,
    /// Bytes waiting in the output's own buffer.
    pub buffer_bytes: u64,
    /// How long after its capture the latest TS reached this output's transport, ms: the
    /// encoding and muxing delay. A receiver sees the picture this plus the output's buffer
    /// and the SRT/RIST latency later. `null` while no TS flows (before the first, a second
    /// after the last) and for a file read faster than real time.
    pub delay_from_capture_ms: Option<f64>,
    /// TS bits per second handed to the transport over the last sampling interval.
    pub send_rate_bps: f64,
    /// Seconds since the channel's muxer last handed this output any TS (counted from the
    /// channel's start before the first); under a second while TS flows, whether or not a
    /// receiver takes it. A running channel whose input has signal raises the output's alarm
    /// at 3 s: its encoders' pictures are not reaching the wire.
    pub ts_idle_s: f64,
    pub srt: Option<SrtLive>,
    /// A RIST output's figures (ristsink's, summed over its bonds).
    pub rist: Option<RistLive>,
    /// An SRT group output's member links, in the order configured; empty for other outputs.
    pub links: Vec<SrtGroupLinkLive>,
}

impl OutputLive {
    /// An output that is not running: no figures yet.
    pub fn stopped(name: &str, transport: &str) -> OutputLive {
        OutputLive {
            name: name.to_string(),
            state: "stopped".into(),
            transport: transport.to_string(),
            connection_attempts: 0,
            last_error: None,
            bytes_out: 0,
            bytes_dropped: 0,
            buffer_bytes: 0,
            delay_from_capture_ms: None,
            send_rate_bps: 0.0,
            ts_idle_s: 0.0,
            srt: None,
            rist: None,
            links: Vec::new(),
        }
    }
}

/// One member link of an SRT group output.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SrtGroupLinkLive {
    /// The receiver as this link reaches it, `host:port`.
    pub address: String,
    /// The local address the link sends from, if configured.
    pub bind: Option<String>,
    /// The network interface the link is tied to, if configured.
    pub interface: Option<String>,
    /// `connecting`, `active` (carrying the stream), `silent` (sending, but nothing heard from
    /// the receiver for over a second: the path is likely dead), `standby` (backup mode) or
    /// `down`.
    pub state: String,
    pub srt: SrtLive,
}

/// libsrt's figures for the output's link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SrtLive {
    pub rtt_ms: f64,
    pub send_rate_mbps: f64,
    pub packets_sent: u64,
    pub packets_lost: u64,
    pub packets_retransmitted: u64,
    pub packets_dropped: u64,
    pub negotiated_latency_ms: u64,
}

/// A RIST output's figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RistLive {
    /// Original RTP packets sent (retransmissions not included).
    pub packets_sent: u64,
    /// Packets sent again on the receiver's NACKs.
    pub packets_retransmitted: u64,
    /// Round-trip time from the receiver's RTCP receiver reports; null while unknown (with
    /// librist's `ristreceiver` the sender had none throughout the tests).
    pub rtt_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlarmSeverity {
    Warning,
    Critical,
}

/// A condition that is true now and needs attention.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alarm {
    pub severity: AlarmSeverity,
    pub channel: Option<String>,
    /// What it is about: `store`, `input`, `channel`, `ladder`, `output/<name>`.
    pub source: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hardware {
    pub encoder_backends: Vec<EncoderBackend>,
    pub capture_devices: Vec<CaptureDevice>,
    pub network_interfaces: Vec<NetworkInterface>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EncoderBackend {
    pub backend: String,
    pub codec: String,
    pub element: String,
    pub available: bool,
    /// Why it is unavailable.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaptureDevice {
    pub name: String,
    pub kind: String,
    pub path: Option<String>,
    /// For an HDMI/SDI input with DV timings: the detected format (`1920x1080p60`), `no
    /// signal`, `no lock` or `out of range`. Null for devices without DV timings.
    pub signal: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NetworkInterface {
    pub name: String,
    pub mac: Option<String>,
    pub up: bool,
    pub addresses: Vec<String>,
}
