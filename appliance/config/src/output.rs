//! Channel outputs: an MPEG-TS carrying a chosen subset of the ladder, over a transport.

use crate::{Secret, SrtGroupLink, SrtGroupMode};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// In TOML an output is one flat table (`name`, `type`, `renditions` and the transport's keys);
/// in Rust the transport is its own enum. serde cannot combine `flatten` with
/// `deny_unknown_fields`, so the flat form goes through `OutputRepr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "OutputRepr", into = "OutputRepr")]
pub struct Output {
    pub name: String,
    /// Renditions carried in this output's TS, by name; `None` carries the whole ladder.
    pub renditions: Option<Vec<String>>,
    /// Dual destinations: send a byte-identical copy of the named output's TS (one muxer, so the
    /// same PIDs, PCR and continuity counters), for receivers that merge two paths packet by
    /// packet (SMPTE 2022-7 style, MediaConnect "merge"). A copy carries what its original carries.
    pub copy_of: Option<String>,
    pub transport: OutputTransport,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutputTransport {
    Srt {
        mode: SrtMode,
        /// Listener/rendezvous: local address to bind. Caller: the receiver's host.
        address: String,
        port: u16,
        latency_ms: u32,
        passphrase: Option<Secret>,
        encryption: Encryption,
        stream_id: Option<String>,
        /// libsrt's packet-filter FEC, alongside (or instead of) retransmission.
        fec: Option<SrtFec>,
    },
    /// An SRT socket group (libsrt bonding): the same stream over several links, each a
    /// caller from its own local address to the receiver.
    SrtGroup {
        mode: SrtGroupMode,
        links: Vec<SrtGroupLink>,
        latency_ms: u32,
        passphrase: Option<Secret>,
        encryption: Encryption,
        stream_id: Option<String>,
        fec: Option<SrtFec>,
    },
    Udp {
        address: String,
        port: u16,
        /// Multicast TTL (hops).
        ttl: u32,
        /// Interface for multicast.
        interface: Option<String>,
    },
    /// RIST Simple Profile (RTP with RTCP NACK retransmission): RTP to `port`, RTCP on
    /// `port + 1`.
    Rist {
        /// The receiver's address.
        address: String,
        /// Even; RTCP uses the next port.
        port: u16,
        /// How long sent packets are kept for retransmission.
        buffer_ms: u32,
        /// Broadcast bonding: the same RTP (one SSRC, the same sequence numbers) also to each
        /// of these, over its own path; a receiver listening on all of them keeps one copy.
        bonding: Vec<RistPath>,
    },
    /// MPEG-TS in RTP (RFC 2250), optionally with SMPTE 2022-1 FEC: column FEC packets to
    /// `port + 2`, row FEC packets to `port + 4` (what MediaConnect's RTP-FEC protocol and
    /// other 2022-1 receivers expect). No retransmission: FEC alone repairs loss.
    Rtp {
        address: String,
        port: u16,
        fec: Option<RtpFec>,
    },
    /// A local TS recording.
    File { path: PathBuf },
}

/// A further path of a bonded RIST output: where the copy of the RTP goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RistPath {
    /// The receiver's address as seen over this path.
    pub address: String,
    /// Even; RTCP uses the next port.
    pub port: u16,
}

