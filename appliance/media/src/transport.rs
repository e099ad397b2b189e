//! What each output transport builds (the sink element), as data.

use crate::spec::ElementSpec;
use feedline_config::{OutputTransport, SrtMode};

/// How long one caller connection attempt waits for the handshake.
pub const SRT_CONNECT_TIMEOUT_MS: u32 = 1000;
/// libsrt's `SRTO_RETRANSMITALGO`: 0 answers every loss report the receiver sends, 1 (libsrt's
/// default since 1.5) ignores a report for a packet retransmitted less than an RTT ago. The
/// receiver repeats its reports every half RTT, so within a latency of a few RTTs 1 gives a lost
/// packet about half the retransmissions. Measured (issue #5, 5 % loss both ways, 50 ms RTT,
/// latency 200 ms, 60 s): with 1, three of five loss patterns lost 1-2 packets; with 0, none in
/// ten runs. The cost: 9-11 % of packets retransmitted instead of 5 %, on a link losing 5 %.
pub const SRT_RETRANSMIT_ALGORITHM: u32 = 0;
/// TS buffers an SRT group output holds between the pipeline and the group's sender.
const GROUP_QUEUE_BUFFERS: u32 = 64;

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
            fec,
        } => {
            let host = if address.contains(':') {
                format!("[{address}]")
            } else {
                address.clone()
            };
            // The passphrase never goes into the URI, which shows up in logs.
            let mut uri = format!(
                "srt://{host}:{port}?mode={}&conntimeo={SRT_CONNECT_TIMEOUT_MS}&retransmitalgo={SRT_RETRANSMIT_ALGORITHM}",
                mode.as_str()
            );
            // srtsink passes URI options it knows to libsrt (`retransmitalgo`, `packetfilter`).
            if let Some(fec) = fec {
                uri.push_str(&format!("&packetfilter={}", fec.packet_filter()));
            }
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
        // libsrt's group API is not in GStreamer: the output thread pulls the TS from here
        // and sends it on the group itself. Bounded: when full, the output's leaky queue
        // before it drops the oldest data.
        OutputTransport::SrtGroup { .. } => ElementSpec::new("appsink", name)
            .prop("sync", false)
            .prop("async", false)
            .prop("max-buffers", GROUP_QUEUE_BUFFERS)
            .prop("drop", false),
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
        // A bonded output's further paths are set on ristsink's sockets (`rist::configure`).
        OutputTransport::Rist {
            address,
            port,
            buffer_ms,
            ..
        } => ElementSpec::new("ristsink", name)
            .prop("address", address)
            .prop("port", port)
            .prop("sender-buffer", buffer_ms),
        OutputTransport::Rtp { address, port, .. } => ElementSpec::new("udpsink", name)
            .prop("host", address)
            .prop("port", port)
            .prop("sync", false)
            .prop("async", false),
        OutputTransport::File { path } => ElementSpec::new("filesink", name)
            .prop("location", path.display())
            .prop("sync", false)
            .prop("async", false),
    }
}

/// What goes between the TS and the sink: RIST and RTP carry the TS in RTP (seven TS packets
/// per RTP packet, as our muxer aligns them).
pub fn payloader_specs(transport: &OutputTransport, prefix: &str) -> Vec<ElementSpec> {
    match transport {
        OutputTransport::Rist { .. } => {
            vec![ElementSpec::new("rtpmp2tpay", format!("{prefix}-rtp"))]
        }
        // SMPTE 2022-1 protects a stream whose SSRC is 0 (the FEC encoder refuses others);
        // plain RTP uses the same, so adding FEC later changes nothing for the receiver.
        OutputTransport::Rtp { .. } => {
            vec![ElementSpec::new("rtpmp2tpay", format!("{prefix}-rtp")).prop("ssrc", 0)]
        }
        _ => Vec::new(),
    }
}

/// The sink of an RTP output with SMPTE 2022-1 FEC, as a launch line for a bin: the media
/// packets to `port`, column FEC (the encoder's `fec_0`) to `port + 2`, row FEC (`fec_1`) to
/// `port + 4`. `None` for every other transport (they have one sink element).
pub fn fec_sink_description(transport: &OutputTransport, prefix: &str) -> Option<String> {
    let OutputTransport::Rtp {
        address,
        port,
        fec: Some(fec),
    } = transport
    else {
        return None;
    };
    let udp = |name: &str, port: u32| {
        format!(
            "udpsink name={prefix}-{name} host=\"{address}\" port={port} sync=false async=false"
        )
    };
    let port = u32::from(*port);
    Some(format!(
        "rtpst2022-1-fecenc name={prefix}-fec columns={} rows={} \
         {prefix}-fec.src ! {} \
         {prefix}-fec.fec_0 ! {} \
         {prefix}-fec.fec_1 ! {}",
        fec.columns,
        fec.rows,
        udp("sink", port),
        udp("fec-column", port + 2),
        udp("fec-row", port + 4),
    ))
}

/// RTP needs timestamps that advance: the transport stamps buffers as they arrive (the encoder's
/// timestamps mean nothing on the transport's own clock).
pub fn stamps_arrival_time(transport: &OutputTransport) -> bool {
    matches!(
        transport,
        OutputTransport::Rist { .. } | OutputTransport::Rtp { .. }
    )
}

/// A recording must be complete, so its queue blocks; a network output must never hold the
/// encoder back, so its queue drops the oldest data instead.
pub fn is_lossless(transport: &OutputTransport) -> bool {
    matches!(transport, OutputTransport::File { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_config::RtpFec;
    use gstreamer::prelude::*;

    fn rtp(fec: Option<RtpFec>) -> OutputTransport {
        OutputTransport::Rtp {
            address: "198.51.100.9".into(),
            port: 5000,
            fec,
        }
    }

    #[test]
    fn rtp_payloads_with_ssrc_zero_and_stamps_arrival_time() {
        let pay = payloader_specs(&rtp(None), "ch-out");
        assert_eq!(pay.len(), 1);
        assert_eq!(pay[0].property("ssrc"), Some("0"));
        assert!(stamps_arrival_time(&rtp(None)));
        assert_eq!(fec_sink_description(&rtp(None), "ch-out"), None);
    }

    #[test]
    fn fec_sends_columns_to_port_plus_2_and_rows_to_port_plus_4() {
        gstreamer::init().expect("gst");
        let fec = RtpFec {
            columns: 10,
            rows: 5,
        };
        let description = fec_sink_description(&rtp(Some(fec)), "ch-out").expect("fec");
        let bin = gstreamer::parse::bin_from_description(&description, false).expect("parses");
        let encoder = bin.by_name("ch-out-fec").expect("encoder");
        assert_eq!(encoder.property::<u32>("columns"), 10);
        assert_eq!(encoder.property::<u32>("rows"), 5);
        for (sink, port) in [
            ("ch-out-sink", 5000),
            ("ch-out-fec-column", 5002),
            ("ch-out-fec-row", 5004),
        ] {
            let sink = bin.by_name(sink).expect("udpsink");
            assert_eq!(sink.property::<i32>("port"), port);
            assert_eq!(sink.property::<String>("host"), "198.51.100.9");
        }
    }
}
