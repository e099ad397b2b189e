//! What each output transport builds (the sink element), as data.

use crate::spec::ElementSpec;
use feedline_config::{OutputTransport, SrtMode};

/// How long one caller connection attempt waits for the handshake.
pub const SRT_CONNECT_TIMEOUT_MS: u32 = 1000;

pub fn sink_spec(transport: &OutputTransport, prefix: &str) -> ElementSpec {
    let name = format!("{prefix}-sink");
    match transport {
        OutputTransport::Srt {
            mode,
            address,
            port,
            latency_ms,
            passphrase,
            encryption,
            stream_id,
        } => {
            let host = if address.contains(':') {
                format!("[{address}]")
            } else {
                address.clone()
            };
            // The passphrase never goes into the URI, which shows up in logs.
            let uri = format!(
                "srt://{host}:{port}?mode={}&conntimeo={SRT_CONNECT_TIMEOUT_MS}",
                mode.as_str()
            );
            let mut sink = ElementSpec::new("srtsink", name)
                .prop("uri", uri)
                .prop("latency", latency_ms)
                // Never block the stream waiting for a receiver; we handle (re)connection.
                .prop("wait-for-connection", false)
                .prop("auto-reconnect", false)
                .prop("sync", false)
                .prop("async", false);
            if let Some(p) = passphrase {
                sink = sink
                    .prop("passphrase", p.expose())
                    .prop("pbkeylen", encryption.key_bytes());
            }
            if let Some(id) = stream_id {
                sink = sink.prop("streamid", id);
            }
            if *mode == SrtMode::Rendezvous {
                // Without an explicit local address srtsink binds the *remote* host's address,
                // which fails ("Cannot bind to <peer>"); bind all local addresses instead.
                sink = sink.prop("localaddress", "0.0.0.0").prop("localport", port);
            }
            sink
        }
        OutputTransport::Udp {
            address,
            port,
            ttl,
            interface,
        } => {
            let mut sink = ElementSpec::new("udpsink", name)
                .prop("host", address)
                .prop("port", port)
                .prop("ttl-mc", ttl)
                .prop("auto-multicast", true)
                .prop("sync", false)
                .prop("async", false);
            if let Some(iface) = interface {
                sink = sink.prop("multicast-iface", iface);
            }
            sink
        }
        OutputTransport::Rist {
            address,
            port,
            buffer_ms,
        } => ElementSpec::new("ristsink", name)
            .prop("address", address)
            .prop("port", port)
            .prop("sender-buffer", buffer_ms),
        OutputTransport::File { path } => ElementSpec::new("filesink", name)
            .prop("location", path.display())
            .prop("sync", false)
            .prop("async", false),
    }
}

/// What goes between the TS and the sink: RIST carries the TS in RTP (seven TS packets per RTP
/// packet, as our muxer aligns them).
pub fn payloader_specs(transport: &OutputTransport, prefix: &str) -> Vec<ElementSpec> {
    match transport {
        OutputTransport::Rist { .. } => {
            vec![ElementSpec::new("rtpmp2tpay", format!("{prefix}-rtp"))]
        }
        _ => Vec::new(),
    }
}

/// RTP needs timestamps that advance: the transport stamps buffers as they arrive (the encoder's
/// timestamps mean nothing on the transport's own clock).
pub fn stamps_arrival_time(transport: &OutputTransport) -> bool {
    matches!(transport, OutputTransport::Rist { .. })
}

/// A recording must be complete, so its queue blocks; a network output must never hold the
/// encoder back, so its queue drops the oldest data instead.
pub fn is_lossless(transport: &OutputTransport) -> bool {
    matches!(transport, OutputTransport::File { .. })
}
