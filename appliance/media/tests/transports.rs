//! What each output transport hands to GStreamer. The passphrase must reach srtsink but never the
//! URI (URIs are logged); key length, stream ID and rendezvous port must be set.

use feedline_config::{
    Encryption, OutputTransport, Secret, SrtFec, SrtFecArq, SrtFecLayout, SrtMode,
};
use feedline_media::spec::to_launch_line;
use feedline_media::transport::sink_spec;

fn srt(mode: SrtMode, passphrase: Option<&str>, stream_id: Option<&str>) -> OutputTransport {
    OutputTransport::Srt {
        mode,
        address: "198.51.100.20".into(),
        port: 5000,
        latency_ms: 400,
        passphrase: passphrase.map(Secret::new),
        encryption: Encryption::Aes256,
        stream_id: stream_id.map(str::to_string),
        fec: None,
    }
}

#[test]
fn srt_caller_with_passphrase_and_stream_id() {
    let spec = sink_spec(
        &srt(
            SrtMode::Caller,
            Some("a-very-secret-key"),
            Some("#!::r=cam1,m=publish"),
        ),
        "ch-out",
    );
    assert_eq!(spec.factory, "srtsink");
    let uri = spec.property("uri").expect("uri");
    assert_eq!(
        uri,
        "srt://198.51.100.20:5000?mode=caller&conntimeo=1000&retransmitalgo=0"
    );
    assert!(!uri.contains("secret"));
    assert_eq!(spec.property("passphrase"), Some("a-very-secret-key"));
    assert_eq!(spec.property("pbkeylen"), Some("32"));
    assert_eq!(spec.property("streamid"), Some("#!::r=cam1,m=publish"));
    assert_eq!(spec.property("latency"), Some("400"));
    assert_eq!(spec.property("wait-for-connection"), Some("false"));
    assert!(
        !to_launch_line(&[spec]).contains("a-very-secret-key"),
        "launch lines are logged"
    );
}

#[test]
fn srt_rendezvous_binds_its_own_port_and_ipv6_is_bracketed() {
    let spec = sink_spec(&srt(SrtMode::Rendezvous, None, None), "o");
    assert_eq!(spec.property("localport"), Some("5000"));
    assert_eq!(spec.property("localaddress"), Some("0.0.0.0"));
    assert_eq!(spec.property("passphrase"), None);
    let v6 = OutputTransport::Srt {
        mode: SrtMode::Listener,
        address: "::".into(),
        port: 9000,
        latency_ms: 120,
        passphrase: None,
        encryption: Encryption::Aes128,
        stream_id: None,
        fec: None,
    };
    assert_eq!(
        sink_spec(&v6, "o").property("uri"),
        Some("srt://[::]:9000?mode=listener&conntimeo=1000&retransmitalgo=0")
    );
}

#[test]
fn srt_fec_goes_to_libsrt_as_its_packet_filter() {
    let mut transport = srt(SrtMode::Listener, None, None);
    if let OutputTransport::Srt { fec, .. } = &mut transport {
        *fec = Some(SrtFec {
            columns: 10,
            rows: 5,
            layout: SrtFecLayout::Staircase,
            arq: SrtFecArq::Onreq,
        });
    }
    assert_eq!(
        sink_spec(&transport, "o").property("uri"),
        Some("srt://198.51.100.20:5000?mode=listener&conntimeo=1000&retransmitalgo=0&packetfilter=fec,cols:10,rows:5,layout:staircase,arq:onreq")
    );
}

#[test]
fn udp_multicast_sets_ttl_and_interface() {
    let udp = OutputTransport::Udp {
        address: "239.10.0.1".into(),
        port: 5004,
        ttl: 4,
        interface: Some("eth1".into()),
    };
    assert_eq!(
        to_launch_line(&[sink_spec(&udp, "o")]),
        "udpsink name=o-sink host=239.10.0.1 port=5004 ttl-mc=4 auto-multicast=true sync=false async=false multicast-iface=eth1"
    );
}

#[test]
fn every_srt_property_exists_on_the_installed_srtsink() {
    gstreamer::init().expect("gst init");
    for mode in [SrtMode::Caller, SrtMode::Listener, SrtMode::Rendezvous] {
        sink_spec(&srt(mode, Some("a-very-secret-key"), Some("id")), "o")
            .build()
            .expect("srtsink accepts our properties");
    }
}

#[test]
fn rist_output_is_rtp_payloaded_time_stamped_and_sent_with_its_buffer() {
    let rist = OutputTransport::Rist {
        address: "203.0.113.9".into(),
        port: 5004,
        buffer_ms: 1500,
        bonding: Vec::new(),
    };
    let mut chain = feedline_media::transport::payloader_specs(&rist, "o");
    chain.push(sink_spec(&rist, "o"));
    assert_eq!(
        to_launch_line(&chain),
        "rtpmp2tpay name=o-rtp ! ristsink name=o-sink address=203.0.113.9 port=5004 sender-buffer=1500"
    );
    assert!(feedline_media::transport::stamps_arrival_time(&rist));
    gstreamer::init().expect("gst");
    for spec in &chain {
        spec.build()
            .expect("the installed plugins build every RIST element");
    }
}
