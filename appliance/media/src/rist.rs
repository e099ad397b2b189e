//! What a RIST output needs beyond ristsink's own properties: bonding over several paths, and
//! a fix-up of the receiver's RTCP that keeps the stream's SSRC (and so librist's flow) stable.

use feedline_config::OutputTransport;
use gstreamer as gst;
use gstreamer::prelude::*;

/// ristsink's internal sockets (its first and only bond): RTP out, RTCP out, RTCP in.
const RTP_SOCKET: &str = "rist_rtp_udpsink0";
const RTCP_SOCKET: &str = "rist_rtcp_udpsink0";
const RTCP_IN: &str = "rist_rtcp_udpsrc0";

/// RTCP packet types whose first SSRC is the sender's own: receiver report and source
/// description.
const RTCP_RR: u8 = 201;
const RTCP_SDES: u8 = 202;
/// What a receiver report's SSRC is XORed with: flips a high bit and the low bit, so the result
/// is neither our SSRC (even, as RIST requires) nor our retransmission SSRC (ours + 1).
const SSRC_RENAME: u32 = 0x1000_0001;

/// Where ristsink's two sockets send, for every path of the output (its own address first):
/// `host:port` lists for RTP and for RTCP (the next port up).
pub fn bonding_clients(transport: &OutputTransport) -> Option<(String, String)> {
    let OutputTransport::Rist {
        address,
        port,
        bonding,
        ..
    } = transport
    else {
        return None;
    };
    if bonding.is_empty() {
        return None;
    }
    let paths: Vec<(&str, u16)> = std::iter::once((address.as_str(), *port))
        .chain(bonding.iter().map(|p| (p.address.as_str(), p.port)))
        .collect();
    let list = |offset: u16| {
        paths
            .iter()
            .map(|(address, port)| format!("{address}:{}", port + offset))
            .collect::<Vec<_>>()
            .join(",")
    };
    Some((list(0), list(1)))
}

/// Finishes a built ristsink for `transport`.
///
/// Bonding: ristsink's own `bonding-addresses` gives each path its own RTP session, whose RTCP
/// names another SSRC, and librist 0.2.7 re-created the flow over and over. Here one session
/// sends every packet (and every retransmission) to every path: one SSRC, one retransmission
/// buffer, and a receiver listening on one port, reached over each path, keeps one copy.
///
/// The SSRC: librist's receiver reports carry the sender's own SSRC as theirs. GStreamer's RTP
/// session takes that for an SSRC collision and moves the stream to a new SSRC about 0.4 s
/// after the start; librist then re-creates its flow (losing what was in flight), and, with two
/// paths, deleted it when one path timed out (continuity errors at the receiver about 5 s into
/// a path's cut: 4 of 4 runs of the bonded test without the renaming, 0 of 4 with it). Incoming
/// receiver reports and descriptions are renamed before the session sees them; their report
/// blocks (which name our SSRC, and give the round trip) are left as they are.
pub fn configure(ristsink: &gst::Element, transport: &OutputTransport) -> Result<(), String> {
    let bin = ristsink
        .downcast_ref::<gst::Bin>()
        .ok_or("ristsink is not a bin")?;
    let child = |name: &str| {
        bin.by_name(name)
            .ok_or_else(|| format!("ristsink has no {name} (GStreamer changed?)"))
    };
    // After ristsink's `address` and `port`, which put the first path there: `clients`
    // replaces that list with every path.
    if let Some((rtp, rtcp)) = bonding_clients(transport) {
        child(RTP_SOCKET)?.set_property("clients", rtp);
        child(RTCP_SOCKET)?.set_property("clients", rtcp);
    }
    let rtcp_in = child(RTCP_IN)?
        .static_pad("src")
        .ok_or("ristsink's RTCP socket has no src pad")?;
    rtcp_in.add_probe(gst::PadProbeType::BUFFER, |_, info| {
        if let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_mut() {
            if let Ok(mut map) = buffer.make_mut().map_writable() {
                rename_receiver_ssrcs(&mut map);
            }
        }
        gst::PadProbeReturn::Ok
    });
    Ok(())
}

