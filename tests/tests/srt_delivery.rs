//! The steel thread end to end: `feedline run` → SRT (caller/listener, with and without AES) →
//! real receivers (ffmpeg with libsrt, srt-live-transmit) → what they received is measured.

use feedline_tests::appliance::Appliance;
use feedline_tests::feed::{assert_feed, assert_ts_continuity, two_rungs, ExpectedRung};
use feedline_tests::receiver::Receiver;
use feedline_tests::{free_port, require_tool, two_rung_config};
use std::sync::Mutex;
use std::time::Duration;

/// Two cores: encoding tests run one at a time so each gets the CPU it needs.
static SERIAL: Mutex<()> = Mutex::new(());
const CAPTURE_SECONDS: u32 = 12;
const MIN_SECONDS: f64 = 10.0;
const GOP: u32 = 30;
const PASSPHRASE: &str = "venue-contribution-key";

fn srt_output(port: u16, mode: &str, extra: &str) -> String {
    feedline_tests::srt_output("srt", mode, port, extra)
}

fn capture_with_slt(uri: &str, appliance: &Appliance) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("capture.ts");
    let mut rx = Receiver::srt_live_transmit(uri, &capture);
    rx.wait_for_bytes(188 * 100, Duration::from_secs(10))
        .unwrap_or_else(|| {
            panic!(
                "no data within 10 s; feedline log:\n{}\nreceiver:\n{}",
                appliance.log(),
                rx.stderr_text()
            )
        });
    std::thread::sleep(Duration::from_secs(u64::from(CAPTURE_SECONDS)));
    rx.stop();
    (dir, capture)
}

#[test]
fn listener_output_received_by_ffmpeg_caller() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("ffmpeg");
    let port = free_port();
    let app = Appliance::start(&two_rung_config(&srt_output(port, "listener", "")));
    app.wait_for_log(&["channel running"], Duration::from_secs(10))
        .expect("channel did not start");
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("ffmpeg.ts");
    let mut rx = Receiver::ffmpeg(
        &format!("srt://127.0.0.1:{port}?mode=caller"),
        CAPTURE_SECONDS,
        &capture,
    );
    assert!(
        rx.wait(Duration::from_secs(30)),
        "ffmpeg did not finish; log:\n{}",
        app.log()
    );
    let report = assert_feed(&capture, &two_rungs(), GOP, MIN_SECONDS);
    assert!(
        !rx.stderr_text().contains("Packet corrupt"),
        "ffmpeg saw corrupt packets:\n{}",
        rx.stderr_text()
    );
    eprintln!(
        "received {:.1} s, bitrates {:?} kb/s, {} aligned IDRs",
        report.seconds, report.measured_kbps, report.keyframes
    );
}

#[test]
fn caller_output_with_aes256_received_by_ffmpeg_listener() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("ffmpeg");
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("ffmpeg.ts");
    // The receiver listens first, as a cloud ingest would.
    let mut rx = Receiver::ffmpeg(
        &format!("srt://127.0.0.1:{port}?mode=listener&passphrase={PASSPHRASE}&pbkeylen=32"),
        CAPTURE_SECONDS,
        &capture,
    );
    std::thread::sleep(Duration::from_millis(500));
    let extra = format!("passphrase = \"{PASSPHRASE}\"\nencryption = \"aes256\"\n");
    let app = Appliance::start(&two_rung_config(&srt_output(port, "caller", &extra)));
    assert!(
        rx.wait(Duration::from_secs(40)),
        "ffmpeg did not finish; log:\n{}",
        app.log()
    );
    assert_feed(&capture, &two_rungs(), GOP, MIN_SECONDS);
    assert!(
        !app.log().contains(PASSPHRASE),
        "the passphrase leaked into the log"
    );
}

#[test]
fn listener_output_with_passphrase_received_by_srt_live_transmit() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("srt-live-transmit");
    let port = free_port();
    let extra = format!("passphrase = \"{PASSPHRASE}\"\n");
    let app = Appliance::start(&two_rung_config(&srt_output(port, "listener", &extra)));
    app.wait_for_log(&["channel running"], Duration::from_secs(10))
        .expect("channel did not start");
    let (_dir, capture) = capture_with_slt(
        &format!("srt://127.0.0.1:{port}?passphrase={PASSPHRASE}"),
        &app,
    );
    let ts = assert_ts_continuity(&capture);
    assert_feed(&capture, &two_rungs(), GOP, MIN_SECONDS);
    // Stable PIDs: rungs at 0x100, 0x101, audio at 0x120.
    for pid in [0x100u16, 0x101, 0x120] {
        assert!(
            ts.pids.contains_key(&pid),
            "PID 0x{pid:x} missing: {:?}",
            ts.pids.keys()
        );
    }
}

