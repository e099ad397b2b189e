//! Issue #3: live status, metrics, restart-only-what-changed, power-loss recovery, safe mode.

use feedline_tests::api::{
    scrape_checked_metrics, set_up_admin, setup_code, wait_ready, Client, Deployment,
};
use feedline_tests::feed::assert_ts_continuity;
use feedline_tests::receiver::Receiver;
use feedline_tests::{free_port, require_tool, srt_output};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn deployment(dir: &std::path::Path, metrics_extra: &str, outputs: &str) -> Deployment {
    Deployment::two_rung(dir, false, metrics_extra, outputs)
}

fn channel<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["channels"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no channel {name} in {status}"))
}

/// Reads a Server-Sent Events stream with curl for `seconds`; returns (event, data) pairs.
fn read_sse(
    client: &Client,
    seconds: u32,
    during: impl FnOnce(),
) -> Vec<(String, serde_json::Value)> {
    let child = Command::new("curl")
        .args(["-sS", "-N", "--max-time", &seconds.to_string()])
        .args([
            "-H",
            &format!(
                "Authorization: Bearer {}",
                client.token.clone().unwrap_or_default()
            ),
        ])
        .arg(format!("{}/api/v1/status/stream", client.base))
        .stdout(Stdio::piped())
        // curl reports the planned --max-time cut-off as an error; it is how the read ends.
        .stderr(Stdio::null())
        .spawn()
        .expect("curl");
    during();
    let out = child.wait_with_output().expect("curl output");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut events = Vec::new();
    for block in text.split("\n\n") {
        let kind = block
            .lines()
            .find_map(|l| l.strip_prefix("event: "))
            .unwrap_or("");
        let data: String = block
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .collect();
        if let Ok(v) = serde_json::from_str(&data) {
            events.push((kind.to_string(), v));
        }
    }
    events
}

fn frames(tc: &str) -> i64 {
    let parts: Vec<i64> = tc
        .split([':', ';', '.'])
        .filter_map(|p| p.parse().ok())
        .collect();
    if parts.len() != 4 {
        return -1;
    }
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 30 + parts[3]
}

