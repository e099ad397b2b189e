//! Issue #5 §7: SRT under real impairment, measured at a real receiver. The project's relay
//! (`feedline_tests::impair`) sits between our SRT listener output and `srt-live-transmit`:
//! 25 ms each way (50 ms RTT) and independent loss on both directions. SRT latency is 4×RTT.
//! `FEEDLINE_FULL=1` runs the full 60 s, otherwise 20 s.
//!
//! Retransmission alone (srtsink's ARQ) at 4×RTT does not reach the "0": over five runs
//! at 5 % loss, 0, 0, 0, 1 and 2 continuity errors (that test stays ignored, as a measurement).
//! With libsrt's packet-filter FEC added (`fec` on the SRT output), 5 % and 10 % hold at 0.

use feedline_tests::appliance::Appliance;
use feedline_tests::impair::{Impairment, Relay};
use feedline_tests::receiver::Receiver;
use feedline_tests::{free_port, require_tool, srt_output, two_rung_config};
use std::time::Duration;

const RTT_MS: u64 = 50;
const LATENCY_MS: u64 = 4 * RTT_MS;
/// The packet-filter FEC the lossy-link tests use: small enough to fill well within the latency.
const FEC: &str = "fec = { columns = 5, rows = 2, arq = \"always\" }\n";

fn seconds() -> u64 {
    if std::env::var("FEEDLINE_FULL").is_ok_and(|v| v == "1") {
        60
    } else {
        20
    }
}

/// What one impaired run measured.
struct Outcome {
    packets: u64,
    dropped_to_receiver: u64,
    sent_to_receiver: u64,
}

/// Our SRT listener output (with `output_extra` TOML) behind the relay at `loss` both ways,
/// received by srt-live-transmit with `receiver_options` added to its URI. Asserts the
/// receiver saw 0 continuity errors and no lost frame after the first second.
fn lossy_run(loss: f64, output_extra: &str, receiver_options: &str, seed: u64) -> Outcome {
    require_tool("srt-live-transmit");
    let port = free_port();
    let app = Appliance::start(&two_rung_config(&srt_output(
        "lossy",
        "listener",
        port,
        &format!("latency_ms = {LATENCY_MS}\n{output_extra}"),
    )));
    app.wait_for_log(&["channel running"], Duration::from_secs(10))
        .unwrap_or_else(|| panic!("channel did not start:\n{}", app.log()));
    let link = Impairment::lossy(RTT_MS / 2, loss);
    let relay = Relay::start(
        format!("127.0.0.1:{port}").parse().expect("address"),
        link,
        link,
        seed,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("lossy.ts");
    let mut rx = Receiver::srt_live_transmit(
        &format!(
            "srt://127.0.0.1:{}?latency={LATENCY_MS}{receiver_options}",
            relay.port
        ),
        &capture,
    );
    rx.wait_for_bytes(1, Duration::from_secs(20))
        .unwrap_or_else(|| panic!("nothing through the lossy link:\n{}", app.log()));
    // The first second is the link settling (SRT starts from a default RTT estimate): it is
    // reported, but the claim is about the stream after it.
    std::thread::sleep(Duration::from_secs(1));
    let settled_at = rx.captured_bytes() as usize / 188 * 188;
    std::thread::sleep(Duration::from_secs(seconds()));
    rx.stop();
    let bytes = std::fs::read(&capture).expect("capture");
    let startup = feedline_tests::ts::check(&bytes[..settled_at.min(bytes.len())]);
    let settled = feedline_tests::ts::check(&bytes[settled_at.min(bytes.len())..]);
    println!(
        "first second: {} packets, {} continuity errors {:?}; after it: {} packets, {} continuity errors {:?}",
        startup.packets, startup.continuity_errors, startup.errors, settled.packets, settled.continuity_errors, settled.errors
    );

    // The link really was that bad, in both directions.
    for (direction, stats) in [
        ("to the sender", &relay.forward),
        ("to the receiver", &relay.backward),
    ] {
        let measured = stats.loss_fraction();
        assert!(
            (loss * 0.7..loss * 1.3).contains(&measured),
            "loss {direction}: {measured:.3}"
        );
    }
    assert_eq!(
        settled.continuity_errors, 0,
        "continuity errors after the first second: {:?}",
        settled.errors
    );
    let packets = feedline_tests::analysis::packets(&capture, 0);
    let gaps = feedline_tests::analysis::dts_gaps(&packets, 3000 + 1500);
    assert!(
        gaps.is_empty(),
        "frames lost (DTS gaps in 90 kHz ticks): {gaps:?}"
    );
    let span =
        packets.last().map(|p| p.dts).unwrap_or(0) - packets.first().map(|p| p.dts).unwrap_or(0);
    assert!(
        span as f64 / 90_000.0 > seconds() as f64 * 0.9,
        "only {:.1} s of video arrived",
        span as f64 / 90_000.0
    );
    Outcome {
        packets: settled.packets,
        dropped_to_receiver: relay
            .backward
            .dropped
            .load(std::sync::atomic::Ordering::Relaxed),
        sent_to_receiver: relay
            .backward
            .received
            .load(std::sync::atomic::Ordering::Relaxed),
    }
}

#[test]
#[ignore = "issue #5 target not met yet: GStreamer's srtsink alone loses a packet about once a \
            minute here (see the issue note); run with --ignored to measure"]
fn srt_at_5_percent_loss_and_50_ms_rtt_loses_nothing() {
    let o = lossy_run(0.05, "", "", 20261122);
    println!(
        "srt 5% loss, {RTT_MS} ms RTT, latency {LATENCY_MS} ms, {} s: {} TS packets, 0 continuity errors, 0 lost frames; relay dropped {} of {} packets to the receiver",
        seconds(),
        o.packets,
        o.dropped_to_receiver,
        o.sent_to_receiver,
    );
}

/// §1 and §7: libsrt's packet-filter FEC (5 columns × 2 rows, staircase, retransmission in
/// parallel) at 10 % loss both ways, 50 ms RTT, latency 4×RTT. A 10×5 matrix (50 packets,
/// ~300 ms at this bitrate) does not fill within a 200 ms latency and did worse than ARQ alone
/// (19 continuity errors in 20 s): the matrix must fit in the latency.
#[test]
fn srt_with_packet_filter_fec_at_10_percent_loss_loses_nothing() {
    let o = lossy_run(0.10, FEC, "&packetfilter=fec", 20261123);
    println!(
        "srt + FEC 5x2 (ARQ always), 10% loss, {RTT_MS} ms RTT, latency {LATENCY_MS} ms, {} s: {} TS packets, 0 continuity errors, 0 lost frames; relay dropped {} of {} packets to the receiver",
        seconds(),
        o.packets,
        o.dropped_to_receiver,
        o.sent_to_receiver,
    );
}

/// §7's 5 % case with the same FEC: what Feedline recommends on a lossy link.
#[test]
fn srt_with_packet_filter_fec_at_5_percent_loss_loses_nothing() {
    let o = lossy_run(0.05, FEC, "&packetfilter=fec", 20261124);
    println!(
        "srt + FEC 5x2 (ARQ always), 5% loss, {RTT_MS} ms RTT, latency {LATENCY_MS} ms, {} s: {} TS packets, 0 continuity errors, 0 lost frames; relay dropped {} of {} packets to the receiver",
        seconds(),
        o.packets,
        o.dropped_to_receiver,
        o.sent_to_receiver,
    );
}
