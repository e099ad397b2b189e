//! The picture is on time: the shipped default channel (live test pattern → 1080p/720p/540p
//! H.264 → SRT listener, 120 ms SRT latency) delivers every picture to srt-live-transmit soon
//! after it was captured. Each picture's delay is its timecode (the system clock when it was
//! captured) against the moment its last byte reached the receiver's capture, on the same
//! clock, for every picture of every rung, not only the last one. And the box tells the truth
//! about it: the output's `delay_from_capture_ms` in status is what the receiver saw, less
//! the SRT latency.

use feedline_tests::analysis::{self, Packet};
use feedline_tests::api::{delay_from_capture_s, set_up_admin, Client, Deployment};
use feedline_tests::arrivals::{ArrivalLog, Arrivals};
use feedline_tests::receiver::Receiver;
use feedline_tests::{free_port, require_tool};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const SHIPPED: &str = include_str!("../../config/feedline.toml");
const CAPTURE_S: u64 = 10;
/// The most a picture may take from capture to the receiver: the SRT latency (120 ms) plus
/// encoding and muxing, with room for a busy machine. Measured here: see the README's table.
const MOST_LATE_S: f64 = 0.5;
const SRT_LATENCY_S: f64 = 0.120;

/// The output's `delay_from_capture_ms` now, in seconds.
fn reported_delay(admin: &Client) -> Option<f64> {
    delay_from_capture_s(&admin.get("/api/v1/status").json())
}

/// Seconds from capture to arrival of each picture of one rung that carries a timecode.
fn picture_delays(capture: &Path, stream: u32, arrivals: &Arrivals) -> Vec<f64> {
    let timecodes: HashMap<i64, String> = analysis::pictures_with_timecodes(capture, stream)
        .into_iter()
        .filter_map(|(pts, tc)| Some((pts, tc?)))
        .collect();
    analysis::packets(capture, stream)
        .iter()
        .filter_map(|p: &Packet| {
            let captured = timecodes.get(&p.pts)?;
            // The picture is whole once the capture holds at least its start and its size.
            let received = arrivals.when_held(p.pos + p.size)?;
            Some(analysis::seconds_after_timecode(captured, 30, received))
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn every_picture_of_the_default_feed_reaches_the_receiver_within_half_a_second_of_capture() {
    require_tool("srt-live-transmit");
    require_tool("ffprobe");
    let port = free_port();
    // The shipped channel as it is, on test ports, with the API on loopback.
    let channel = &SHIPPED[SHIPPED
        .find("[[channels]]")
        .expect("a channel in the shipped config")..];
    let channel = channel
        .replace("port = 9000", &format!("port = {port}"))
        .replace("address = \"0.0.0.0\"", "address = \"127.0.0.1\"");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = Deployment::with_channels(dir.path(), &channel);
    let app = d.start();
    let (admin, _) = set_up_admin(&d, &app);
    app.wait_for_log(&["channel running"], Duration::from_secs(10))
        .unwrap_or_else(|| panic!("channel did not start:\n{}", app.log()));
    // A receiver that comes while the channel has long been running, as at a venue.
    std::thread::sleep(Duration::from_secs(3));
    let capture = dir.path().join("default.ts");
    let watch = ArrivalLog::watch(&capture);
    let mut rx = Receiver::srt_live_transmit(
        &format!("srt://127.0.0.1:{port}?mode=caller&latency=120"),
        &capture,
    );
    rx.wait_for_bytes(188 * 100, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no stream: {}\n{}", rx.stderr_text(), app.log()));
    let mut reported = Vec::new();
    for _ in 0..CAPTURE_S * 2 {
        std::thread::sleep(Duration::from_millis(500));
        reported.extend(reported_delay(&admin));
    }
    rx.stop();
    let arrivals = watch.finish();
    reported.sort_by(f64::total_cmp);

    let rungs = analysis::video_streams(&capture);
    let mut received_medians = Vec::new();
    assert_eq!(rungs.len(), 3, "rungs received: {rungs:?}");
    for rung in &rungs {
        let mut delays = picture_delays(&capture, rung.index, &arrivals);
        delays.sort_by(f64::total_cmp);
        // The pictures before the first IDR (a GOP is 2 s) cannot be decoded, so carry no
        // timecode a receiver can read.
        assert!(
            delays.len() as u64 >= (CAPTURE_S - 2) * 30,
            "{}p: only {} pictures with a timecode received in {CAPTURE_S} s",
            rung.height.unwrap_or(0),
            delays.len()
        );
        let (first, median, worst) = (
            delays[0],
            percentile(&delays, 0.5),
            delays[delays.len() - 1],
        );
        eprintln!(
            "{}p: {} pictures, capture → receiver {first:.3} s at best, {median:.3} s median, {:.3} s at the 99th percentile, {worst:.3} s at worst",
            rung.height.unwrap_or(0),
            delays.len(),
            percentile(&delays, 0.99)
        );
        received_medians.push(median);
        // None received before it was captured: the timecode is the capture time.
        assert!(
            first > 0.0,
            "a picture arrived {first:.3} s after its timecode"
        );
        assert!(
            worst < MOST_LATE_S,
            "{}p: a picture took {worst:.3} s from capture to the receiver (at most {MOST_LATE_S} s)",
            rung.height.unwrap_or(0)
        );
    }
    // What the status says is what the receiver saw, less the SRT latency and the few ms of
    // the transport and the loopback: never more, and not much less.
    assert!(!reported.is_empty(), "no delay_from_capture_ms in status");
    let said = percentile(&reported, 0.5);
    let seen = percentile(&received_medians, 0.5) - SRT_LATENCY_S;
    eprintln!(
        "status: delay from capture {said:.3} s median of {} readings ({:.3}–{:.3} s); receiver less the SRT latency {seen:.3} s",
        reported.len(),
        reported[0],
        reported[reported.len() - 1]
    );
    assert!(
        said <= seen + 0.010 && said >= seen - 0.100,
        "status said {said:.3} s from capture to the transport; the receiver saw {seen:.3} s beyond the SRT latency"
    );
}
