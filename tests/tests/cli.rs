//! The CLI as an operator uses it: check-config's exit codes and messages, probe's report, and
//! the shipped default config actually producing its three rungs.

use feedline_tests::analysis;
use feedline_tests::appliance::Appliance;
use feedline_tests::receiver::Receiver;
use feedline_tests::{feedline_bin, require_tool};
use std::process::Command;
use std::time::Duration;

const SHIPPED: &str = include_str!("../../config/feedline.toml");

fn check_config(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    std::fs::write(&path, text).expect("write");
    let out = Command::new(feedline_bin())
        .arg("check-config")
        .arg(&path)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_config_accepts_the_shipped_config() {
    let (code, stdout, _) = check_config(SHIPPED);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("OK (1 channel(s), 3 rendition(s), 1 output(s))"),
        "{stdout}"
    );
}

/// The shipped config's commented failover example is a valid section once uncommented: the
/// example an engineer copies must not rot.
#[test]
fn the_shipped_failover_example_is_valid_when_uncommented() {
    let mut in_example = false;
    let uncommented: Vec<String> = SHIPPED
        .lines()
        .map(|line| {
            in_example = (in_example && !line.trim().is_empty())
                || line.starts_with("# [channels.failover]");
            let rest = line.strip_prefix("# ").unwrap_or(line);
            let is_setting = rest.starts_with('[')
                || rest.split_once(" = ").is_some_and(|(key, _)| {
                    !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                });
            if in_example && is_setting {
                rest.to_string()
            } else {
                line.to_string()
            }
        })
        .collect();
    let text = uncommented.join("\n");
    assert!(
        text.contains("\n[channels.failover]\n") && text.contains("\n[channels.failover.backup]"),
        "no failover example in the shipped config"
    );
    let (code, stdout, stderr) = check_config(&text);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("OK (1 channel(s)"), "{stdout}");
}

#[test]
fn check_config_exits_2_naming_every_bad_field() {
    let bad = SHIPPED
        .replace("bitrate_kbps = 3000", "bitrate_kbps = 300000")
        .replace("height = 540", "height = 541");
    let (code, _, stderr) = check_config(&bad);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("channels[0].ladder[1].bitrate_kbps: must be between 100 and 100000"),
        "{stderr}"
    );
    assert!(
        stderr.contains("channels[0].ladder[2].height: must be even"),
        "{stderr}"
    );
}

#[test]
fn check_config_reports_unknown_keys_with_their_path() {
    let (code, _, stderr) =
        check_config(&SHIPPED.replace("tone_hz = 1000", "tone_hz = 1000\ntone = 440"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("channels[0].input.tone: unknown field `tone`"),
        "{stderr}"
    );
}

#[test]
fn run_refuses_an_invalid_config_without_starting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    std::fs::write(&path, SHIPPED.replace("port = 9000", "port = 0")).expect("write");
    let out = Command::new(feedline_bin())
        .arg("run")
        .arg("--config")
        .arg(&path)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("channels[0].outputs[0].port: must be between 1 and 65535"),
        "{stderr}"
    );
}

#[test]
fn probe_lists_every_backend_with_a_reason_when_unavailable() {
    let out = Command::new(feedline_bin())
        .arg("probe")
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for element in ["nvh264enc", "qsvh264enc", "vah264enc", "x264enc", "x265enc"] {
        let line = text
            .lines()
            .find(|l| l.contains(element))
            .unwrap_or_else(|| panic!("{element} missing:\n{text}"));
        assert!(line.contains("available"), "{line}");
        if line.contains("unavailable") {
            assert!(
                line.contains(": "),
                "an unavailable backend must say why: {line}"
            );
        }
    }
    assert!(
        text.lines()
            .any(|l| l.contains("x264enc") && l.ends_with("available")),
        "{text}"
    );
    // NVENC's reason is the driver's own state, read from /proc: on a box without the driver
    // (CI), exactly that; on one with a GPU that registered no encoder, the GPU by name.
    let nvenc = text
        .lines()
        .find(|l| l.contains("nvh264enc"))
        .unwrap_or_default();
    let driver = std::path::Path::new("/proc/driver/nvidia");
    if !driver.exists() {
        assert!(
            nvenc.ends_with("no NVIDIA driver is loaded (no /proc/driver/nvidia)"),
            "{nvenc}"
        );
    } else if nvenc.contains("unavailable") {
        let info = std::fs::read_dir(driver.join("gpus"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|gpu| std::fs::read_to_string(gpu.path().join("information")).ok())
            .next()
            .unwrap_or_default();
        let model = info
            .lines()
            .find_map(|l| l.strip_prefix("Model:"))
            .map(str::trim)
            .unwrap_or("lists no GPU");
        assert!(nvenc.contains(model), "{nvenc}\n{info}");
    }
    // Inputs decode H.264 with a decoder that is installed here (libav's, on a box without a
    // GPU), and the report says which.
    let h264 = text
        .lines()
        .skip_while(|l| !l.starts_with("Video decoders"))
        .find(|l| l.trim_start().starts_with("H.264"))
        .unwrap_or_else(|| panic!("no H.264 decoder line:\n{text}"));
    assert!(h264.contains("avdec_h264 (libav H.264"), "{h264}");
    if !driver.exists() {
        assert!(
            h264.trim_start()
                .strip_prefix("H.264")
                .is_some_and(|rest| rest.trim_start().starts_with("avdec_h264")),
            "{h264}"
        );
    }
    assert!(text.contains("Capture devices:"));
}

/// The out-of-the-box experience: no config at all, and an SRT receiver on :9000 gets the three
/// rungs of the shipped ladder with AAC. (Bitrates are asserted on lighter ladders elsewhere: a
/// 2-core CI machine cannot promise real-time 1080p+720p+540p x264 in a debug build.)
#[test]
fn default_config_serves_three_rungs_on_port_9000() {
    require_tool("srt-live-transmit");
    let dir = tempfile::tempdir().expect("tempdir");
    let app = Appliance::start(SHIPPED);
    app.wait_for_log(&["channel running"], Duration::from_secs(15))
        .expect("channel did not start");
    let capture = dir.path().join("default.ts");
    let mut rx = Receiver::srt_live_transmit("srt://127.0.0.1:9000", &capture);
    rx.wait_for_bytes(500 * 188, Duration::from_secs(15))
        .unwrap_or_else(|| panic!("nothing on :9000\n{}", app.log()));
    std::thread::sleep(Duration::from_secs(4));
    rx.stop();
    let video = analysis::video_streams(&capture);
    let sizes: Vec<(Option<u32>, Option<u32>)> =
        video.iter().map(|s| (s.width, s.height)).collect();
    assert_eq!(
        sizes,
        vec![
            (Some(1920), Some(1080)),
            (Some(1280), Some(720)),
            (Some(960), Some(540))
        ]
    );
    assert!(video
        .iter()
        .all(|s| s.codec_name == "h264" && s.profile.as_deref() == Some("High")));
    let audio: Vec<_> = analysis::streams(&capture)
        .into_iter()
        .filter(|s| s.codec_type == "audio")
        .collect();
    assert_eq!(audio.len(), 1);
    assert_eq!(audio[0].sample_rate.as_deref(), Some("48000"));
}