#[test]
fn caller_output_received_by_srt_live_transmit_listener() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("srt-live-transmit");
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("capture.ts");
    let mut rx =
        Receiver::srt_live_transmit(&format!("srt://127.0.0.1:{port}?mode=listener"), &capture);
    std::thread::sleep(Duration::from_millis(300));
    let app = Appliance::start(&two_rung_config(&srt_output(port, "caller", "")));
    rx.wait_for_bytes(188 * 100, Duration::from_secs(10))
        .expect("no data");
    let line = app
        .wait_for_log(
            &[
                "first TS packet handed to the transport",
                "since_process_start_ms=",
            ],
            Duration::from_secs(5),
        )
        .expect("start time not logged");
    eprintln!("start time: {line}");
    std::thread::sleep(Duration::from_secs(u64::from(CAPTURE_SECONDS)));
    rx.stop();
    assert_ts_continuity(&capture);
    assert_feed(&capture, &two_rungs(), GOP, MIN_SECONDS);
}

#[test]
fn each_output_carries_only_its_renditions() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("srt-live-transmit");
    let (full, mobile) = (free_port(), free_port());
    let outputs = format!(
        "{}
{}",
        srt_output(full, "listener", ""),
        feedline_tests::srt_output(
            "mobile",
            "listener",
            mobile,
            "renditions = [\"180p\"]
"
        )
    );
    let app = Appliance::start(&two_rung_config(&outputs));
    app.wait_for_log(&["channel running"], Duration::from_secs(10))
        .expect("channel did not start");
    let (_dir, capture) = capture_with_slt(&format!("srt://127.0.0.1:{mobile}"), &app);
    assert_ts_continuity(&capture);
    let rung = ExpectedRung {
        width: 320,
        height: 180,
        fps: 30,
        profile: "Main",
        bitrate_kbps: 400,
    };
    assert_feed(&capture, &[rung], GOP, MIN_SECONDS);
}

#[test]
fn udp_output_received_by_ffmpeg() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("ffmpeg");
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("udp.ts");
    let mut rx = Receiver::ffmpeg(
        &format!("udp://127.0.0.1:{port}?fifo_size=1000000&overrun_nonfatal=1"),
        CAPTURE_SECONDS,
        &capture,
    );
    std::thread::sleep(Duration::from_millis(300));
    let output = format!("[[channels.outputs]]\nname = \"udp\"\ntype = \"udp\"\naddress = \"127.0.0.1\"\nport = {port}\n");
    let app = Appliance::start(&two_rung_config(&output));
    assert!(
        rx.wait(Duration::from_secs(40)),
        "ffmpeg did not finish; log:\n{}",
        app.log()
    );
    assert_feed(&capture, &two_rungs(), GOP, MIN_SECONDS);
}