#[test]
fn live_status_streams_rates_timecode_and_events_at_least_once_a_second() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = deployment(
        dir.path(),
        "",
        &srt_output("primary", "listener", free_port(), ""),
    );
    let appliance = d.start();
    let (admin, _) = set_up_admin(&d, &appliance);
    std::thread::sleep(Duration::from_secs(3));

    let operator = Client::with_token(&d.base(), admin.token.as_deref().unwrap_or_default());
    let events = read_sse(&admin, 6, || {
        std::thread::sleep(Duration::from_millis(4500));
        assert_eq!(
            operator
                .request("POST", "/api/v1/channels/test/stop", None, &[])
                .status,
            204
        );
    });
    let statuses: Vec<&serde_json::Value> = events
        .iter()
        .filter(|(k, _)| k == "status")
        .map(|(_, v)| v)
        .collect();
    assert!(
        statuses.len() >= 5,
        "≥1 Hz: {} status events in 6 s",
        statuses.len()
    );

    let running: Vec<(u64, &serde_json::Value)> = statuses
        .iter()
        .map(|s| (s["time_ms"].as_u64().unwrap_or(0), channel(s, "test")))
        .filter(|(_, c)| c["state"] == "running")
        .collect();
    assert!(running.len() >= 3, "channel running in the stream");
    let (last_ms, last) = running[running.len() - 1];
    let (first_ms, first) = running[0];
    assert_eq!(last["input"]["signal"], true);
    assert_eq!(last["input"]["format"], "640x360p30 I420");
    // `encoder = "auto"` resolved to the first H.264 backend the box's probe found, and the
    // status says which.
    let system = admin.get("/api/v1/system").json();
    let first_h264 = system["encoder_backends"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|b| b["codec"] == "h264" && b["available"] == true)
        .unwrap_or_else(|| panic!("no H.264 encoder available: {system}"));
    // Per rendition: ~30 fps and the configured bit rate (±30 % over a one-second window).
    for (rung, kbps) in [(0, 1200.0), (1, 400.0)] {
        let r = &last["renditions"][rung];
        assert_eq!(
            (&r["backend"], &r["encoder_element"]),
            (&first_h264["backend"], &first_h264["element"]),
            "rung {rung}'s encoder"
        );
        let fps = r["fps"].as_f64().unwrap_or(0.0);
        assert!((27.0..=33.0).contains(&fps), "rung {rung} fps {fps}");
        let measured = r["bitrate_bps"].as_f64().unwrap_or(0.0) / 1000.0;
        assert!(
            (measured - kbps).abs() / kbps < 0.30,
            "rung {rung}: {measured} kb/s, configured {kbps}"
        );
        assert_eq!(r["dropped_frames"], 0);
    }
    // Each picture's time in its encoder: known, less than a frame of 30 fps (the ladder keeps
    // up), and longer for 360p than for 180p, which has a quarter of its pixels.
    let encode_ms: Vec<f64> = (0..2)
        .filter_map(|rung| last["renditions"][rung]["encode_latency_ms"].as_f64())
        .collect();
    let frame_ms: Vec<f64> = (0..2)
        .filter_map(|rung| last["renditions"][rung]["frame_interval_ms"].as_f64())
        .collect();
    assert!(
        frame_ms.len() == 2 && frame_ms.iter().all(|ms| (ms - 1000.0 / 30.0).abs() < 0.01),
        "frame intervals {frame_ms:?} ms"
    );
    assert!(
        matches!(encode_ms[..], [big, small] if big > small && small > 0.0 && big < frame_ms[0]),
        "encode latency 360p/180p: {encode_ms:?} ms"
    );
    // A test pattern arrives raw: no decoder, and the status says none (not a guess).
    assert!(
        last["input"]["video_decoder"].is_null(),
        "{}",
        last["input"]
    );
    // A ladder that keeps up: nothing waits in front of it, no `ladder` alarm.
    let backlog = &last["ladder_backlog"];
    assert!(
        backlog["frames"].as_u64().is_some_and(|n| n < 5)
            && backlog["capacity"] == 15
            && backlog["full_for_s"].is_null()
            && backlog["filling_for_s"].is_null(),
        "backlog of a ladder that keeps up: {backlog}"
    );
    assert_no_alarm_from(&statuses, "ladder", "a ladder that keeps up");
    // The timecode ticks: about 30 frames per second between snapshots.
    let tc_first = frames(first["input"]["timecode"].as_str().unwrap_or_default());
    let tc_last = frames(last["input"]["timecode"].as_str().unwrap_or_default());
    let elapsed_s = (last_ms - first_ms) as f64 / 1000.0;
    let advanced = (tc_last - tc_first) as f64;
    assert!(
        (advanced - elapsed_s * 30.0).abs() <= 15.0,
        "timecode advanced {advanced} frames in {elapsed_s} s"
    );
    let out = &last["outputs"][0];
    assert_eq!(out["name"], "primary");
    assert_eq!(out["state"], "connecting", "a listener with no caller yet");
    // No caller yet, but the muxer hands it TS all the same (dropped): no "no TS" alarm.
    for (_, c) in &running {
        let idle = c["outputs"][0]["ts_idle_s"].as_f64();
        assert!(idle.is_some_and(|s| s < 1.0), "TS idle {idle:?} s");
    }
    assert_no_alarm_from(
        &statuses,
        "output/primary",
        "a listener waiting for its caller",
    );

    // The stop is pushed as an event, as it happens.
    let pushed: Vec<&serde_json::Value> = events
        .iter()
        .filter(|(k, _)| k == "event")
        .map(|(_, v)| v)
        .collect();
    assert!(
        pushed
            .iter()
            .any(|e| e["kind"] == "channel_stopped" && e["channel"] == "test"),
        "no channel_stopped event pushed: {pushed:?}"
    );
    // And it is in the paged, filterable log.
    let page = admin.get("/api/v1/events?channel=test&limit=50").json();
    assert!(page["events"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| e["kind"] == "channel_stopped"));
    let errors_only = admin.get("/api/v1/events?severity=error").json();
    assert!(errors_only["events"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| e["severity"] == "error"));
}

