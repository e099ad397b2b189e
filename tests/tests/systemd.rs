//! Issue #6 §1: the service units and the systemd protocol.
//!
//! - `systemd-analyze verify` passes on every shipped unit (run on a copy whose `ExecStart`
//!   names the binary built here instead of `/usr/bin/feedline`, which verify requires to exist);
//! - `systemd-sysusers` creates the feedline user in its groups, and `systemd-tmpfiles` creates
//!   the state directory owned by it, both in a scratch root;
//! - the daemon, started the way systemd starts a `Type=notify` service with a watchdog, sends
//!   READY=1 once its API answers, then WATCHDOG=1 every half period; a stopped process
//!   (SIGSTOP) sends none, and the heartbeat resumes after SIGCONT.

use feedline_tests::api::{run, wait_ready, Deployment};
use feedline_tests::appliance::{signal, Appliance};
use feedline_tests::units;
use feedline_tests::{feedline_bin, free_port, require_tool, srt_output, two_rung_config};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn units_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd")
}

#[test]
fn systemd_analyze_verify_passes_on_every_unit() {
    require_tool("systemd-analyze");
    require_tool("ptp4l");
    let dir = tempfile::tempdir().expect("tempdir");
    let units: Vec<_> = std::fs::read_dir(units_dir())
        .expect("systemd/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "service"))
        .collect();
    assert!(units.len() >= 3, "units found: {units:?}");
    if let Err(complaint) = units::verify_with_binary(
        &units,
        &feedline_bin(),
        &units_dir().join("../packaging/lib"),
        dir.path(),
    ) {
        panic!("{complaint}");
    }
    let service = std::fs::read_to_string(units_dir().join("feedline.service")).expect("unit");
    for line in [
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "StateDirectory=feedline",
        "User=feedline",
    ] {
        assert!(service.contains(line), "feedline.service lacks {line}");
    }
}

#[test]
fn sysusers_and_tmpfiles_make_the_user_and_its_state_directory() {
    require_tool("systemd-sysusers");
    require_tool("systemd-tmpfiles");
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(root.path().join("etc")).expect("scratch /etc");
    let (ok, output) = run(Command::new("systemd-sysusers")
        .arg(format!("--root={}", root.path().display()))
        .arg(units_dir().join("sysusers.d/feedline.conf")));
    assert!(ok, "sysusers: {output}");
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).expect("passwd");
    let group = std::fs::read_to_string(root.path().join("etc/group")).expect("group");
    assert!(passwd.contains("feedline:x:"), "{passwd}");
    for g in ["video", "render"] {
        let line = group
            .lines()
            .find(|l| l.starts_with(&format!("{g}:")))
            .unwrap_or_else(|| panic!("no {g} group: {group}"));
        assert!(line.ends_with("feedline"), "feedline not in {g}: {line}");
    }
    let (ok, output) = run(Command::new("systemd-tmpfiles")
        .arg("--create")
        .arg(format!("--root={}", root.path().display()))
        .arg(units_dir().join("tmpfiles.d/feedline.conf")));
    assert!(ok, "tmpfiles: {output}");
    let state = root.path().join("var/lib/feedline");
    assert!(state.is_dir(), "no {}", state.display());
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(&state).expect("state dir");
    assert_eq!(meta.permissions().mode() & 0o777, 0o750);
    let uid: u32 = passwd
        .lines()
        .find(|l| l.starts_with("feedline:"))
        .and_then(|l| l.split(':').nth(2))
        .and_then(|u| u.parse().ok())
        .expect("feedline uid");
    assert_eq!(meta.uid(), uid, "state directory owned by feedline");
}

/// Messages received on the notify socket within `within`.
fn messages(socket: &UnixDatagram, within: Duration) -> Vec<String> {
    messages_until(socket, within, |_| false)
}

/// Messages received on the notify socket until one satisfies `done` or `within` passes.
fn messages_until(
    socket: &UnixDatagram,
    within: Duration,
    done: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut got = Vec::new();
    let until = Instant::now() + within;
    let mut buf = [0u8; 512];
    while Instant::now() < until && !got.last().is_some_and(|m: &String| done(m)) {
        socket
            .set_read_timeout(Some((until - Instant::now()).max(Duration::from_millis(1))))
            .expect("timeout");
        if let Ok(n) = socket.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    got
}

fn heartbeats(messages: &[String]) -> usize {
    messages.iter().filter(|m| m.contains("WATCHDOG=1")).count()
}

#[test]
fn ready_then_a_watchdog_heartbeat_that_stops_with_the_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind notify socket");
    let d = Deployment::with_channels(
        dir.path(),
        &two_rung_config(&srt_output("out", "listener", free_port(), "")),
    );
    // What systemd sets for WatchdogSec=2s: a heartbeat every second.
    let app = Appliance::start_args_env(
        &[
            "run",
            "--config",
            d.seed.to_str().unwrap_or_default(),
            "--data-dir",
            d.data_dir.to_str().unwrap_or_default(),
        ],
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap_or_default()),
            ("WATCHDOG_USEC", "2000000"),
        ],
    );
    let first = messages_until(&socket, Duration::from_secs(15), |m| m.contains("READY=1"));
    let ready = first
        .iter()
        .position(|m| m.contains("READY=1"))
        .unwrap_or_else(|| panic!("no READY=1 in {first:?}:\n{}", app.log()));
    // READY comes once the API answers.
    wait_ready(&d.client(), &app, Duration::from_secs(1));
    assert!(
        first[ready].contains("STATUS=1 channel(s) running"),
        "{first:?}"
    );
    let beats = heartbeats(&messages(&socket, Duration::from_secs(3)));
    assert!((2..=4).contains(&beats), "{beats} heartbeats in 3 s");

    signal(app.pid(), "STOP");
    let stopped = heartbeats(&messages(&socket, Duration::from_secs(3)));
    signal(app.pid(), "CONT");
    assert_eq!(stopped, 0, "heartbeats from a stopped process");
    let resumed = heartbeats(&messages(&socket, Duration::from_secs(3)));
    assert!(resumed >= 2, "{resumed} heartbeats after SIGCONT");
}
