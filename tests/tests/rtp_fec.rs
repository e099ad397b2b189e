//! Issue #5 §3 and §7: RTP output with SMPTE 2022-1 FEC (column FEC on port + 2, row FEC on
//! port + 4), through the project's relay dropping 0.5 % of the packets of all three flows at
//! random, with no retransmission. The receiver is GStreamer's own 2022-1 decoder in `rtpbin`,
//! run as `gst-launch-1.0`: every lost packet must come back (no TS continuity error), and a
//! second receiver behind the same loss without the FEC flows shows the loss was real.

use feedline_tests::appliance::Appliance;
use feedline_tests::impair::{Impairment, Relay};
use feedline_tests::{require_tool, two_rung_config};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LOSS: f64 = 0.005;

fn seconds() -> u64 {
    if std::env::var("FEEDLINE_FULL").is_ok_and(|v| v == "1") {
        60
    } else {
        25
    }
}

/// Sockets on loopback ports P, P + 2 and P + 4 (media, column FEC, row FEC).
fn fec_ports() -> [UdpSocket; 3] {
    for _ in 0..200 {
        let probe = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = probe.local_addr().expect("address").port() & !1;
        drop(probe);
        if !(1024..65000).contains(&port) {
            continue;
        }
        if let (Ok(a), Ok(b), Ok(c)) = (
            UdpSocket::bind(("127.0.0.1", port)),
            UdpSocket::bind(("127.0.0.1", port + 2)),
            UdpSocket::bind(("127.0.0.1", port + 4)),
        ) {
            return [a, b, c];
        }
    }
    panic!("no free UDP ports P, P+2, P+4 on loopback");
}

fn port_of(s: &UdpSocket) -> u16 {
    s.local_addr().expect("address").port()
}

/// gst-launch's RTP receiver: with the 2022-1 FEC decoder in rtpbin when `fec`, plain
/// otherwise. Its jitter buffer waits long enough for a column's FEC packet (10 rows of 10).
fn receiver(port: u16, fec: bool, capture: &Path) -> Child {
    let mut args: Vec<String> = vec!["-q".into(), "-e".into(), "rtpbin".into(), "name=rtp".into()];
    args.push("latency=1500".into());
    if fec {
        args.push(r#"fec-decoders=fec,0="rtpst2022-1-fecdec\ size-time\=2000000000";"#.into());
        for (pad, offset) in [("recv_fec_sink_0_0", 2), ("recv_fec_sink_0_1", 4)] {
            args.extend::<[String; 8]>([
                "udpsrc".into(),
                "address=127.0.0.1".into(),
                format!("port={}", port + offset),
                "caps=application/x-rtp,payload=96".into(),
                "!".into(),
                "queue".into(),
                "!".into(),
                format!("rtp.{pad}"),
            ]);
        }
    }
    args.extend::<[String; 14]>([
        "udpsrc".into(),
        "address=127.0.0.1".into(),
        format!("port={port}"),
        "caps=application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T,payload=33".into(),
        "!".into(),
        "queue".into(),
        "!".into(),
        "rtp.recv_rtp_sink_0".into(),
        "rtp.".into(),
        "!".into(),
        "rtpmp2tdepay".into(),
        "!".into(),
        "filesink".into(),
        format!("location={}", capture.display()),
    ]);
    Command::new("gst-launch-1.0")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(capture.with_extension("stderr")).expect("receiver stderr"))
        .spawn()
        .expect("start gst-launch-1.0")
}

fn stop(mut child: Child) {
    // gst-launch -e turns SIGINT into EOS, so the capture ends cleanly.
    let _ = Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// TS continuity errors in a capture, from ffprobe's view of the bytes and our own TS check.
fn continuity_errors(capture: &Path) -> (u64, u64) {
    let bytes = std::fs::read(capture).expect("read capture");
    let report = feedline_tests::ts::check(&bytes);
    (report.packets, report.continuity_errors)
}

#[test]
fn rtp_fec_10x10_recovers_every_packet_at_half_a_percent_random_loss() {
    require_tool("gst-launch-1.0");
    require_tool("ffprobe");
    let dir = tempfile::tempdir().expect("tempdir");
    // Feedline → relays (P, P+2, P+4) → FEC receiver (R, R+2, R+4).
    let fronts = fec_ports();
    let rx = fec_ports();
    let rx_port = port_of(&rx[0]);
    let lossy = Impairment {
        loss: LOSS,
        ..Impairment::clean()
    };
    let relays: Vec<Relay> = fronts
        .into_iter()
        .zip(0u16..)
        .map(|(front, i)| {
            let server = format!("127.0.0.1:{}", rx_port + 2 * i)
                .parse()
                .expect("address");
            Relay::start_on(front, server, lossy, Impairment::clean(), 40 + u64::from(i))
        })
        .collect();
    let send_port = relays[0].port;
    // A control receiver, behind its own relay with the same loss, gets the media only.
    let control_rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let control_port = port_of(&control_rx);
    let control_front = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let control_relay = Relay::start_on(
        control_front,
        format!("127.0.0.1:{control_port}")
            .parse()
            .expect("address"),
        lossy,
        Impairment::clean(),
        7,
    );

    let capture = dir.path().join("fec.ts");
    let control_capture = dir.path().join("plain.ts");
    drop(rx);
    drop(control_rx);
    let fec_rx = receiver(rx_port, true, &capture);
    let plain_rx = receiver(control_port, false, &control_capture);
    std::thread::sleep(Duration::from_millis(500));

    let outputs = format!(
        "[[channels.outputs]]\nname = \"mediaconnect\"\ntype = \"rtp\"\naddress = \"127.0.0.1\"\nport = {send_port}\nfec = {{ columns = 10, rows = 10 }}\n\
         [[channels.outputs]]\nname = \"control\"\ncopy_of = \"mediaconnect\"\ntype = \"rtp\"\naddress = \"127.0.0.1\"\nport = {}\n",
        control_relay.port
    );
    let app = Appliance::start(&two_rung_config(&outputs));
    app.wait_for_log(&["channel running"], Duration::from_secs(15))
        .unwrap_or_else(|| panic!("channel did not start:\n{}", app.log()));
    std::thread::sleep(Duration::from_secs(seconds()));
    drop(app);
    std::thread::sleep(Duration::from_secs(2));
    stop(fec_rx);
    stop(plain_rx);

    let dropped: Vec<u64> = relays
        .iter()
        .map(|r| r.forward.dropped.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    let sent = relays[0]
        .forward
        .received
        .load(std::sync::atomic::Ordering::Relaxed);
    let (packets, errors) = continuity_errors(&capture);
    let (plain_packets, plain_errors) = continuity_errors(&control_capture);
    println!(
        "RTP-FEC 10x10, {:.1} % loss: media packets sent {sent}, dropped {} media / {} column / {} row; \
         TS packets received {packets}, continuity errors {errors} (without FEC: {plain_errors} in {plain_packets})",
        LOSS * 100.0,
        dropped[0],
        dropped[1],
        dropped[2]
    );
    assert!(
        dropped[0] >= 20,
        "the relay dropped too few media packets ({}) to prove anything",
        dropped[0]
    );
    assert!(
        packets > 20_000,
        "FEC receiver got almost nothing ({packets} TS packets): {}",
        std::fs::read_to_string(capture.with_extension("stderr")).unwrap_or_default()
    );
    assert!(
        plain_errors > 0,
        "the control receiver saw no loss: the test proves nothing"
    );
    assert_eq!(errors, 0, "packets FEC did not recover");
}