#[test]
fn metrics_of_an_encoding_channel_pass_promtool() {
    require_tool("promtool");
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let d = deployment(
        dir.path(),
        "bearer_token = \"scrape-token-0123456789\"",
        &srt_output("primary", "listener", port, ""),
    );
    let appliance = d.start();
    let (_admin, _) = set_up_admin(&d, &appliance);
    // A receiver, so the SRT link series exist too.
    let capture = dir.path().join("rx.ts");
    let mut rx = Receiver::srt_live_transmit(&format!("srt://127.0.0.1:{port}"), &capture);
    assert!(
        rx.wait_for_bytes(200_000, Duration::from_secs(15))
            .is_some(),
        "receiver got the feed"
    );
    std::thread::sleep(Duration::from_secs(2));

    let url = format!("http://127.0.0.1:{}/metrics", d.ports.metrics);
    let unauth = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &url])
        .output()
        .expect("curl");
    assert_eq!(
        String::from_utf8_lossy(&unauth.stdout),
        "401",
        "metrics token is enforced"
    );
    let text = scrape_checked_metrics(d.ports, Some("scrape-token-0123456789"));
    let value = |series: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no series {series}:\n{text}"))
    };
    assert!(value("feedline_rendition_frames_total{channel=\"test\",rendition=\"360p\"}") > 30.0);
    assert!(value("feedline_input_signal{channel=\"test\"}") == 1.0);
    assert!(
        value("feedline_output_state{channel=\"test\",output=\"primary\",state=\"connected\"}")
            == 1.0
    );
    assert!(
        value("feedline_srt_packets_sent_total{channel=\"test\",output=\"primary\",link=\"0\"}")
            > 100.0
    );
    let delay =
        value("feedline_output_delay_from_capture_seconds{channel=\"test\",output=\"primary\"}");
    assert!(delay > 0.0 && delay < 0.5, "delay from capture {delay} s");
    let encode =
        value("feedline_rendition_encode_latency_seconds{channel=\"test\",rendition=\"360p\"}");
    assert!(
        encode > 0.0 && encode < 0.0334,
        "360p encode latency {encode} s"
    );
    // The test pattern's sound is made in the box: never missing.
    assert_eq!(
        value("feedline_input_sound_missing_seconds{channel=\"test\"}"),
        0.0
    );
    let idle = value("feedline_output_ts_idle_seconds{channel=\"test\",output=\"primary\"}");
    assert!((0.0..1.0).contains(&idle), "TS idle {idle} s");
    let backlog = value("feedline_ladder_backlog_frames{channel=\"test\"}");
    assert!(backlog < 5.0, "ladder backlog {backlog} frames");
    assert_eq!(
        value("feedline_ladder_backlog_full_seconds{channel=\"test\"}"),
        0.0
    );
    assert_eq!(
        value("feedline_ladder_backlog_filling_seconds{channel=\"test\"}"),
        0.0
    );
    // Every metric the shipped alerting rules read is one this appliance exports: a rename
    // would otherwise leave a NOC's alerts silently watching nothing.
    let rules = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../packaging/prometheus/feedline-alerts.yml"),
    )
    .expect("alert rules");
    let mut read_by_rules: Vec<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("feedline_"))
        .collect();
    read_by_rules.sort_unstable();
    read_by_rules.dedup();
    assert!(read_by_rules.len() >= 8, "{read_by_rules:?}");
    for name in read_by_rules {
        // OpenMetrics names a counter's family without `_total`, the classic format with it.
        let family = name.strip_suffix("_total").unwrap_or(name);
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("# TYPE {name} "))
                    || l.starts_with(&format!("# TYPE {family} "))),
            "the alert rules read {name}, which /metrics does not export"
        );
    }
    assert!(value("feedline_build_info{version=") == 1.0);
    assert!(value("process_resident_memory_bytes") > 1e6);
    let kbps = value(
        "feedline_rendition_encoded_rate_bytes_per_second{channel=\"test\",rendition=\"360p\"}",
    ) * 8.0
        / 1000.0;
    assert!((kbps - 1200.0).abs() / 1200.0 < 0.3, "360p at {kbps} kb/s");
    rx.stop();
}