/// libsrt's built-in FEC packet filter (`SRTO_PACKETFILTER` `fec,...`): the receiver needs
/// only to accept the `fec` filter; this side sets the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SrtFec {
    /// Packets per row: 2–64.
    pub columns: u32,
    /// Packets per column: 1 (row FEC only) to 64.
    pub rows: u32,
    /// `staircase` (default) spreads the column FEC packets out; `even` sends them in bursts.
    #[serde(default)]
    pub layout: SrtFecLayout,
    /// When retransmission is asked for: `onreq` (default, only what FEC could not rebuild),
    /// `always` (in parallel with FEC) or `never` (FEC alone).
    #[serde(default)]
    pub arq: SrtFecArq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SrtFecLayout {
    #[default]
    Staircase,
    Even,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SrtFecArq {
    #[default]
    Onreq,
    Always,
    Never,
}

impl SrtFec {
    /// The `SRTO_PACKETFILTER` string, e.g. `fec,cols:10,rows:5,layout:staircase,arq:onreq`.
    pub fn packet_filter(&self) -> String {
        let layout = match self.layout {
            SrtFecLayout::Staircase => "staircase",
            SrtFecLayout::Even => "even",
        };
        let arq = match self.arq {
            SrtFecArq::Onreq => "onreq",
            SrtFecArq::Always => "always",
            SrtFecArq::Never => "never",
        };
        format!(
            "fec,cols:{},rows:{},layout:{layout},arq:{arq}",
            self.columns, self.rows
        )
    }
}

/// The SMPTE 2022-1 FEC matrix: `columns` (L) media packets per row, `rows` (D) per column.
/// 10×10 costs 20 % more packets and repairs any single loss in a row or a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RtpFec {
    /// L: 1–20.
    pub columns: u32,
    /// D: 4–20 (L × D at most 100).
    pub rows: u32,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum OutputRepr {
    Srt {
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,32}$")]
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        renditions: Option<Vec<String>>,
        /// Send a byte-identical copy of this output's TS (dual destinations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        copy_of: Option<String>,
        mode: SrtMode,
        #[serde(default = "any_address")]
        address: String,
        port: u16,
        #[serde(default = "default_latency")]
        latency_ms: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passphrase: Option<Secret>,
        #[serde(default)]
        encryption: Encryption,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stream_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fec: Option<SrtFec>,
    },
    SrtGroup {
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,32}$")]
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        renditions: Option<Vec<String>>,
        /// Send a byte-identical copy of this output's TS (dual destinations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        copy_of: Option<String>,
        mode: SrtGroupMode,
        #[serde(deserialize_with = "crate::srt_group::deserialize_links")]
        links: Vec<SrtGroupLink>,
        #[serde(default = "default_latency")]
        latency_ms: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passphrase: Option<Secret>,
        #[serde(default)]
        encryption: Encryption,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stream_id: Option<String>,
        /// Refused by validation: libsrt runs its FEC per link, and a link that rejoins
        /// mid-stream rebuilds wrong packets. Read so that the error names it and says why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fec: Option<SrtFec>,
    },
    Udp {
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,32}$")]
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        renditions: Option<Vec<String>>,
        /// Send a byte-identical copy of this output's TS (dual destinations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        copy_of: Option<String>,
        address: String,
        port: u16,
        #[serde(default = "default_ttl")]
        ttl: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        interface: Option<String>,
    },
    Rist {
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,32}$")]
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        renditions: Option<Vec<String>>,
        /// Send a byte-identical copy of this output's TS (dual destinations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        copy_of: Option<String>,
        address: String,
        port: u16,
        #[serde(default = "default_rist_buffer")]
        buffer_ms: u32,
        /// Further paths carrying the same RTP (broadcast bonding).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        bonding: Vec<RistPath>,
    },
    Rtp {
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,32}$")]
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        renditions: Option<Vec<String>>,
        /// Send a byte-identical copy of this output's TS (dual destinations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        copy_of: Option<String>,
        address: String,
        port: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fec: Option<RtpFec>,
    },
    File {
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,32}$")]
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        renditions: Option<Vec<String>>,
        /// Send a byte-identical copy of this output's TS (dual destinations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        copy_of: Option<String>,
        #[schema(value_type = String)]
        path: PathBuf,
    },
}

impl From<OutputRepr> for Output {
    fn from(r: OutputRepr) -> Self {
        match r {
            OutputRepr::Srt {
                name,
                renditions,
                copy_of,
                mode,
                address,
                port,
                latency_ms,
                passphrase,
                encryption,
                stream_id,
                fec,
            } => Output {
                name,
                renditions,
                copy_of,
                transport: OutputTransport::Srt {
                    mode,
                    address,
                    port,
                    latency_ms,
                    passphrase,
                    encryption,
                    stream_id,
                    fec,
                },
            },
            OutputRepr::SrtGroup {
                name,
                renditions,
                copy_of,
                mode,
                links,
                latency_ms,
                passphrase,
                encryption,
                stream_id,
                fec,
            } => Output {
                name,
                renditions,
                copy_of,
                transport: OutputTransport::SrtGroup {
                    mode,
                    links,
                    latency_ms,
                    passphrase,
                    encryption,
                    stream_id,
                    fec,
                },
            },
            OutputRepr::Udp {
                name,
                renditions,
                copy_of,
                address,
                port,
                ttl,
                interface,
            } => Output {
                name,
                renditions,
                copy_of,
                transport: OutputTransport::Udp {
                    address,
                    port,
                    ttl,
                    interface,
                },
            },
            OutputRepr::Rist {
                name,
                renditions,
                copy_of,
                address,
                port,
                buffer_ms,
                bonding,
            } => Output {
                name,
                renditions,
                copy_of,
                transport: OutputTransport::Rist {
                    address,
                    port,
                    buffer_ms,
                    bonding,
                },
            },
            OutputRepr::Rtp {
                name,
                renditions,
                copy_of,
                address,
                port,
                fec,
            } => Output {
                name,
                renditions,
                copy_of,
                transport: OutputTransport::Rtp { address, port, fec },
            },
            OutputRepr::File {
                name,
                renditions,
                copy_of,
                path,
            } => Output {
                name,
                renditions,
                copy_of,
                transport: OutputTransport::File { path },
            },
        }
    }
}

