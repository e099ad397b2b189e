//! Issue #5 §1 and §7, end to end: the appliance's `srt_group` output (libsrt socket groups),
//! received by libsrt's own `srt-test-live` listening with `groupconnect=1`. Each link reaches
//! the receiver through its own instance of the project's impairment relay, so each path has
//! its own loss and can be cut alone. What the receiver wrote is checked packet by packet;
//! what the appliance says about each link is read from its status API and its metrics.

use feedline_tests::api::{scrape_checked_metrics, set_up_admin, Client, Deployment};
use feedline_tests::appliance::Appliance;
use feedline_tests::impair::{self, Impairment, Relay};
use feedline_tests::netns::{tx_bytes, HostPath, TestHost};
use feedline_tests::receiver::Receiver;
use feedline_tests::{free_port, require_tool};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// One appliance at a time: the claims are about links, and two encoders plus relays on two
/// cores made the lossy run late enough to lose packets to the latency (2 continuity errors
/// in one run beside the namespace test).
static SERIAL: Mutex<()> = Mutex::new(());

/// 50 ms RTT on each path; SRT latency 4 × RTT.
const ONE_WAY_MS: u64 = 25;
const LATENCY_MS: u64 = 200;
/// A backup group's latency, 8 × RTT. libsrt resends on the standby what the main link had not
/// got acknowledged once it calls the main unstable (measured 100–160 ms after the cut), and
/// those packets must still reach the receiver within the latency. Even so, libsrt 1.5.1 drops
/// a block of stream at the switch in about one run in ten, at 400 ms and at 1000 ms alike
/// (`MAX_BACKUP_SWITCH_LOSS_MS`).
const BACKUP_LATENCY_MS: u64 = 400;
/// The most stream a switch to the standby may lose. Measured: nothing in most runs; 36–333 ms
/// in 13 of 98 runs at latency 400 ms, and up to 564 ms in 6 of 40 at 1000 ms (1 of 42 runs,
/// 33 ms, on 2026-11-23). The receiver's member links log no drop and the sender resends its
/// whole unacknowledged buffer, so the drop is inside libsrt's group receiver or sender buffer;
/// not pinned down (README, Known limitations).
const MAX_BACKUP_SWITCH_LOSS_MS: i64 = 600;

fn seconds() -> u64 {
    if std::env::var("FEEDLINE_FULL").is_ok_and(|v| v == "1") {
        60
    } else {
        20
    }
}

/// An `srt_group` output table with one link per relay.
fn group_output(mode: &str, relays: &[Relay], latency_ms: u64) -> String {
    let links: Vec<String> = relays
        .iter()
        .map(|r| format!("{{ address = \"127.0.0.1\", port = {} }}", r.port))
        .collect();
    format!(
        "[[channels.outputs]]\nname = \"bonded\"\ntype = \"srt_group\"\nmode = \"{mode}\"\n\
         latency_ms = {latency_ms}\nlinks = [{}]\n",
        links.join(", ")
    )
}

struct Rig {
    _dir: tempfile::TempDir,
    capture: PathBuf,
    receiver: Receiver,
    relays: Vec<Relay>,
    deployment: Deployment,
    appliance: Appliance,
    admin: Client,
    latency_ms: u64,
}

/// A group receiver, two relays with `link` each way in front of it, and the appliance with
/// a `mode` group output over them, delivering.
fn rig(mode: &str, link: Impairment, latency_ms: u64) -> Rig {
    require_tool("promtool");
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let capture = dir.path().join("received.ts");
    let receiver = Receiver::srt_test_live_groups(
        &format!("srt://:{port}?mode=listener&groupconnect=1&latency={latency_ms}"),
        &capture,
    );
    let server = format!("127.0.0.1:{port}").parse().expect("address");
    let relays: Vec<Relay> = (0..2)
        .map(|i| Relay::start(server, link, link, impair::seed(500 + i)))
        .collect();
    let deployment = Deployment::two_rung(
        dir.path(),
        false,
        "",
        &group_output(mode, &relays, latency_ms),
    );
    let appliance = deployment.start();
    let (admin, _) = set_up_admin(&deployment, &appliance);
    receiver
        .wait_for_bytes(50_000, Duration::from_secs(20))
        .unwrap_or_else(|| panic!("nothing arrived over the group:\n{}", appliance.log()));
    Rig {
        _dir: dir,
        capture,
        receiver,
        relays,
        deployment,
        appliance,
        admin,
        latency_ms,
    }
}

