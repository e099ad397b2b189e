//! Issue #5 §1 and §7: SRT socket groups (libsrt's group API through `feedline-srt`), received
//! by libsrt's own `srt-test-live` listening with `groupconnect=1` (built with the groups
//! Debian's libsrt lacks). Each link of the group reaches the
//! receiver through its own instance of the project's impairment relay, so each path has its
//! own loss, and one can be cut while the other carries on.

use feedline_srt::{GroupMode, GroupSettings, Link, LinkState, SrtGroup};
use feedline_tests::impair::{self, Impairment, Relay};
use feedline_tests::receiver::Receiver;
use feedline_tests::{free_port, require_tool};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One test at a time: the claims are about links under loss, and two tests side by side on
/// two cores (each encoding its test stream, then sending through two relays) starved the
/// relays at the start: the 10 % loss test lost one message 60 ms into the programme in CI
/// (2026-11-24) while the path-cut test's ffmpeg was still encoding.
static SERIAL: Mutex<()> = Mutex::new(());

/// 50 ms RTT on each path; SRT latency 4 × RTT.
const ONE_WAY_MS: u64 = 25;
const LATENCY_MS: u32 = 200;
/// The test stream's constant TS rate.
const MUX_RATE_BPS: u64 = 2_000_000;
const CHUNK: usize = 1316;

fn seconds() -> u64 {
    if std::env::var("FEEDLINE_FULL").is_ok_and(|v| v == "1") {
        60
    } else {
        20
    }
}

/// A constant-rate TS (640x360p30 H.264 + AAC at `MUX_RATE_BPS`), long enough not to loop.
fn test_stream(dir: &Path, seconds: u64) -> PathBuf {
    let path = dir.join("source.ts");
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"])
        .args(["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000"])
        .args(["-t", &seconds.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "30",
            "-b:v",
            "1200k",
        ])
        .args([
            "-maxrate", "1200k", "-bufsize", "600k", "-c:a", "aac", "-b:a", "96k",
        ])
        .args(["-muxrate", &MUX_RATE_BPS.to_string(), "-f", "mpegts"])
        .arg(&path)
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "ffmpeg could not make the test stream");
    path
}

/// Sends `source` on `group` at the stream's rate, in 1316-byte messages, until the end or
/// `stop`; calls `at_second` once a second with the seconds sent so far.
fn send_paced(group: &SrtGroup, source: &[u8], stop: &AtomicBool, mut at_second: impl FnMut(u64)) {
    let per_chunk = Duration::from_secs_f64(CHUNK as f64 * 8.0 / MUX_RATE_BPS as f64);
    let start = Instant::now();
    let mut next_second = 1;
    for (i, chunk) in source.chunks(CHUNK).enumerate() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let due = start + per_chunk * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        // A send can fail for a moment while no link is up; the receiver's continuity check
        // says whether anything was lost.
        let _ = group.send(chunk);
        if start.elapsed() >= Duration::from_secs(next_second) {
            at_second(next_second);
            next_second += 1;
        }
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    capture: PathBuf,
    source: Vec<u8>,
    receiver: Receiver,
    relays: Vec<Relay>,
}

/// The relays' usual loss patterns: path `i` is seeded `DEFAULT_PATTERNS + i`.
const DEFAULT_PATTERNS: u64 = 100;

/// A listening receiver and one relay per path in front of it, each path `link`, path `i`
/// losing packets in the pattern seeded `patterns + i`.
fn setup(paths: usize, link: Impairment, stream_seconds: u64, patterns: u64) -> Setup {
    require_tool("ffmpeg");
    let dir = tempfile::tempdir().expect("tempdir");
    let source = std::fs::read(test_stream(dir.path(), stream_seconds)).expect("source");
    let port = free_port();
    let capture = dir.path().join("received.ts");
    let receiver = Receiver::srt_test_live_groups(
        &format!("srt://:{port}?mode=listener&groupconnect=1&latency={LATENCY_MS}"),
        &capture,
    );
    std::thread::sleep(Duration::from_millis(300));
    let server: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let relays = (0..paths as u64)
        .map(|i| Relay::start(server, link, link, impair::seed(patterns + i)))
        .collect();
    Setup {
        _dir: dir,
        capture,
        source,
        receiver,
        relays,
    }
}

fn broadcast_over(relays: &[Relay]) -> SrtGroup {
    broadcast_with_filter(relays, None)
}