impl From<Output> for OutputRepr {
    fn from(o: Output) -> Self {
        let Output {
            name,
            renditions,
            copy_of,
            transport,
        } = o;
        match transport {
            OutputTransport::Srt {
                mode,
                address,
                port,
                latency_ms,
                passphrase,
                encryption,
                stream_id,
                fec,
            } => OutputRepr::Srt {
                name,
                renditions,
                copy_of,
                mode,
                address,
                port,
                latency_ms,
                passphrase,
                encryption,
                stream_id,
                fec,
            },
            OutputTransport::SrtGroup {
                mode,
                links,
                latency_ms,
                passphrase,
                encryption,
                stream_id,
                fec,
            } => OutputRepr::SrtGroup {
                name,
                renditions,
                copy_of,
                mode,
                links,
                latency_ms,
                passphrase,
                encryption,
                stream_id,
                fec,
            },
            OutputTransport::Udp {
                address,
                port,
                ttl,
                interface,
            } => OutputRepr::Udp {
                name,
                renditions,
                copy_of,
                address,
                port,
                ttl,
                interface,
            },
            OutputTransport::Rist {
                address,
                port,
                buffer_ms,
                bonding,
            } => OutputRepr::Rist {
                name,
                renditions,
                copy_of,
                address,
                port,
                buffer_ms,
                bonding,
            },
            OutputTransport::Rtp { address, port, fec } => OutputRepr::Rtp {
                name,
                renditions,
                copy_of,
                address,
                port,
                fec,
            },
            OutputTransport::File { path } => OutputRepr::File {
                name,
                renditions,
                copy_of,
                path,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SrtMode {
    Caller,
    Listener,
    Rendezvous,
}

impl SrtMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SrtMode::Caller => "caller",
            SrtMode::Listener => "listener",
            SrtMode::Rendezvous => "rendezvous",
        }
    }
}

/// AES key length used when a passphrase is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Encryption {
    #[default]
    Aes128,
    Aes192,
    Aes256,
}

impl Encryption {
    /// The key length in bytes, as SRT's `pbkeylen` wants it.
    pub fn key_bytes(self) -> u32 {
        match self {
            Encryption::Aes128 => 16,
            Encryption::Aes192 => 24,
            Encryption::Aes256 => 32,
        }
    }
}

fn any_address() -> String {
    "0.0.0.0".to_string()
}
fn default_latency() -> u32 {
    120
}
/// RIST's usual retransmission buffer (librist's default too).
fn default_rist_buffer() -> u32 {
    1000
}
fn default_ttl() -> u32 {
    16
}

impl OutputTransport {
    pub fn kind(&self) -> &'static str {
        match self {
            OutputTransport::Srt { .. } => "srt",
            OutputTransport::SrtGroup { .. } => "srt-group",
            OutputTransport::Udp { .. } => "udp",
            OutputTransport::Rist { .. } => "rist",
            OutputTransport::Rtp { fec: Some(_), .. } => "rtp-fec",
            OutputTransport::Rtp { .. } => "rtp",
            OutputTransport::File { .. } => "file",
        }
    }

    /// The local UDP port this output binds, if any (listener and rendezvous SRT).
    pub fn bound_port(&self) -> Option<u16> {
        match self {
            OutputTransport::Srt { mode, port, .. } if *mode != SrtMode::Caller => Some(*port),
            _ => None,
        }
    }
}

/// The API documents an output in its flat wire form.
impl utoipa::PartialSchema for Output {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <OutputRepr as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for Output {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <OutputRepr as utoipa::ToSchema>::schemas(schemas);
    }
}