/// Starts an appliance with `outputs` (output A listening on `port_a`) and a receiver capturing A.
/// Returns the appliance, an admin client, A's receiver and capture, and A's connection attempts.
fn start_with_a_flowing(
    dir: &std::path::Path,
    outputs: &str,
    port_a: u16,
) -> (
    feedline_tests::appliance::Appliance,
    Client,
    Receiver,
    std::path::PathBuf,
    serde_json::Value,
) {
    let d = deployment(dir, "", outputs);
    let appliance = d.start();
    let (admin, _) = set_up_admin(&d, &appliance);
    let capture_a = dir.join("a.ts");
    let rx_a = Receiver::srt_live_transmit(&format!("srt://127.0.0.1:{port_a}"), &capture_a);
    assert!(
        rx_a.wait_for_bytes(100_000, Duration::from_secs(15))
            .is_some(),
        "A flows"
    );
    let attempts = channel(&admin.get("/api/v1/status").json(), "test")["outputs"][0]
        ["connection_attempts"]
        .clone();
    (appliance, admin, rx_a, capture_a, attempts)
}

#[test]
fn changing_output_b_restarts_only_b_while_a_keeps_streaming() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port_a, port_b) = (free_port(), free_port());
    let outputs = format!(
        "{}{}",
        srt_output("a", "listener", port_a, ""),
        srt_output("b", "listener", port_b, "")
    );
    let (_appliance, admin, mut rx_a, capture_a, before) =
        start_with_a_flowing(dir.path(), &outputs, port_a);
    std::thread::sleep(Duration::from_secs(3));

    // B's latency changes; A's settings are sent unchanged.
    let mut outs = admin.get("/api/v1/channels/test").json()["outputs"].clone();
    outs[1]["latency_ms"] = json!(400);
    let applied = admin.merge_patch("/api/v1/channels/test", &json!({"outputs": outs}));
    assert_eq!(applied.status, 200, "{applied:?}");
    assert_eq!(applied.json()["restarted_outputs"], json!(["test/b"]));
    assert_eq!(applied.json()["restarted_channels"], json!([]));
    std::thread::sleep(Duration::from_secs(5));

    // B serves with its new settings.
    let capture_b = dir.path().join("b.ts");
    let mut rx_b =
        Receiver::srt_live_transmit(&format!("srt://127.0.0.1:{port_b}?latency=400"), &capture_b);
    assert!(
        rx_b.wait_for_bytes(100_000, Duration::from_secs(15))
            .is_some(),
        "B serves after its change"
    );
    rx_b.stop();
    rx_a.stop();
    assert_a_never_noticed(&admin, &capture_a, &before, 7);
}