/// Renames the sender SSRC of every receiver report and source description in a compound RTCP
/// packet; returns how many it renamed. Stops at the first malformed packet.
pub fn rename_receiver_ssrcs(rtcp: &mut [u8]) -> usize {
    let mut at = 0;
    let mut renamed = 0;
    while at + 8 <= rtcp.len() {
        let version = rtcp[at] >> 6;
        let packet_type = rtcp[at + 1];
        let words = usize::from(u16::from_be_bytes([rtcp[at + 2], rtcp[at + 3]]));
        let end = at + 4 * (words + 1);
        if version != 2 || end > rtcp.len() {
            break;
        }
        if packet_type == RTCP_RR || packet_type == RTCP_SDES {
            let ssrc = &mut rtcp[at + 4..at + 8];
            let renamed_ssrc =
                u32::from_be_bytes([ssrc[0], ssrc[1], ssrc[2], ssrc[3]]) ^ SSRC_RENAME;
            ssrc.copy_from_slice(&renamed_ssrc.to_be_bytes());
            renamed += 1;
        }
        at = end;
    }
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_config::RistPath;

    fn rist(bonding: Vec<RistPath>) -> OutputTransport {
        OutputTransport::Rist {
            address: "198.51.100.9".into(),
            port: 5000,
            buffer_ms: 1000,
            bonding,
        }
    }

    fn backup_path() -> Vec<RistPath> {
        vec![RistPath {
            address: "203.0.113.4".into(),
            port: 6000,
        }]
    }

    /// What librist 0.2.7's `ristreceiver` sent back (captured): RR and SDES naming the
    /// sender's SSRC 6ecbafcc, then XR and an APP "RIST" echo request with its own SSRC.
    fn librist_report() -> Vec<u8> {
        let mut rtcp = Vec::new();
        // RR, one report block (about 6ecbafcc).
        rtcp.extend([0x81, 201, 0, 7, 0x6e, 0xcb, 0xaf, 0xcc]);
        rtcp.extend([0x6e, 0xcb, 0xaf, 0xcc]);
        rtcp.extend([0u8; 20]);
        // SDES, one chunk: CNAME "rx".
        rtcp.extend([0x81, 202, 0, 2, 0x6e, 0xcb, 0xaf, 0xcc, 1, 2, b'r', b'x']);
        // XR (empty) and APP "RIST" from the receiver's own SSRC.
        rtcp.extend([0x80, 207, 0, 1, 0xf5, 0x99, 0x01, 0x2b]);
        rtcp.extend([
            0x82, 204, 0, 2, 0xf5, 0x99, 0x01, 0x2b, b'R', b'I', b'S', b'T',
        ]);
        rtcp
    }

    #[test]
    fn receiver_reports_lose_our_ssrc_and_keep_their_report_blocks() {
        let mut rtcp = librist_report();
        let original = rtcp.clone();
        assert_eq!(rename_receiver_ssrcs(&mut rtcp), 2);
        let ssrc_at = |at: usize| u32::from_be_bytes(rtcp[at..at + 4].try_into().expect("4"));
        assert_eq!(ssrc_at(4), 0x6ecb_afcc ^ SSRC_RENAME, "RR sender");
        assert_eq!(
            ssrc_at(8),
            0x6ecb_afcc,
            "the report block still names our stream"
        );
        assert_eq!(ssrc_at(36), 0x6ecb_afcc ^ SSRC_RENAME, "SDES chunk");
        assert_eq!(rtcp[40..], original[40..], "XR and APP untouched");
        assert_ne!(
            ssrc_at(4) & !1,
            0x6ecb_afcc,
            "not our SSRC or its retransmission SSRC"
        );
    }

    #[test]
    fn a_malformed_report_is_left_alone_from_where_it_breaks() {
        let mut rtcp = librist_report();
        rtcp[1 + 32] = 202;
        // Claims more words than there are.
        rtcp[3 + 32] = 200;
        let original = rtcp.clone();
        assert_eq!(rename_receiver_ssrcs(&mut rtcp), 1);
        assert_eq!(rtcp[32..], original[32..]);
        assert_eq!(rename_receiver_ssrcs(&mut []), 0);
    }

    #[test]
    fn a_bonded_output_sends_rtp_and_rtcp_to_every_path() {
        assert_eq!(bonding_clients(&rist(Vec::new())), None);
        assert_eq!(
            bonding_clients(&rist(backup_path())),
            Some((
                "198.51.100.9:5000,203.0.113.4:6000".to_string(),
                "198.51.100.9:5001,203.0.113.4:6001".to_string()
            ))
        );
    }

    #[test]
    fn configure_sets_every_path_on_ristsinks_sockets() {
        gst::init().expect("gst");
        let transport = rist(backup_path());
        let ristsink = crate::transport::sink_spec(&transport, "ch-out")
            .build()
            .expect("ristsink");
        configure(&ristsink, &transport).expect("configured");
        let bin = ristsink.downcast_ref::<gst::Bin>().expect("bin");
        for (socket, expected) in [
            (RTP_SOCKET, "198.51.100.9:5000,203.0.113.4:6000"),
            (RTCP_SOCKET, "198.51.100.9:5001,203.0.113.4:6001"),
        ] {
            let clients = bin
                .by_name(socket)
                .expect("socket")
                .property::<String>("clients");
            // multiudpsink lists its clients newest first.
            let mut clients: Vec<&str> = clients.split(',').collect();
            clients.sort_unstable();
            assert_eq!(clients.join(","), expected, "{socket}");
        }
    }
}
