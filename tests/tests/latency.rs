//! The picture is on time: the shipped default channel (live test pattern → 1080p/720p/540p
//! H.264 → SRT listener, 120 ms SRT latency) delivers every picture to srt-live-transmit soon
//! after it was captured. Each picture's delay is its timecode (the system clock when it was
//! captured) against the moment its last byte reached the receiver's capture, on the same
//! clock, for every picture of every rung, not only the last one.

use feedline_tests::analysis::{self, Packet};
use feedline_tests::appliance::Appliance;
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
    let config = SHIPPED
        .replace("port = 9000", &format!("port = {port}"))
        .replace("address = \"0.0.0.0\"", "address = \"127.0.0.1\"");
    let app = Appliance::start(&config);
    app.wait_for_log(&["channel running"], Duration::from_secs(10))
        .unwrap_or_else(|| panic!("channel did not start:\n{}", app.log()));
    // A receiver that comes while the channel has long been running, as at a venue.
    std::thread::sleep(Duration::from_secs(3));
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("default.ts");
    let watch = ArrivalLog::watch(&capture);
    let mut rx = Receiver::srt_live_transmit(
        &format!("srt://127.0.0.1:{port}?mode=caller&latency=120"),
        &capture,
    );
    rx.wait_for_bytes(188 * 100, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no stream: {}\n{}", rx.stderr_text(), app.log()));
    std::thread::sleep(Duration::from_secs(CAPTURE_S));
    rx.stop();
    let arrivals = watch.finish();

    let rungs = analysis::video_streams(&capture);
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
}
