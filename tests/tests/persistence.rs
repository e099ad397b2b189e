//! The configuration store through the real binary: seeding, offline import/export with secret
//! redaction, safe mode on an unusable store, and power-loss recovery of running channels.

use feedline_tests::api::ServerPorts;
use feedline_tests::appliance::Appliance;
use feedline_tests::receiver::Receiver;
use feedline_tests::{feedline_bin, free_port, require_tool, srt_output, two_rung_config};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());
const PASSPHRASE: &str = "stadium-uplink-key";

fn listener(port: u16, extra: &str) -> String {
    srt_output("out", "listener", port, extra)
}

/// Writes a config file. Files for `run` get a `[server]` section on loopback and free ports:
/// with a data directory the API listens, and tests never expose a port beyond this machine.
fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    let text = if text.contains("[server]") {
        text.to_string()
    } else {
        format!("{}{text}", ServerPorts::pick().toml(false, ""))
    };
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

fn feedline(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(feedline_bin())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run feedline");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_file_seeds_the_store_once_then_the_store_wins() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("path");
    let (first, second) = (free_port(), free_port());
    let a = write(dir.path(), "a.toml", &two_rung_config(&listener(first, "")));
    let b = write(
        dir.path(),
        "b.toml",
        &two_rung_config(&listener(second, "")),
    );

    let mut app = Appliance::start_args(&["run", "--data-dir", data, "--config", &a]);
    app.wait_for_log(&["store seeded on first start"], Duration::from_secs(10))
        .expect("seeded");
    app.wait_for_log(&["channel running"], Duration::from_secs(10))
        .expect("running");
    app.terminate(Duration::from_secs(5)).expect("stopped");

    let app = Appliance::start_args(&["run", "--data-dir", data, "--config", &b]);
    app.wait_for_log(&["--config is ignored"], Duration::from_secs(10))
        .expect("the file must not override the store");
    app.wait_for_log(
        &["configuration loaded from the store", "revision=1"],
        Duration::from_secs(10),
    )
    .expect("loaded");
    // The running appliance holds the store; offline export refuses and says so.
    let (ok, _, stderr) = feedline(&["export", "--data-dir", data]);
    assert!(
        !ok && stderr.contains("in use by a running feedline"),
        "{stderr}"
    );
    let mut app = app;
    app.terminate(Duration::from_secs(5)).expect("stopped");
    let (ok, stdout, _) = feedline(&["export", "--data-dir", data]);
    assert!(ok);
    assert!(
        stdout.contains(&format!("port = {first}")),
        "store must hold the first file's config:\n{stdout}"
    );
}

#[test]
fn import_validates_and_export_redacts_secrets_unless_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("path");
    let with_secret = write(
        dir.path(),
        "s.toml",
        &two_rung_config(&listener(9100, &format!("passphrase = \"{PASSPHRASE}\"\n"))),
    );

    let (ok, stdout, stderr) = feedline(&["import", &with_secret, "--data-dir", data]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("as revision 1"), "{stdout}");

    let (ok, redacted, _) = feedline(&["export", "--data-dir", data]);
    assert!(ok);
    assert!(
        !redacted.contains(PASSPHRASE),
        "export must not reveal the passphrase:\n{redacted}"
    );
    assert!(redacted.contains("\"<redacted>\""));
    let (ok, full, _) = feedline(&["export", "--data-dir", data, "--include-secrets"]);
    assert!(ok && full.contains(PASSPHRASE));

    // A redacted export cannot be imported by mistake, and nothing changes.
    let back = write(dir.path(), "redacted.toml", &redacted);
    let (ok, _, stderr) = feedline(&["import", &back, "--data-dir", data]);
    assert!(!ok);
    assert!(
        stderr.contains("channels[0].outputs[0].passphrase: is the redaction placeholder"),
        "{stderr}"
    );
    // An invalid file is refused naming the field, and nothing changes.
    let bad = write(
        dir.path(),
        "bad.toml",
        &two_rung_config(&listener(9100, "")).replace("bitrate_kbps = 400", "bitrate_kbps = 5"),
    );
    let (ok, _, stderr) = feedline(&["import", &bad, "--data-dir", data]);
    assert!(!ok);
    assert!(
        stderr.contains("channels[0].ladder[1].bitrate_kbps: must be between 100 and 100000"),
        "{stderr}"
    );
    let (_, after, _) = feedline(&["export", "--data-dir", data, "--include-secrets"]);
    assert_eq!(after, full, "a refused import must change nothing");
}

#[test]
fn an_unreadable_store_starts_safe_mode_instead_of_crash_looping() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(feedline_store::FILE_NAME),
        b"not a database: torn by a power cut",
    )
    .expect("write");
    let seed = write(dir.path(), "seed.toml", "");
    let mut app = Appliance::start_args(&[
        "run",
        "--data-dir",
        dir.path().to_str().expect("path"),
        "--config",
        &seed,
    ]);
    let line = app
        .wait_for_log(&["SAFE MODE"], Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{}", app.log()));
    assert!(line.contains("cannot be opened"), "{line}");
    std::thread::sleep(Duration::from_secs(2));
    assert!(app.is_running(), "safe mode must keep the process up");
    let (status, _) = app.terminate(Duration::from_secs(5)).expect("stops");
    assert!(status.success());
}

/// Power loss: the channel that was running is running and sending again within 2 s of the
/// process starting.
#[test]
fn after_kill_9_the_channel_is_sending_again_within_2s_of_start() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("srt-live-transmit");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("path");
    let port = free_port();
    // The receiver listens (a cloud ingest); the box calls it.
    let output = srt_output("cloud", "caller", port, "");
    let config = write(dir.path(), "c.toml", &two_rung_config(&output));
    let mut rx = Receiver::srt_live_transmit(
        &format!("srt://127.0.0.1:{port}?mode=listener"),
        &dir.path().join("rx.ts"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let app = Appliance::start_args(&["run", "--data-dir", data, "--config", &config]);
    rx.wait_for_bytes(100 * 188, Duration::from_secs(10))
        .expect("first run sends");
    feedline_tests::appliance::signal(app.pid(), "KILL");
    drop(app);
    rx.kill();

    let mut rx = Receiver::srt_live_transmit(
        &format!("srt://127.0.0.1:{port}?mode=listener"),
        &dir.path().join("rx2.ts"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let app = Appliance::start_args(&["run", "--data-dir", data, "--config", &config]);
    rx.wait_for_bytes(50 * 188, Duration::from_secs(5))
        .unwrap_or_else(|| panic!("not sending after restart:\n{}", app.log()));
    let took = started.elapsed();
    eprintln!("sending again {took:?} after process start");
    assert!(
        took <= Duration::from_secs(2),
        "took {took:?}\n{}",
        app.log()
    );
    rx.stop();
}
