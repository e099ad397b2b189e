//! Issue #6 §6 (and §3 inside a real kernel): the appliance image as users flash it. A Debian 12
//! image with the Feedline .deb is built with mmdebstrap (scripts/vm-image.sh) and booted under
//! QEMU (TCG, 2 vCPUs) with port forwards on the host's loopback. In it, Linux's `vivid` driver
//! is the HDMI input. The test shows, through the forwarded ports and real receivers on the host:
//! - systemd starts the daemon and it reaches READY (the notify unit goes active); the API answers;
//! - the first-boot setup code is in the journal and on the console, and setting up the admin
//!   with it works;
//! - `modprobe vivid` gives an HDMI input that the API lists with its DV timings, and the channel
//!   captures it: srt-live-transmit on the host receives the SRT stream with vivid's pattern in
//!   it, and the web UI (Chromium on the host) shows the format on the channel card and the
//!   System page;
//! - vivid's `dv_timings_signal_mode` set to "no signal", then "out of range", is reported as
//!   such (API and browser) and the output switches to slate without stopping; the channel has
//!   no failover section, so this is the capture input's implicit failover; the signal returning in another format re-opens only
//!   the input (same daemon, same SRT connection, no continuity error);
//! - `kill -9` of the daemon: systemd restarts it and the channel sends again;
//! - SIGSTOP of the daemon: the watchdog (WatchdogSec=30s) catches it and systemd restarts it.
//!
//! Needs root, mmdebstrap, qemu-system-x86_64 (bookworm-backports) and Debian's mirror: all
//! installed by scripts/setup.sh.

use feedline_tests::analysis;
use feedline_tests::api::{run, Client, ServerPorts, ADMIN_PASSWORD};
use feedline_tests::receiver::Receiver;
use feedline_tests::ts;
use feedline_tests::vm::{build_deb, tail, Forward, Image, Vm};
use feedline_tests::{free_port, require_tool};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// One frame at the programme's 30 fps, in 90 kHz ticks.
const FRAME_90K: i64 = 3000;