/// A broadcast group over `relays` with libsrt's packet filter `packet_filter`, warmed up as
/// the appliance's group outputs are (null packets until every receiver knows the RTT).
fn broadcast_with_filter(relays: &[Relay], packet_filter: Option<&str>) -> SrtGroup {
    let group = SrtGroup::connect(GroupSettings {
        mode: GroupMode::Broadcast,
        links: relays
            .iter()
            .map(|r| Link {
                bind: None,
                interface: None,
                peer: format!("127.0.0.1:{}", r.port).parse().expect("address"),
                weight: 0,
            })
            .collect(),
        latency_ms: LATENCY_MS,
        passphrase: None,
        key_bytes: 16,
        stream_id: None,
        packet_filter: packet_filter.map(str::to_string),
        connect_timeout_ms: 3000,
        // As the appliance's outputs: answer every loss report.
        retransmit_algorithm: 0,
    })
    .expect("the group connects");
    group.warm_up();
    group
}

/// Stops the receiver and checks what it wrote: every TS packet in order (no continuity
/// error) and no frame missing; returns the number of TS packets.
fn assert_whole(setup: &mut Setup) -> u64 {
    assert_whole_from(setup, 0)
}

/// As `assert_whole`, for what the receiver wrote from byte `from` on. On failure it shows the
/// receiver's log (libsrt's warnings: a member link dropping packets too late, a link breaking)
/// and where in the stream a TS packet number lies.
fn assert_whole_from(setup: &mut Setup, from: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(u64::from(LATENCY_MS) * 3));
    setup.receiver.stop();
    let checked = std::panic::catch_unwind(|| {
        feedline_tests::feed::assert_whole_from(&setup.capture, from as usize)
    });
    checked.unwrap_or_else(|failure| {
        let ts_packets_per_second = MUX_RATE_BPS as f64 / (188.0 * 8.0);
        eprintln!(
            "TS packet n was sent n / {ts_packets_per_second:.1} s into the stream (from byte {from}); the receiver's log:\n{}",
            setup.receiver.stderr_text()
        );
        std::panic::resume_unwind(failure)
    })
}

/// Loss patterns (the same as `FEEDLINE_IMPAIR_SEED=33` with the usual ones) under which,
/// without the group's warm-up, both paths lost a packet and its retransmissions in the first
/// 100 ms, before the receiver knew the RTT: the stream lost it in 3 of 3 runs.
const WARM_UP_PATTERNS: u64 = 33_000 + DEFAULT_PATTERNS;

/// Every loss report answered (`retransmit_algorithm: 0`): with libsrt's default "reduced"
/// retransmission this lost 2 packets in one CI run of 20 s. Checked from the first byte, on
/// loss patterns that need the group's warm-up (without it, 5 of 9 patterns lost a packet in
/// the first 100 ms, these ones every time).
#[test]
fn broadcast_group_over_two_paths_at_10_percent_loss_each_loses_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let link = Impairment::lossy(ONE_WAY_MS, 0.10);
    let mut setup = setup(2, link, seconds() + 2, WARM_UP_PATTERNS);
    let group = broadcast_over(&setup.relays);
    let links = Mutex::new(Vec::new());
    // Looked at every second: a lossy path that still answers is never called silent.
    let not_active = Mutex::new(Vec::new());
    send_paced(&group, &setup.source, &AtomicBool::new(false), |s| {
        let now = group.links();
        if now.iter().any(|l| l.state != LinkState::Active) {
            not_active.lock().expect("states").push((s, now.clone()));
        }
        if s == 3 {
            *links.lock().expect("links") = now;
        }
    });
    let not_active = not_active.into_inner().expect("states");
    assert!(not_active.is_empty(), "links not active: {not_active:?}");
    let links = links.into_inner().expect("links");
    assert_eq!(links.len(), 2);
    for link in &links {
        assert_eq!(link.state, LinkState::Active, "{link:?}");
        assert!(link.packets_sent > 0 && link.rtt_ms > 0.0, "{link:?}");
        assert!(
            link.packets_retransmitted > 0,
            "10 % loss but no retransmission: {link:?}"
        );
    }
    let packets = assert_whole(&mut setup);
    impair::assert_paths_lost(&setup.relays, 0.10);
    println!(
        "broadcast group, 2 paths at 10% loss both ways, 50 ms RTT, latency {LATENCY_MS} ms, {} s: {packets} TS packets, 0 continuity errors; links at 3 s: {links:?}",
        seconds()
    );
}