/// Output A kept its one connection, every TS packet arrived in order, and its video has no
/// timestamp gap over `min_seconds` or more of capture.
fn assert_a_never_noticed(
    admin: &Client,
    capture_a: &std::path::Path,
    attempts_before: &serde_json::Value,
    min_seconds: i64,
) {
    let status = admin.get("/api/v1/status").json();
    let a = channel(&status, "test")["outputs"]
        .as_array()
        .and_then(|l| l.iter().find(|o| o["name"] == "a"))
        .cloned()
        .unwrap_or_else(|| panic!("no output a in {status}"));
    assert_eq!(
        &a["connection_attempts"], attempts_before,
        "A was not reconnected"
    );
    assert_eq!(channel(&status, "test")["restarts"], 0);
    let report = assert_ts_continuity(capture_a);
    assert!(report.packets > 5000, "{} packets", report.packets);
    let pts = feedline_tests::analysis::packets(capture_a, 0);
    // 90 kHz ticks: one frame at 30 fps is 3000; anything over two frames is a gap.
    let gaps = feedline_tests::analysis::dts_gaps(&pts, 6000);
    assert!(
        gaps.is_empty(),
        "A's video has DTS gaps (90 kHz ticks): {gaps:?}"
    );
    let span = pts.last().map(|p| p.dts).unwrap_or(0) - pts.first().map(|p| p.dts).unwrap_or(0);
    assert!(
        span > min_seconds * 90_000,
        "≥{min_seconds} s of A, got {span} ticks"
    );
}

fn patch_outputs(admin: &Client, outputs: &serde_json::Value) -> serde_json::Value {
    let applied = admin.merge_patch("/api/v1/channels/test", &json!({ "outputs": outputs }));
    assert_eq!(applied.status, 200, "{applied:?}");
    let applied = applied.json();
    assert_eq!(applied["restarted_channels"], json!([]), "{applied}");
    applied
}

/// Receives an SRT listener output for a few seconds; returns the (width, height) of each video
/// stream and the number of audio streams in what arrived.
fn receive_layout(
    dir: &std::path::Path,
    port: u16,
    label: &str,
) -> (Vec<(u32, u32)>, usize, std::path::PathBuf) {
    let capture = dir.join(format!("{label}.ts"));
    let mut rx = Receiver::srt_live_transmit(&format!("srt://127.0.0.1:{port}"), &capture);
    let first = rx.wait_for_bytes(300_000, Duration::from_secs(15));
    rx.stop();
    assert!(first.is_some(), "{label}: no TS arrived");
    // A listener can hand a new caller a few buffers it queued just before a change, so the
    // layout is what the second half of the capture carries.
    let bytes = std::fs::read(&capture).expect("read capture");
    let steady = feedline_tests::ts::check(&bytes[bytes.len() / 2..]).pids;
    let carried = |s: &feedline_tests::analysis::Stream| {
        s.id.as_deref()
            .and_then(|id| u16::from_str_radix(id.trim_start_matches("0x"), 16).ok())
            .is_some_and(|pid| steady.get(&pid).is_some_and(|n| *n > 10))
    };
    let streams: Vec<_> = feedline_tests::analysis::streams(&capture)
        .into_iter()
        .filter(carried)
        .collect();
    let video = streams
        .iter()
        .filter(|s| s.codec_type == "video")
        .map(|s| (s.width.unwrap_or(0), s.height.unwrap_or(0)))
        .collect();
    let audio = streams.iter().filter(|s| s.codec_type == "audio").count();
    (video, audio, capture)
}