/// The messages of the appliance's `output_link` events, oldest first.
fn link_events(admin: &Client) -> Vec<String> {
    let mut events: Vec<String> = admin.get("/api/v1/events?channel=test&limit=200").json()
        ["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "output_link")
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect();
    // The API lists the newest first.
    events.reverse();
    events
}

/// The group output's links as the status API shows them.
fn links(admin: &Client) -> Vec<serde_json::Value> {
    let status = admin.get("/api/v1/status").json();
    let output = &status["channels"][0]["outputs"][0];
    assert_eq!(output["transport"], "srt-group", "{output}");
    output["links"].as_array().cloned().unwrap_or_default()
}

/// What the status API and the metrics say of active link `i`, which reaches `address`: its
/// address, the latency agreed with the receiver, and its state series.
fn assert_link_reported_active(link: &serde_json::Value, i: usize, address: &str, metrics: &str) {
    assert_eq!(link["state"], "active", "{link}");
    assert_eq!(link["address"], address, "{link}");
    assert_eq!(
        link["srt"]["negotiated_latency_ms"].as_u64(),
        Some(LATENCY_MS),
        "{link}"
    );
    let series = format!(
        "feedline_srt_link_state{{channel=\"test\",output=\"bonded\",link=\"{i}\",address=\"{address}\",state=\"active\"}} 1"
    );
    assert!(metrics.contains(&series), "no {series} in:\n{metrics}");
}

fn states(links: &[serde_json::Value]) -> Vec<String> {
    links
        .iter()
        .map(|l| l["state"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Stops the receiver and checks the stream from `from_byte` on: every TS packet in order
/// (no continuity error) and no frame missing. Returns the number of TS packets checked. The
/// capture is kept as `<test>.ts`.
fn assert_whole_from(rig: &mut Rig, from_byte: usize, test: &str) -> u64 {
    assert_received_whole(
        &mut rig.receiver,
        &rig.capture,
        from_byte,
        rig.latency_ms,
        test,
    )
}

fn assert_received_whole(
    receiver: &mut Receiver,
    capture: &Path,
    from_byte: usize,
    latency_ms: u64,
    test: &str,
) -> u64 {
    std::thread::sleep(Duration::from_millis(latency_ms * 3));
    receiver.stop();
    // After a failure: the capture and the receiver's log, one pair per test (a later test
    // must not overwrite an earlier one's evidence).
    let kept = kept(&format!("{test}.ts"));
    let _ = std::fs::copy(capture, &kept);
    let _ = std::fs::copy(&receiver.stderr, kept.with_extension("stderr"));
    feedline_tests::feed::assert_whole_from(capture, from_byte)
}

/// Where a file kept for after a failure goes.
fn kept(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn keep_log(appliance: &Appliance, name: &str) {
    let _ = std::fs::write(kept(&format!("{name}.log")), appliance.log());
}

/// The appliance answers every loss report; with libsrt's default "reduced" retransmission this
/// lost 2 packets in one run beside another appliance.
#[test]
fn broadcast_group_output_over_two_paths_at_10_percent_loss_each_loses_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut rig = rig("broadcast", Impairment::lossy(ONE_WAY_MS, 0.10), LATENCY_MS);
    std::thread::sleep(Duration::from_secs(seconds() / 2));
    let during = links(&rig.admin);
    let metrics = scrape_checked_metrics(rig.deployment.ports, None);
    std::thread::sleep(Duration::from_secs(seconds() - seconds() / 2));
    keep_log(&rig.appliance, "srt_group_broadcast");
    // From the first byte: the group's warm-up gives each receiver its RTT first.
    let packets = assert_whole_from(&mut rig, 0, "srt_group_broadcast");
    // The warm-up is on the wire: the stream opens with null packets (PID 0x1FFF), the
    // programme after them.
    let received = std::fs::read(&rig.capture).expect("capture");
    let first_pids: Vec<u16> = received
        .chunks_exact(188)
        .take(7)
        .map(|p| (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]))
        .collect();
    assert_eq!(
        first_pids, [0x1fff; 7],
        "the stream does not open with the warm-up"
    );

    assert_eq!(states(&during), ["active", "active"], "{during:?}");
    for (i, link) in during.iter().enumerate() {
        let address = format!("127.0.0.1:{}", rig.relays[i].port);
        assert_link_reported_active(link, i, &address, &metrics);
        assert!(
            link["srt"]["packets_retransmitted"].as_u64() > Some(0),
            "10 % loss but no retransmission on link {i}: {link}"
        );
        assert!(link["srt"]["rtt_ms"].as_f64() > Some(0.0), "{link}");
    }
    impair::assert_paths_lost(&rig.relays, 0.10);
    println!(
        "appliance srt_group broadcast, 2 paths at 10% loss both ways, 50 ms RTT, latency {LATENCY_MS} ms, {} s: {packets} TS packets, 0 continuity errors, 0 lost frames; links: {during:?}",
        seconds()
    );
}

/// §7: "SRT broadcast group over two paths, one path cut for 10 s mid-stream: 0 continuity
/// errors", end to end through the appliance, with 2 % loss both ways on each path. The cut link
/// must show `silent`, then be given up and redialled by the appliance, and carry the stream
/// again once its path is back; the output must say so in alarms and events.
#[test]
fn broadcast_group_output_keeps_the_stream_whole_while_one_path_is_cut_for_10_seconds() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut rig = rig("broadcast", Impairment::lossy(ONE_WAY_MS, 0.02), LATENCY_MS);
    std::thread::sleep(Duration::from_secs(3));
    let before = links(&rig.admin);
    rig.relays[0].cut(true);
    std::thread::sleep(Duration::from_secs(2));
    let early = links(&rig.admin);
    let alarms = rig.admin.get("/api/v1/alarms").json();
    std::thread::sleep(Duration::from_secs(7));
    let late = links(&rig.admin);
    std::thread::sleep(Duration::from_secs(1));
    rig.relays[0].cut(false);
    std::thread::sleep(Duration::from_secs(6));
    let after = links(&rig.admin);
    let events = link_events(&rig.admin);
    keep_log(&rig.appliance, "srt_group_broadcast_cut");
    let packets = assert_whole_from(&mut rig, 0, "srt_group_broadcast_cut");

    assert_eq!(states(&before), ["active", "active"], "{before:?}");
    assert_eq!(
        states(&early),
        ["silent", "active"],
        "2 s into the cut: {early:?}"
    );
    // libsrt gives the link up after its peer idle timeout (about 7 s; once, in earlier runs,
    // after more than 15 s): down or being redialled by now, or still silent, never active.
    assert!(
        matches!(states(&late)[0].as_str(), "down" | "connecting" | "silent"),
        "9 s into the cut: {late:?}"
    );
    assert_eq!(states(&late)[1], "active", "{late:?}");
    assert_eq!(
        states(&after),
        ["active", "active"],
        "the cut link did not come back with its path: {after:?}"
    );
    let link_1 = format!("link 1 (127.0.0.1:{})", rig.relays[0].port);
    assert!(
        alarms.as_array().into_iter().flatten().any(|a| a["message"]
            == format!("output bonded: 1 of 2 links carrying the stream; {link_1} silent")),
        "no alarm for the cut link: {alarms}"
    );
    let cut_events: Vec<&String> = events.iter().filter(|e| e.contains(&link_1)).collect();
    assert!(
        cut_events.iter().any(|e| e.ends_with("active → silent")),
        "{events:?}"
    );
    assert!(
        cut_events.last().is_some_and(|e| e.ends_with("→ active")),
        "the cut link's last event is not its return: {events:?}"
    );
    println!(
        "appliance srt_group broadcast, 2 % loss per path, path 1 cut 10 s: {packets} TS packets, 0 continuity errors, 0 lost frames; links before {:?}, 2 s into the cut {:?}, 9 s {:?}, after {:?}; link 1 events {cut_events:?}",
        states(&before),
        states(&early),
        states(&late),
        states(&after)
    );
}

#[test]
fn backup_group_output_moves_to_the_standby_link_when_the_main_path_is_cut() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut rig = rig(
        "backup",
        Impairment::lossy(ONE_WAY_MS, 0.0),
        BACKUP_LATENCY_MS,
    );
    std::thread::sleep(Duration::from_secs(3));
    let before = links(&rig.admin);
    let received = |rig: &Rig| std::fs::metadata(&rig.capture).map_or(0, |m| m.len() as usize);
    // What the receiver had written before the cut, and once the switch is long over (libsrt
    // calls the main unstable within 160 ms; the latency is 400 ms).
    let before_cut = received(&rig);
    rig.relays[0].cut(true);
    std::thread::sleep(Duration::from_secs(3));
    let switched = received(&rig);
    std::thread::sleep(Duration::from_secs(5));
    let during = links(&rig.admin);
    std::thread::sleep(Duration::from_secs(2));
    rig.relays[0].cut(false);
    std::thread::sleep(Duration::from_secs(6));
    let after = links(&rig.admin);
    keep_log(&rig.appliance, "srt_group_backup");
    // On the standby, and back on the main once its path returned: whole.
    let packets = assert_whole_from(&mut rig, switched, "srt_group_backup");
    // On the main before the cut: whole.
    let packets = packets + feedline_tests::feed::assert_whole_between(&rig.capture, 0, before_cut);
    // Across the switch: the pictures go on, with at most one short hole (see
    // `MAX_BACKUP_SWITCH_LOSS_MS`).
    let switch = feedline_tests::feed::capture_part(&rig.capture, before_cut, switched);
    let switch_ts = feedline_tests::ts::check(&std::fs::read(&switch).expect("switch part"));
    let frames = feedline_tests::analysis::packets(&switch, 0);
    let frame_ticks = 3000;
    let hole_ms = feedline_tests::analysis::dts_gaps(&frames, frame_ticks)
        .into_iter()
        .max()
        .map_or(0, |gap| (gap - frame_ticks) / 90);
    let span_ms = frames.last().map_or(0, |l| l.dts - frames[0].dts) / 90;
    assert!(
        span_ms >= 2000 && hole_ms <= MAX_BACKUP_SWITCH_LOSS_MS,
        "across the switch to the standby: {span_ms} ms of pictures, largest hole {hole_ms} ms, \
         {} continuity errors {:?}",
        switch_ts.continuity_errors,
        switch_ts.errors
    );
    // The receiver is gone and the main path cut again: the group is calling dead links, and
    // SIGTERM still stops the appliance within 2 s.
    rig.relays[0].cut(true);
    std::thread::sleep(Duration::from_secs(2));
    let (exit, took) = rig
        .appliance
        .terminate(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no exit after SIGTERM:\n{}", rig.appliance.log()));
    assert!(exit.success(), "exit {exit:?}");
    assert!(took < Duration::from_secs(2), "SIGTERM took {took:?}");

    assert_eq!(states(&before), ["active", "standby"], "{before:?}");
    assert_ne!(states(&during)[0], "active", "{during:?}");
    assert_eq!(states(&during)[1], "active", "{during:?}");
    assert_ne!(
        states(&after)[0],
        "down",
        "the main link did not come back after its path returned: {after:?}"
    );
    println!(
        "appliance srt_group backup, latency {BACKUP_LATENCY_MS} ms, 50 ms RTT, main path cut 10 s: {packets} TS packets whole before the cut and after the switch; at the switch: {} continuity errors, largest hole {hole_ms} ms; links before {:?}, during {:?}, after {:?}; SIGTERM with dead links: stopped in {took:?}",
        switch_ts.continuity_errors,
        states(&before),
        states(&during),
        states(&after)
    );
}

/// Source routing for multi-homed sending: traffic from each path's local address, or tied to
/// its interface, leaves by that path's interface (its own table), as a box with two ISPs is
/// set up; anything else to the receiver takes the first path. Removed on drop.
struct SourceRoutes {
    /// (local address, interface, table) per path.
    rules: Vec<(String, String, String)>,
}

impl SourceRoutes {
    fn install(paths: &[(&HostPath, u32)], receiver: &str) -> SourceRoutes {
        let ip = |args: &[&str]| {
            let ok = std::process::Command::new("ip")
                .args(args)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "ip {}", args.join(" "));
        };
        let mut routes = SourceRoutes { rules: Vec::new() };
        for (path, table) in paths {
            let table = table.to_string();
            ip(&[
                "route",
                "add",
                receiver,
                "via",
                &path.remote_ip,
                "dev",
                &path.interface,
                "table",
                &table,
            ]);
            ip(&["rule", "add", "from", &path.local_ip, "table", &table]);
            ip(&["rule", "add", "oif", &path.interface, "table", &table]);
            routes
                .rules
                .push((path.local_ip.clone(), path.interface.clone(), table));
        }
        let first = paths[0].0;
        ip(&[
            "route",
            "add",
            receiver,
            "via",
            &first.remote_ip,
            "dev",
            &first.interface,
        ]);
        routes
    }
}

impl Drop for SourceRoutes {
    fn drop(&mut self) {
        for (from, interface, table) in &self.rules {
            let _ = std::process::Command::new("ip")
                .args(["rule", "del", "from", from, "table", table])
                .status();
            let _ = std::process::Command::new("ip")
                .args(["rule", "del", "oif", interface, "table", table])
                .status();
            let _ = std::process::Command::new("ip")
                .args(["route", "flush", "table", table])
                .status();
        }
    }
}

/// §1: each link bound to its own local address leaves by its own interface. The receiver is
/// a second host (a network namespace) reachable over two veth paths at one address; without
/// the bind, the kernel would send both links down the first path.
#[test]
fn each_group_link_leaves_by_its_own_interface() {
    bound_links(Tie::Address, false);
}

/// The same with each link tied to its interface by name (`SO_BINDTODEVICE`), no local
/// address configured: the way to bond an uplink whose address changes.
#[test]
fn group_links_tied_to_interface_names_leave_by_those_interfaces() {
    bound_links(Tie::Interface, false);
}

/// The same, then the second path's far end goes down: the status and the metrics must show
/// that link `silent` within 2.5 s (libsrt itself breaks it only after its peer idle timeout:
/// about 7 s in most runs, and in about one run of six it still called it running after 15 s),
/// the stream must stay whole, and the link must carry the stream again once its path is back.
#[test]
fn a_bound_group_shows_the_link_of_a_dead_path_silent_and_stays_whole() {
    bound_links(Tie::Address, true);
}

/// How a link is made to leave by its path.
#[derive(Clone, Copy, PartialEq)]
enum Tie {
    /// `bind = "<the path's local address>"`, with source routing.
    Address,
    /// `interface = "<the path's interface>"`.
    Interface,
}

impl Tie {
    /// The link's TOML keys that tie it to `path`.
    fn keys(self, path: &HostPath) -> String {
        match self {
            Tie::Address => format!("bind = \"{}\"", path.local_ip),
            Tie::Interface => format!("interface = \"{}\"", path.interface),
        }
    }
}

fn bound_links(tie: Tie, cut_second_path: bool) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    const RECEIVER: &str = "10.231.99.1";
    let mut host = TestHost::create(41).expect("create the receiving host");
    let second = host.add_path(42).expect("second path");
    let first = host.paths[0].clone();
    host.ip(&["addr", "add", &format!("{RECEIVER}/32"), "dev", "lo"])
        .expect("receiver address");
    let _routes = SourceRoutes::install(&[(&first, 4141), (&second, 4142)], RECEIVER);

    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let capture = dir.path().join("received.ts");
    // Bound to the receiver's address, not any: its replies must come from the address the
    // links call, or libsrt's caller ignores them.
    let receiver_uri =
        format!("srt://{RECEIVER}:{port}?mode=listener&groupconnect=1&latency={LATENCY_MS}");
    let receiver = Receiver::srt_test_live_groups_on(&host, &receiver_uri, &capture);
    std::thread::sleep(Duration::from_millis(300));
    let output = format!(
        "[[channels.outputs]]\nname = \"bonded\"\ntype = \"srt_group\"\nmode = \"broadcast\"\n\
         latency_ms = {LATENCY_MS}\nlinks = [{{ address = \"{RECEIVER}\", port = {port}, {} }}, \
         {{ address = \"{RECEIVER}\", port = {port}, {} }}]\n",
        tie.keys(&first),
        tie.keys(&second)
    );
    let deployment = Deployment::two_rung(dir.path(), false, "", &output);
    let appliance = deployment.start();
    let (admin, _) = set_up_admin(&deployment, &appliance);
    let (mut receiver, capture) =
        until_the_stream_arrives(receiver, &host, &receiver_uri, capture, &appliance);
    // A link that has just connected stands idle until the group's next send activates it;
    // the claim is about both carrying the stream once they do.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while states(&links(&admin)) != ["active", "active"] && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
    }
    let sent_before = [tx_bytes(&first.interface), tx_bytes(&second.interface)];
    let links_before = links(&admin);
    std::thread::sleep(Duration::from_secs(5));
    let sent = [
        tx_bytes(&first.interface) - sent_before[0],
        tx_bytes(&second.interface) - sent_before[1],
    ];
    let both = links(&admin);
    let metrics = scrape_checked_metrics(deployment.ports, None);
    let cut = cut_second_path.then(|| {
        second_path_far_end(&host, &second, "down");
        // Nothing comes back on the dead path: the link shows `silent` once it has sent for a
        // second without a reply, long before libsrt's peer idle timeout breaks it.
        let cut_at = std::time::Instant::now();
        let mut during = links(&admin);
        while states(&during)[1] == "active" && cut_at.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(100));
            during = links(&admin);
        }
        let noticed = cut_at.elapsed();
        let metrics = scrape_checked_metrics(deployment.ports, None);
        let alarms = admin.get("/api/v1/alarms").json();
        // How long libsrt itself takes to give the link up (5 s peer idle timeout and 16
        // expiries): measured, not a claim.
        let mut broken = None;
        while broken.is_none() && cut_at.elapsed() < Duration::from_secs(12) {
            std::thread::sleep(Duration::from_millis(250));
            if matches!(states(&links(&admin))[1].as_str(), "down" | "connecting") {
                broken = Some(cut_at.elapsed());
            }
        }
        second_path_far_end(&host, &second, "up");
        std::thread::sleep(Duration::from_secs(5));
        let after = links(&admin);
        let events = link_events(&admin);
        (during, metrics, alarms, events, after, noticed, broken)
    });
    let test = match (tie, cut_second_path) {
        (Tie::Address, false) => "srt_group_bind",
        (Tie::Interface, _) => "srt_group_bind_interface",
        (Tie::Address, true) => "srt_group_bind_dead_path",
    };
    keep_log(&appliance, test);
    let packets = assert_received_whole(&mut receiver, &capture, 0, LATENCY_MS, test);

    assert_eq!(states(&both), ["active", "active"], "{both:?}");
    for (i, link) in both.iter().enumerate() {
        assert_link_reported_active(link, i, &format!("{RECEIVER}:{port}"), &metrics);
        // A link may have been dialled again at the start (its member's counters restart):
        // what counts is what each sent in the window.
        let sent = |l: &serde_json::Value| l["srt"]["packets_sent"].as_u64().unwrap_or(0);
        assert!(
            sent(link) > sent(&links_before[i]) + 500,
            "link {i} sent {} packets in 5 s: {link}",
            sent(link).saturating_sub(sent(&links_before[i]))
        );
    }
    for (link, path) in both.iter().zip([&first, &second]) {
        let (bind, interface) = match tie {
            Tie::Address => (json!(path.local_ip), json!(null)),
            Tie::Interface => (json!(null), json!(path.interface)),
        };
        assert_eq!(
            (&link["bind"], &link["interface"]),
            (&bind, &interface),
            "{both:?}"
        );
    }
    // Broadcast: each path carries the whole stream (~1.5 Mb/s of TS, ~0.9 MB in 5 s).
    for (path, bytes) in [&first, &second].iter().zip(sent) {
        assert!(
            bytes > 500_000,
            "{} carried only {bytes} bytes in 5 s: {sent:?}",
            path.interface
        );
    }
    let ratio = sent[0] as f64 / sent[1] as f64;
    assert!((0.7..1.4).contains(&ratio), "paths carried {sent:?}");
    if let Some((during, metrics, alarms, events, after, noticed, broken)) = &cut {
        assert_eq!(states(during), ["active", "silent"], "{during:?}");
        assert!(
            *noticed < Duration::from_millis(2500),
            "the dead path's link showed active for {noticed:?}"
        );
        assert!(
            metrics.contains(&format!(
                "feedline_srt_link_state{{channel=\"test\",output=\"bonded\",link=\"1\",address=\"{RECEIVER}:{port}\",state=\"silent\"}} 1"
            )),
            "no silent link in the metrics:\n{metrics}"
        );
        // The output carries on over the first path, and says a path is lost.
        let link_2 = format!("link 2 ({} → {RECEIVER}:{port})", second.local_ip);
        assert!(
            alarms.as_array().into_iter().flatten().any(|a| {
                a["severity"] == "warning"
                    && a["source"] == "output/bonded"
                    && a["message"]
                        == format!(
                            "output bonded: 1 of 2 links carrying the stream; {link_2} silent"
                        )
            }),
            "no alarm for the silent link: {alarms}"
        );
        assert!(
            events
                .iter()
                .any(|e| e == &format!("output test/bonded {link_2}: active → silent")),
            "no event for the silent link: {events:?}"
        );
        assert_eq!(
            states(after),
            ["active", "active"],
            "the second link did not come back with its path: {after:?}"
        );
        assert!(
            events.last().is_some_and(|e| e.ends_with("→ active")),
            "the last link event is not its return: {events:?}"
        );
        println!(
            "second path down: link 2 shown silent after {noticed:.1?}, libsrt gave it up after {broken:.1?}; links during {:?}, after {:?}; link events {events:?}",
            states(during),
            states(after)
        );
    }
    println!(
        "appliance srt_group broadcast, links tied by {} and {}: {sent:?} bytes out of each interface in 5 s; {packets} TS packets, 0 continuity errors, 0 lost frames",
        tie.keys(&first),
        tie.keys(&second),
    );
}