/// libsrt's FEC filter runs per member link. Path A is down when the group connects (so the
/// group starts on B alone, A's call still pending) and comes back after a second: A's FEC
/// matrix then starts mid-stream. Both paths lose 10 % both ways; the receiver must see every
/// packet, and every link must carry the FEC packets. This is the measurement behind the
/// appliance refusing `fec` on an `srt_group` output (config validation).
#[test]
#[ignore = "measurement: with FEC, a link joining mid-stream made the receiver write garbage rebuilt packets in 2 of 3 runs beside the other group tests (passed alone), so the appliance refuses FEC on a group"]
fn broadcast_group_with_packet_filter_fec_loses_nothing_when_a_link_joins_mid_stream() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let link = Impairment::lossy(ONE_WAY_MS, 0.10);
    let mut setup = setup(2, link, seconds() + 2, DEFAULT_PATTERNS);
    setup.relays[0].cut(true);
    let group = broadcast_with_filter(&setup.relays, Some("fec,cols:5,rows:2,arq:always"));
    let links = Mutex::new(Vec::new());
    let settled_at = Mutex::new(0);
    send_paced(&group, &setup.source, &AtomicBool::new(false), |s| {
        // Checked from here, as the other loss test: the first second is path B alone settling
        // from a default RTT estimate; path A's join comes after.
        if s == 1 {
            *settled_at.lock().expect("settled") = setup.receiver.captured_bytes();
            setup.relays[0].cut(false);
        }
        if s == seconds() / 2 {
            *links.lock().expect("links") = group.links();
        }
    });
    let links = links.into_inner().expect("links");
    let settled_at = settled_at.into_inner().expect("settled");
    let packets = assert_whole_from(&mut setup, settled_at);
    for link in &links {
        assert_eq!(link.state, LinkState::Active, "{links:?}");
    }
    // FEC 5×2 adds a row packet per 5 and a column packet per 2 rows (70 %), on top of the
    // stream and its retransmissions; link B has sent for the whole half-run.
    let stream_packets = (MUX_RATE_BPS * (seconds() / 2)) as f64 / (CHUNK as f64 * 8.0);
    assert!(
        links[1].packets_sent as f64 > stream_packets * 1.4,
        "link B sent {} packets for a stream of {stream_packets:.0}: no FEC? {links:?}",
        links[1].packets_sent
    );
    println!(
        "broadcast group + FEC 5x2 (ARQ always), 2 paths at 10% loss both ways, path A joining after 1 s: {packets} TS packets, 0 continuity errors; links at {} s: {links:?}",
        seconds() / 2
    );
}

#[test]
fn broadcast_group_keeps_the_stream_whole_while_one_path_is_cut_for_10_seconds_and_rejoins() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let link = Impairment::lossy(ONE_WAY_MS, 0.0);
    let mut setup = setup(2, link, 22, DEFAULT_PATTERNS);
    let group = broadcast_over(&setup.relays);
    let stop = Arc::new(AtomicBool::new(false));
    let during_cut = Mutex::new(Vec::new());
    let early_in_cut = Mutex::new(Vec::new());
    let b_sent = Mutex::new((0, 0));
    let reconnected = Mutex::new(0);
    let after = Mutex::new(Vec::new());
    send_paced(&group, &setup.source, &stop, |s| match s {
        5 => {
            setup.relays[0].cut(true);
            b_sent.lock().expect("b").0 = group.links()[1].packets_sent;
        }
        // Silence is judged between two looks at the link (the appliance looks every 250 ms):
        // one a second into the cut, once any reply in flight has landed, one 2 s later.
        6 => {
            group.links();
        }
        8 => *early_in_cut.lock().expect("links") = group.links(),
        14 => {
            *during_cut.lock().expect("links") = group.links();
            b_sent.lock().expect("b").1 = group.links()[1].packets_sent;
        }
        15 => setup.relays[0].cut(false),
        16 => *reconnected.lock().expect("reconnected") = group.maintain().dialled,
        19 => *after.lock().expect("after") = group.links(),
        _ => {}
    });
    let reconnected = reconnected.into_inner().expect("reconnected");
    let after = after.into_inner().expect("after");
    assert_eq!(
        reconnected, 1,
        "the cut link was not reconnected once its path returned"
    );
    assert_eq!(
        after[0].state,
        LinkState::Active,
        "path A after it returned: {:?}",
        after[0]
    );
    let early_in_cut = early_in_cut.into_inner().expect("links");
    assert_eq!(
        (early_in_cut[0].state, early_in_cut[1].state),
        (LinkState::Silent, LinkState::Active),
        "3 s into the cut, before libsrt's peer idle timeout: {early_in_cut:?}"
    );
    let during_cut = during_cut.into_inner().expect("links");
    let (b_before, b_after) = b_sent.into_inner().expect("b");
    assert!(
        b_after - b_before > 1500,
        "path B carried {} packets in the cut",
        b_after - b_before
    );
    assert_ne!(
        during_cut[0].state,
        LinkState::Active,
        "the cut path still shows active after 9 s: {:?}",
        during_cut[0]
    );
    assert_eq!(
        during_cut[1].state,
        LinkState::Active,
        "{:?}",
        during_cut[1]
    );
    let packets = assert_whole(&mut setup);
    println!(
        "broadcast group, path A cut 10 s: {packets} TS packets, 0 continuity errors; links 3 s into the cut: {early_in_cut:?}; 9 s into it: {during_cut:?}"
    );
}