#[test]
fn adding_reshaping_and_removing_output_c_never_interrupts_a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port_a, port_c) = (free_port(), free_port());
    let (_appliance, admin, mut rx_a, capture_a, before) =
        start_with_a_flowing(dir.path(), &srt_output("a", "listener", port_a, ""), port_a);
    let a = admin.get("/api/v1/channels/test").json()["outputs"][0].clone();
    let mut c = a.clone();
    c["name"] = json!("c");
    c["port"] = json!(port_c);

    // Added: C carries the whole ladder and the audio.
    let applied = patch_outputs(&admin, &json!([a, c]));
    assert_eq!(applied["added_outputs"], json!(["test/c"]), "{applied}");
    assert_eq!(applied["restarted_outputs"], json!([]), "{applied}");
    let (video, audio, capture_c) = receive_layout(dir.path(), port_c, "c-added");
    assert_eq!(video, vec![(640, 360), (320, 180)], "C after it was added");
    assert_eq!(audio, 1);
    assert_ts_continuity(&capture_c);

    // Re-shaped: C now carries only the 180p rendition; its transport is not restarted.
    c["renditions"] = json!(["180p"]);
    let applied = patch_outputs(&admin, &json!([a, c]));
    assert_eq!(applied["restarted_outputs"], json!(["test/c"]), "{applied}");
    let (video, audio, _) = receive_layout(dir.path(), port_c, "c-reshaped");
    assert_eq!(video, vec![(320, 180)], "C after its renditions changed");
    assert_eq!(audio, 1);

    // Removed: C's listener closes; A is the only output left.
    let applied = patch_outputs(&admin, &json!([a]));
    assert_eq!(applied["removed_outputs"], json!(["test/c"]), "{applied}");
    std::thread::sleep(Duration::from_secs(1));
    let outputs = channel(&admin.get("/api/v1/status").json(), "test")["outputs"].clone();
    assert_eq!(outputs.as_array().map(Vec::len), Some(1), "{outputs}");
    let gone = dir.path().join("c-removed.ts");
    let mut rx_gone = Receiver::srt_live_transmit(&format!("srt://127.0.0.1:{port_c}"), &gone);
    assert!(
        rx_gone.wait_for_bytes(1, Duration::from_secs(3)).is_none(),
        "a removed output still sends"
    );
    rx_gone.stop();

    std::thread::sleep(Duration::from_secs(2));
    rx_a.stop();
    assert_a_never_noticed(&admin, &capture_a, &before, 10);
}

#[test]
fn after_kill_9_running_channels_run_and_send_again_within_2_s_and_stopped_stay_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut seed_outputs = srt_output("primary", "listener", port, "");
    seed_outputs.push_str(&format!(
        "\n[[channels]]\nname = \"spare\"\n[channels.input]\ntype = \"test_pattern\"\nwidth = 320\nheight = 180\nframe_rate = 30\n[[channels.ladder]]\nname = \"180p\"\nwidth = 320\nheight = 180\nframe_rate = 30\nbitrate_kbps = 300\n{}",
        srt_output("spare-out", "listener", free_port(), "")
    ));
    let d = deployment(dir.path(), "", &seed_outputs);
    let mut appliance = d.start();
    let (admin, _) = set_up_admin(&d, &appliance);
    assert_eq!(
        admin
            .request("POST", "/api/v1/channels/spare/stop", None, &[])
            .status,
        204
    );
    std::thread::sleep(Duration::from_secs(2));
    feedline_tests::appliance::signal(appliance.pid(), "KILL");
    let _ = appliance.terminate(Duration::from_secs(5));
    drop(appliance);

    let restarted = d.start();
    let started = Instant::now();
    let line = restarted
        .wait_for_log(
            &["first TS packet handed to the transport", "channel=test"],
            Duration::from_secs(5),
        )
        .unwrap_or_else(|| {
            panic!(
                "test channel not sending after restart:\n{}",
                restarted.log()
            )
        });
    let ms: u64 = line
        .split("since_process_start_ms=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("since_process_start_ms");
    eprintln!("after kill -9: channel sending {ms} ms after process start");
    assert!(ms < 2000, "sending {ms} ms after process start");
    let capture = dir.path().join("after.ts");
    let mut rx = Receiver::srt_live_transmit(&format!("srt://127.0.0.1:{port}"), &capture);
    assert!(
        rx.wait_for_bytes(50_000, Duration::from_secs(10)).is_some(),
        "a receiver gets the feed"
    );
    rx.stop();
    assert!(started.elapsed() < Duration::from_secs(15));
    let client = Client::with_token(&d.base(), admin.token.as_deref().unwrap_or_default());
    wait_ready(&client, &restarted, Duration::from_secs(10));
    let status = client.get("/api/v1/status").json();
    assert_eq!(
        channel(&status, "spare")["state"],
        "stopped",
        "the operator's stop survives power loss"
    );
    assert_eq!(channel(&status, "spare")["enabled"], false);
    assert!(
        restarted.log().contains("channel left stopped"),
        "{}",
        restarted.log()
    );
}