/// Polls `probe` until it returns `Some`, or panics with `what` and the guest's journal.
fn wait_for<T>(vm: &Vm, what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        if Instant::now() > until {
            let (_, journal, _) = vm.exec(
                "/bin/journalctl",
                &["-u", "feedline", "--no-pager", "-o", "cat", "-n", "40"],
            );
            panic!("{what}: not within {timeout:?}; feedline journal:\n{journal}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn main_pid(vm: &Vm) -> u64 {
    vm.sh("systemctl show -p MainPID --value feedline")
        .trim()
        .parse()
        .unwrap_or(0)
}

fn is_active(vm: &Vm) -> bool {
    vm.sh("systemctl is-active feedline || true").trim() == "active"
}

/// Waits until systemd runs the daemon under a new PID (it restarted `old`), active again.
fn wait_restarted(vm: &Vm, old: u64, what: &str, timeout: Duration) -> u64 {
    wait_for(vm, what, timeout, || {
        let now = main_pid(vm);
        (now != 0 && now != old && is_active(vm)).then_some(now)
    })
}

fn failover(admin: &Client) -> Value {
    admin.get("/api/v1/status").json()["channels"][0]["input"]["failover"].clone()
}

fn vivid(vm: &Vm, control: &str) {
    vm.sh(&format!("v4l2-ctl -d /dev/video0 -c {control}"));
}

/// Waits until the capture input reports `fault` (a signal fault: confidence 0) with the slate on
/// air, and the device list shows the same fault.
fn slate_for_signal_fault(vm: &Vm, admin: &Client, fault: &str) {
    wait_for(
        vm,
        &format!("{fault} reported, slate on air"),
        Duration::from_secs(10),
        || {
            let f = failover(admin);
            (f["active"] == "slate"
                && f["inputs"][0]["fault"] == fault
                && f["inputs"][0]["confidence"] == 0)
                .then_some(())
        },
    );
    let system = admin.get("/api/v1/system").json();
    assert!(
        system["capture_devices"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["signal"] == fault)),
        "device list: {}",
        system["capture_devices"]
    );
}

/// The web UI (Debian's Chromium, driven by playwright-core, on the host) shows `expected` as the
/// capture signal on the channel card and on the System page.
fn ui_shows_signal(base: &str, expected: &str, artifacts: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (ok, text) = run(std::process::Command::new("node")
        .current_dir(&root)
        .arg("web-ui/e2e/signal.mjs")
        .env("FEEDLINE_URL", base)
        .env("FEEDLINE_USER", "admin")
        .env("FEEDLINE_PASSWORD", ADMIN_PASSWORD)
        .env("CHANNEL", "hdmi")
        .env("EXPECT_SIGNAL", expected)
        .env("ARTIFACTS", artifacts));
    eprint!("{text}");
    assert!(ok, "UI check for {expected}: {text}");
}

/// A receiver on the host, connected: returns once the stream flows.
fn connect(srt_port: u16, file: &Path) -> Receiver {
    let rx = Receiver::srt_live_transmit(
        &format!("srt://127.0.0.1:{srt_port}?mode=caller&latency=500"),
        file,
    );
    rx.wait_for_bytes(188 * 100, Duration::from_secs(30))
        .unwrap_or_else(|| panic!("no stream through the forwarded port: {}", rx.stderr_text()));
    rx
}

/// What a receiver on the host captured over `seconds` once the stream flowed.
fn receive(srt_port: u16, seconds: u32, file: &Path) {
    let mut rx = connect(srt_port, file);
    std::thread::sleep(Duration::from_secs(u64::from(seconds)));
    rx.stop();
}

/// Polls what a receiver has captured in `file` until `arrived` holds or `at_most` has passed
/// since `receiving`: the emulated guest's output reaches the host late, by a varying amount.
fn keep_receiving_until(
    file: &Path,
    receiving: Instant,
    at_most: Duration,
    arrived: impl Fn(&[analysis::PictureStat]) -> bool,
) {
    while receiving.elapsed() < at_most && !arrived(&analysis::picture_stats(file)) {
        std::thread::sleep(Duration::from_secs(2));
    }
}

fn bright(pictures: &[analysis::PictureStat]) -> usize {
    pictures.iter().filter(|p| p.yavg > 60.0).count()
}

/// What a receiver saw of a loss of signal: the picture, the black slate, the picture again.
struct SlateRoundTrip {
    dark: usize,
    /// The slate came after bright picture, and bright picture followed it.
    picture_around: bool,
}

impl SlateRoundTrip {
    fn of(stats: &[analysis::PictureStat]) -> SlateRoundTrip {
        let is_dark = |p: &analysis::PictureStat| p.yavg < 20.0;
        let first_dark = stats.iter().position(is_dark);
        let last_dark = stats.iter().rposition(is_dark);
        SlateRoundTrip {
            dark: stats.iter().filter(|p| is_dark(p)).count(),
            picture_around: first_dark.is_some_and(|i| i > 0 && stats[i - 1].yavg > 60.0)
                && last_dark.is_some_and(|i| stats.get(i + 1).is_some_and(|p| p.yavg > 60.0)),
        }
    }

    /// At least 1.5 s of slate (30 fps), between pictures.
    fn complete(&self) -> bool {
        self.dark >= 45 && self.picture_around
    }
}

#[test]
fn the_appliance_image_boots_captures_hdmi_reports_signal_and_recovers() {
    for tool in [
        "mmdebstrap",
        "mke2fs",
        "qemu-system-x86_64",
        "cargo-deb",
        "node",
    ] {
        require_tool(tool);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let deb = build_deb(dir.path());
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/vm/feedline.toml");
    let image = Image::build(&deb, &config, &dir.path().join("image"));
    let built = started.elapsed();

    let (http, srt) = (ServerPorts::pick().http, free_port());
    let vm = Vm::boot(
        &image,
        dir.path(),
        &[
            Forward::Tcp {
                host: http,
                guest: 8080,
            },
            Forward::Udp {
                host: srt,
                guest: 9000,
            },
        ],
    );
    vm.wait_agent(Duration::from_secs(180));

    // READY: a Type=notify unit is `active` only after the daemon sent READY=1.
    wait_for(
        &vm,
        "feedline.service active (READY=1)",
        Duration::from_secs(90),
        || is_active(&vm).then_some(()),
    );
    let booted = started.elapsed();
    let base = format!("http://127.0.0.1:{http}");
    let mut browser = Client::new(&base);
    wait_for(
        &vm,
        "API through the forwarded port",
        Duration::from_secs(30),
        || (browser.get("/api/v1/health").status == 200).then_some(()),
    );

    // First boot: the one-time setup code is in the journal.
    let journal = vm.sh("journalctl -u feedline --no-pager -o cat");
    let code = journal
        .split("setup_code=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|c| c.trim_matches(|ch: char| !ch.is_ascii_alphanumeric() && ch != '-'))
        .unwrap_or_else(|| panic!("no setup code in the journal:\n{}", tail(&journal, 30)))
        .to_string();
    // … and on the console (the serial line here), where the operator sees it at the box.
    wait_for(
        &vm,
        "setup code on the console",
        Duration::from_secs(60),
        || {
            vm.console_text()
                .contains(&format!("setup code {code}"))
                .then_some(())
        },
    );
    let reply = browser.send_json(
        "POST",
        "/api/v1/setup",
        &json!({"code": code, "username": "admin", "password": ADMIN_PASSWORD}),
    );
    assert_eq!(
        reply.status, 201,
        "setup with the journal's code: {reply:?}"
    );
    browser.csrf = reply.json()["csrf_token"].as_str().map(str::to_string);
    let reply = browser.send_json(
        "POST",
        "/api/v1/tokens",
        &json!({"name": "vm-test", "role": "admin"}),
    );
    assert_eq!(reply.status, 201, "token: {reply:?}");
    let admin = Client::with_token(&base, reply.json()["token"].as_str().unwrap_or_default());

    // No capture device yet: the channel is on slate, and says why.
    assert_eq!(failover(&admin)["active"], "slate", "{}", failover(&admin));

    // The HDMI input appears: vivid with one HDMI input, its pattern moving (a static pattern
    // would rightly count as a frozen picture).
    vm.sh("modprobe vivid num_inputs=1 input_types=3 && udevadm settle");
    vivid(&vm, "horizontal_movement=5");
    let devices = wait_for(
        &vm,
        "vivid listed with its DV timings",
        Duration::from_secs(20),
        || {
            let system = admin.get("/api/v1/system").json();
            let devices = system["capture_devices"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            devices
                .iter()
                .any(|d| d["path"] == "/dev/video0" && d["signal"] == "1280x720p60")
                .then_some(devices)
        },
    );
    eprintln!("capture devices: {}", Value::Array(devices));
    wait_for(&vm, "HDMI input on air", Duration::from_secs(40), || {
        let f = failover(&admin);
        (f["active"] == "primary" && f["inputs"][0]["signal"] == "1280x720p60").then_some(())
    });

    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm-ui");
    ui_shows_signal(&base, "1280x720p60", &artifacts);

    // A receiver on the host gets the ladder with vivid's colour bars in it. The emulated
    // 2-vCPU guest captures and encodes near its limit and what reaches the host lags the
    // programme (measured: 4–6 s of programme per 8 s of receiving, and up to 15 s behind),
    // so receive until 3 s of colour bars have arrived (bounded), at least 8 s.
    std::thread::sleep(Duration::from_secs(5));
    let live = dir.path().join("live.ts");
    let mut rx = connect(srt, &live);
    let receiving = Instant::now();
    std::thread::sleep(Duration::from_secs(8));
    keep_receiving_until(&live, receiving, Duration::from_secs(60), |p| {
        bright(p) >= 90
    });
    rx.stop();
    let _ = std::fs::create_dir_all(&artifacts);
    let _ = std::fs::copy(&live, artifacts.join("live.ts"));
    let videos = analysis::video_streams(&live);
    let sizes: Vec<(u32, u32)> = videos
        .iter()
        .filter_map(|s| s.width.zip(s.height))
        .collect();
    assert!(
        sizes.contains(&(640, 360)) && sizes.contains(&(320, 180)),
        "rungs received: {sizes:?}"
    );
    let pictures = analysis::picture_stats(&live);
    let span = pictures.last().map(|p| p.pts_s).unwrap_or(0.0)
        - pictures.first().map(|p| p.pts_s).unwrap_or(0.0);
    let rung = videos
        .iter()
        .find(|s| s.height == Some(360))
        .expect("360p rung");
    let live_gaps = analysis::dts_gaps(&analysis::packets(&live, rung.index), 2 * FRAME_90K);
    let bright_pictures = bright(&pictures);
    eprintln!(
        "vm: live capture {} pictures ({bright_pictures} bright) over {span:.2} s of PTS in {:.1?} of receiving; DTS gaps over 2 frames: {live_gaps:?}",
        pictures.len(),
        receiving.elapsed()
    );
    // 30 fps programme: every picture present, whatever the lag.
    assert!(
        span >= 3.0 && pictures.len() as f64 >= span * 29.0,
        "{} pictures over {span:.2} s",
        pictures.len()
    );
    assert!(live_gaps.is_empty(), "DTS gaps: {live_gaps:?}");
    assert!(
        bright_pictures >= 90,
        "vivid's colour bars are bright: {bright_pictures} of {} pictures were",
        pictures.len()
    );

    // No signal: reported, and the output carries on with the slate.
    let pid = main_pid(&vm);
    let lost = dir.path().join("lost.ts");
    let mut rx = connect(srt, &lost);
    std::thread::sleep(Duration::from_secs(3));
    vivid(&vm, "dv_timings_signal_mode=1");
    let cut = Instant::now();
    slate_for_signal_fault(&vm, &admin, "no signal");
    let detected_in = cut.elapsed();
    ui_shows_signal(&base, "no signal", &artifacts);

    // A signal the receiver cannot take: reported as such, still on slate.
    vivid(&vm, "dv_timings_signal_mode=3");
    slate_for_signal_fault(&vm, &admin, "out of range");
    ui_shows_signal(&base, "out of range", &artifacts);

    // The signal comes back in another format (720p30): only the input re-opens.
    vm.sh("v4l2-ctl -d /dev/video0 -c dv_timings=7 -c dv_timings_signal_mode=4");
    wait_for(&vm, "720p30 on air", Duration::from_secs(30), || {
        let f = failover(&admin);
        (f["active"] == "primary" && f["inputs"][0]["signal"] == "1280x720p30").then_some(())
    });
    // What reaches the receiver from the emulated guest lags the programme (about 15 s in one
    // measured run), and a fixed 18 s window once ended before the slate arrived (CI, a fresh
    // machine). Keep receiving until the slate and the return to the picture have arrived.
    // Bounded at 180 s: on 2026-11-23 the guest delivered 55 s of programme in 104 s and a
    // 90 s bound ended the capture once before the slate arrived and once before the return.
    let receiving = Instant::now();
    keep_receiving_until(&lost, receiving, Duration::from_secs(180), |p| {
        SlateRoundTrip::of(p).complete()
    });
    // A second of picture after the last slate frame, so the capture ends past the return.
    std::thread::sleep(Duration::from_secs(1));
    rx.stop();
    assert_eq!(
        main_pid(&vm),
        pid,
        "the daemon restarted on a signal change"
    );
    ui_shows_signal(&base, "1280x720p30", &artifacts);
    let bytes = std::fs::read(&lost).expect("capture");
    let report = ts::check(&bytes);
    assert_eq!(report.continuity_errors, 0, "{:?}", report.errors);
    let stream = analysis::video_streams(&lost)
        .into_iter()
        .find(|s| s.height == Some(360))
        .expect("360p rung");
    let packets = analysis::packets(&lost, stream.index);
    let gaps = analysis::dts_gaps(&packets, 2 * FRAME_90K);
    assert!(
        gaps.is_empty(),
        "DTS gaps over 2 frames through loss and format change: {gaps:?}"
    );
    // The receiver saw the picture, then the black slate, then the picture again.
    let _ = std::fs::copy(&lost, artifacts.join("lost.ts"));
    let stats = analysis::picture_stats(&lost);
    let round_trip = SlateRoundTrip::of(&stats);
    let dark = round_trip.dark;
    let luma: Vec<u32> = stats.iter().step_by(10).map(|p| p.yavg as u32).collect();
    assert!(
        round_trip.complete(),
        "picture → slate (black) → picture at the receiver: {dark} black of {} (after {:.1?} of receiving); luma every 10th: {luma:?}\njournal:\n{}",
        stats.len(),
        receiving.elapsed(),
        tail(&vm.sh("journalctl -u feedline --no-pager -n 60"), 60)
    );
    eprintln!(
        "vm: no signal seen in {detected_in:?}; {} packets, 0 CC errors, {} pictures, {dark} black; luma every 10th: {luma:?}",
        report.packets,
        stats.len()
    );

    // kill -9: systemd restarts the daemon and the channel sends again.
    let before = main_pid(&vm);
    vm.sh(&format!("kill -9 {before}"));
    let restarted = wait_restarted(
        &vm,
        before,
        "restart after kill -9",
        Duration::from_secs(60),
    );
    let again = dir.path().join("again.ts");
    receive(srt, 6, &again);
    let packets = std::fs::metadata(&again).map(|m| m.len()).unwrap_or(0) / 188;
    assert!(
        packets > 500,
        "after kill -9 the receiver got {packets} packets"
    );

    // SIGSTOP: no WATCHDOG=1 any more, and systemd (WatchdogSec=30s) kills and restarts it.
    vm.sh(&format!("kill -STOP {restarted}"));
    let stopped = Instant::now();
    let revived = wait_restarted(
        &vm,
        restarted,
        "watchdog restart after SIGSTOP",
        Duration::from_secs(90),
    );
    let caught_in = stopped.elapsed();
    let journal = vm.sh("journalctl -u feedline --no-pager -o cat");
    assert!(
        journal.contains("Watchdog timeout"),
        "systemd's watchdog did not fire:\n{}",
        tail(&journal, 20)
    );
    assert!(revived > 0);
    eprintln!(
        "vm: image built in {built:?}, READY at {booted:?}; watchdog restart {caught_in:?} after SIGSTOP"
    );
}