/// Waits for the group's stream at the receiver. `srt-test-live` ends when its group breaks,
/// where a receiver in service keeps listening, and one CI run saw a group break 25 ms after
/// its first packet (cause not found; README, Known limitations). If the receiver ends before
/// the stream has arrived it is started once more, with both logs printed and kept, and the
/// appliance must dial again and deliver: every later claim is held against that stream.
fn until_the_stream_arrives(
    mut receiver: Receiver,
    host: &TestHost,
    uri: &str,
    mut capture: PathBuf,
    appliance: &Appliance,
) -> (Receiver, PathBuf) {
    const STREAM_BYTES: u64 = 50_000;
    let mut restarted = false;
    let mut deadline = std::time::Instant::now() + Duration::from_secs(20);
    while receiver.captured_bytes() < STREAM_BYTES {
        if !restarted && receiver.has_exited() {
            let notice = format!(
                "the receiver ended after {} bytes, before the stream arrived; started again\n\
                 receiver:\n{}\nappliance:\n{}",
                receiver.captured_bytes(),
                receiver.stderr_text(),
                appliance.log()
            );
            println!("{notice}");
            let _ = std::fs::write(kept("srt-group-receiver-restart.log"), &notice);
            capture = capture.with_file_name("received-after-restart.ts");
            receiver = Receiver::srt_test_live_groups_on(host, uri, &capture);
            restarted = true;
            deadline = std::time::Instant::now() + Duration::from_secs(20);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing arrived over the group (receiver started again: {restarted}):\n{}\nreceiver:\n{}",
            appliance.log(),
            receiver.stderr_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (receiver, capture)
}

fn second_path_far_end(host: &TestHost, path: &HostPath, state: &str) {
    host.ip(&["link", "set", &path.peer_interface, state])
        .unwrap_or_else(|e| panic!("{e}"));
}