/// A mixed ladder: an H.264 rung and an HEVC (x265) rung, GOP-aligned with each other.
#[test]
fn hevc_rung_is_received_aligned_with_the_h264_rung() {
    use feedline_tests::analysis::{bitrate_kbps, packets, video_streams};
    use std::collections::BTreeSet;
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("srt-live-transmit");
    let port = free_port();
    let config = two_rung_config(&srt_output(port, "listener", "")).replace(
        "bitrate_kbps = 400\nprofile = \"main\"",
        "bitrate_kbps = 400\ncodec = \"hevc\"\nprofile = \"main\"",
    );
    assert!(
        config.contains("codec = \"hevc\""),
        "test bug: HEVC rung not configured"
    );
    let app = Appliance::start(&config);
    app.wait_for_log(&["channel running"], Duration::from_secs(10))
        .expect("channel did not start");
    let (_dir, capture) = capture_with_slt(&format!("srt://127.0.0.1:{port}"), &app);
    assert_ts_continuity(&capture);
    let video = video_streams(&capture);
    let codecs: Vec<&str> = video.iter().map(|s| s.codec_name.as_str()).collect();
    assert_eq!(codecs, vec!["h264", "hevc"]);
    assert_eq!((video[1].width, video[1].height), (Some(320), Some(180)));
    assert_eq!(video[1].profile.as_deref(), Some("Main"));
    assert_eq!(video[1].r_frame_rate.as_deref(), Some("30/1"));
    let mut keys = Vec::new();
    for (stream, target) in video.iter().zip([1200u32, 400]) {
        let pkts = packets(&capture, stream.index);
        let first = pkts.iter().position(|p| p.keyframe).expect("an IDR");
        let pkts = &pkts[first..];
        assert!(
            pkts.windows(2).all(|w| w[1].pts > w[0].pts),
            "{}: PTS not monotonic",
            stream.codec_name
        );
        let whole = (pkts.len() / GOP as usize) * GOP as usize;
        let kbps = bitrate_kbps(&pkts[..whole], 3000);
        assert!(
            (kbps / f64::from(target) - 1.0).abs() <= 0.15,
            "{}: {kbps:.0} kb/s vs {target}",
            stream.codec_name
        );
        keys.push((
            pkts[0].pts,
            pkts.last().map(|p| p.pts).unwrap_or(0),
            pkts.iter()
                .filter(|p| p.keyframe)
                .map(|p| p.pts)
                .collect::<BTreeSet<i64>>(),
        ));
    }
    let (start, end) = (keys[0].0.max(keys[1].0), keys[0].1.min(keys[1].1));
    let span = |k: &BTreeSet<i64>| k.range(start..=end).copied().collect::<Vec<_>>();
    assert!(span(&keys[0].2).len() >= 3);
    assert_eq!(
        span(&keys[0].2),
        span(&keys[1].2),
        "H.264 and HEVC IDRs must fall on the same PTS"
    );

    // Our own time_code SEI on the HEVC rung (GStreamer 1.22's h265parse cannot write it): on
    // every decodable frame, one frame apart, and the same timecode as the H.264 rung.
    let hevc_tc: Vec<u64> = feedline_tests::analysis::frame_timecodes(&capture, video[1].index)
        .into_iter()
        .skip_while(Option::is_none)
        .map(|t| {
            let t = t.expect("an HEVC frame without timecode");
            feedline_tests::analysis::timecode_to_frames(&t, 30).expect("timecode")
        })
        .collect();
    assert!(
        hevc_tc.len() >= 290,
        "only {} HEVC frames with timecode",
        hevc_tc.len()
    );
    assert!(
        hevc_tc.windows(2).all(|w| w[1] == w[0] + 1),
        "HEVC timecode must advance one frame per frame"
    );
    let h264_tc: Vec<u64> = feedline_tests::analysis::frame_timecodes(&capture, video[0].index)
        .into_iter()
        .flatten()
        .filter_map(|t| feedline_tests::analysis::timecode_to_frames(&t, 30))
        .collect();
    assert!(
        h264_tc.contains(&hevc_tc[hevc_tc.len() / 2]),
        "both rungs carry the same timecode"
    );
}

/// Rendezvous needs two hosts using the same port, so the receiver runs in a network namespace
/// of its own (10.231.7.2), reached over a veth pair.
#[test]
fn rendezvous_output_received_by_srt_live_transmit_on_a_second_host() {
    use feedline_tests::netns::TestHost;
    use std::process::Stdio;
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("srt-live-transmit");
    let host = TestHost::create(7).expect("create the test host");
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("rendezvous.ts");
    let mut rx = host
        .command("srt-live-transmit")
        .args([
            "-q",
            &format!("srt://{}:{port}?mode=rendezvous", host.local_ip),
            "file://con",
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&capture).expect("capture"))
        .stderr(Stdio::null())
        .spawn()
        .expect("receiver in the namespace");
    let output = format!(
        "[[channels.outputs]]\nname = \"rv\"\ntype = \"srt\"\nmode = \"rendezvous\"\naddress = \"{}\"\nport = {port}\n",
        host.remote_ip
    );
    let app = Appliance::start(&two_rung_config(&output));
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::fs::metadata(&capture).map(|m| m.len()).unwrap_or(0) < 188 * 100 {
        assert!(
            std::time::Instant::now() < deadline,
            "no data over rendezvous:\n{}",
            app.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(u64::from(CAPTURE_SECONDS)));
    feedline_tests::appliance::signal(rx.id(), "INT");
    let _ = rx.wait();
    assert_ts_continuity(&capture);
    assert_feed(&capture, &two_rungs(), GOP, MIN_SECONDS);
}