/// Starts the appliance on a store `break_store` prepared, and checks safe mode: the API is up,
/// health and a critical alarm say why (`reason` is part of the text), configuration changes are
/// refused, and `left_intact` confirms the store still holds what the operator must inspect.
fn assert_safe_mode(
    break_store: impl FnOnce(&std::path::Path),
    reason: &str,
    left_intact: impl FnOnce(&std::path::Path),
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = deployment(
        dir.path(),
        "",
        &srt_output("primary", "listener", free_port(), ""),
    );
    std::fs::create_dir_all(&d.data_dir).expect("data dir");
    let store = d.data_dir.join("feedline.redb");
    break_store(&store);
    let appliance = d.start();
    let anonymous = d.client();
    wait_ready(&anonymous, &appliance, Duration::from_secs(20));
    let health = anonymous.get("/api/v1/health").json();
    assert_eq!(health["status"], "safe_mode", "{health}");
    let why = health["safe_mode"].as_str().unwrap_or_default();
    assert!(
        why.contains("feedline.redb") && why.contains(reason),
        "{health}"
    );

    // Still no default password: set up with the code, then read the alarm.
    let mut browser = d.client();
    let r = browser.send_json(
        "POST",
        "/api/v1/setup",
        &json!({"code": setup_code(&appliance), "username": "admin", "password": feedline_tests::api::ADMIN_PASSWORD}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    browser.csrf = r.json()["csrf_token"].as_str().map(str::to_string);
    let alarms = browser.get("/api/v1/alarms").json();
    assert!(
        alarms
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["source"] == "store"
                && a["severity"] == "critical"
                && a["message"].as_str().unwrap_or_default().contains(reason)),
        "{alarms}"
    );
    let refused = browser.send_json("PUT", "/api/v1/config", &json!({"channels": []}));
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.json()["error"], "safe_mode");
    left_intact(&store);
}

#[test]
fn an_unreadable_store_starts_safe_mode_with_the_api_up_and_an_alarm() {
    const LEFTOVERS: &[u8] = b"not a database, a power cut's leftovers";
    assert_safe_mode(
        |store| std::fs::write(store, LEFTOVERS).expect("garbage"),
        "cannot be opened",
        |store| {
            let now = std::fs::read(store).expect("store");
            assert!(now == LEFTOVERS, "the unreadable store was rewritten");
        },
    );
}

#[test]
fn a_store_from_a_newer_feedline_starts_safe_mode_with_the_api_up_and_an_alarm() {
    assert_safe_mode(
        |store| {
            // A valid redb file whose layout version is ahead of this build.
            let db = redb::Database::create(store).expect("create");
            let txn = db.begin_write().expect("txn");
            txn.open_table(redb::TableDefinition::<&str, u64>::new("meta"))
                .expect("meta")
                .insert("schema", feedline_store::SCHEMA_VERSION + 1)
                .expect("insert");
            txn.commit().expect("commit");
        },
        "newer Feedline",
        |store| {
            // Never migrated down: the newer layout marker is still there.
            let db = redb::Database::create(store).expect("reopen");
            let txn = redb::ReadableDatabase::begin_read(&db).expect("read");
            let meta = txn
                .open_table(redb::TableDefinition::<&str, u64>::new("meta"))
                .expect("meta");
            let schema = meta.get("schema").expect("get").map(|v| v.value());
            assert_eq!(schema, Some(feedline_store::SCHEMA_VERSION + 1));
        },
    );
}

/// No status in the stream has an alarm from `source`.
fn assert_no_alarm_from(statuses: &[&serde_json::Value], source: &str, why: &str) {
    for status in statuses {
        assert!(
            status["alarms"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|a| a["source"] != source),
            "{source} alarm on {why}: {}",
            status["alarms"]
        );
    }
}
