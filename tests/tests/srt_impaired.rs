//! Issue #5 §7: SRT under real impairment, measured at a real receiver. The project's relay
//! (`feedline_tests::impair`) sits between our SRT listener output and `srt-live-transmit`:
//! 25 ms each way (50 ms RTT) and independent loss on both directions. SRT latency is 4×RTT.
//! `FEEDLINE_FULL=1` runs the full 60 s, otherwise 20 s.
//!
//! Retransmission alone holds 5 % at 0 once the sender answers every loss report (libsrt's
//! default "reduced" retransmission lost 0-2 packets per 20 s here). With libsrt's packet-filter
//! FEC added (`fec` on the SRT output), 5 % and 10 % hold at 0.

use feedline_tests::api::{set_up_admin, Client, Deployment};
use feedline_tests::impair::{self, Impairment, Relay};
use feedline_tests::receiver::Receiver;
use feedline_tests::{free_port, require_tool, srt_output};
use std::sync::Mutex;
use std::time::Duration;

const RTT_MS: u64 = 50;
const LATENCY_MS: u64 = 4 * RTT_MS;
/// The packet-filter FEC the lossy-link tests use: small enough to fill well within the latency.
const FEC: &str = "fec = { columns = 5, rows = 2, arq = \"always\" }\n";

/// One lossy run at a time: each runs an appliance encoding a ladder and a relay on a machine
/// of two cores, and the claim is about the link, not about the runs starving each other (the
/// SRT group tests lost a message that way in CI, 2026-11-24).
static SERIAL: Mutex<()> = Mutex::new(());

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
    /// The sender's own count (libsrt's, through the status API): data packets, and of them
    /// retransmissions, the price of the recovery.
    srt_sent: u64,
    srt_retransmitted: u64,
}

impl Outcome {
    fn retransmitted_percent(&self) -> f64 {
        100.0 * self.srt_retransmitted as f64 / self.srt_sent.max(1) as f64
    }
}

/// libsrt's figures for the channel's one output, from the status API.
fn sender_figures(admin: &Client) -> (u64, u64) {
    let status = admin.get("/api/v1/status").json();
    let srt = &status["channels"][0]["outputs"][0]["srt"];
    let count = |field: &str| {
        srt[field]
            .as_u64()
            .unwrap_or_else(|| panic!("no {field} in the output's status: {status}"))
    };
    (count("packets_sent"), count("packets_retransmitted"))
}

/// Our SRT listener output (with `output_extra` TOML) behind the relay at `loss` both ways,
/// received by srt-live-transmit with `receiver_options` added to its URI. Asserts the
/// receiver saw 0 continuity errors and no lost frame after the first second.
fn lossy_run(loss: f64, output_extra: &str, receiver_options: &str, seed: u64) -> Outcome {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("srt-live-transmit");
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let deployment = Deployment::two_rung(
        dir.path(),
        false,
        "",
        &srt_output(
            "lossy",
            "listener",
            port,
            &format!("latency_ms = {LATENCY_MS}\n{output_extra}"),
        ),
    );
    let app = deployment.start();
    let (admin, _) = set_up_admin(&deployment, &app);
    app.wait_for_log(&["channel running"], Duration::from_secs(10))
        .unwrap_or_else(|| panic!("channel did not start:\n{}", app.log()));
    let link = Impairment::lossy(RTT_MS / 2, loss);
    let relay = Relay::start(
        format!("127.0.0.1:{port}").parse().expect("address"),
        link,
        link,
        impair::seed(seed),
    );
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
    // Status is refreshed every second; the receiver is still connected here.
    let (srt_sent, srt_retransmitted) = sender_figures(&admin);
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
        srt_sent,
        srt_retransmitted,
    }
}

/// One line per scenario for the README's table.
fn report(scenario: &str, o: &Outcome) {
    println!(
        "{scenario}, {RTT_MS} ms RTT, latency {LATENCY_MS} ms, {} s: {} TS packets, 0 continuity errors, 0 lost frames; relay dropped {} of {} packets to the receiver; sender retransmitted {} of {} packets ({:.1} %)",
        seconds(),
        o.packets,
        o.dropped_to_receiver,
        o.sent_to_receiver,
        o.srt_retransmitted,
        o.srt_sent,
        o.retransmitted_percent(),
    );
}

/// §7's first case with retransmission alone: 5 % loss both ways, 50 ms RTT, latency 4×RTT.
/// What makes it hold is answering every loss report (`SRT_RETRANSMIT_ALGORITHM`); with
/// libsrt's default "reduced" retransmission this lost 0-2 packets per 20 s.
#[test]
fn srt_at_5_percent_loss_and_50_ms_rtt_loses_nothing() {
    let o = lossy_run(0.05, "", "", 20261122);
    report("srt 5% loss (ARQ only)", &o);
    // The stream was whole because it was repaired, not because the loss missed it.
    assert!(
        o.srt_retransmitted * 100 > o.srt_sent * 4,
        "the sender retransmitted only {} of {} packets at 5 % loss",
        o.srt_retransmitted,
        o.srt_sent
    );
}

/// §1 and §7: libsrt's packet-filter FEC (5 columns × 2 rows, staircase, retransmission in
/// parallel) at 10 % loss both ways, 50 ms RTT, latency 4×RTT. A 10×5 matrix (50 packets,
/// ~300 ms at this bitrate) does not fill within a 200 ms latency and did worse than ARQ alone
/// (19 continuity errors in 20 s): the matrix must fit in the latency.
#[test]
fn srt_with_packet_filter_fec_at_10_percent_loss_loses_nothing() {
    let o = lossy_run(0.10, FEC, "&packetfilter=fec", 20261123);
    report("srt + FEC 5x2 (ARQ always), 10% loss", &o);
}

/// §7's 5 % case with the same FEC.
#[test]
fn srt_with_packet_filter_fec_at_5_percent_loss_loses_nothing() {
    let o = lossy_run(0.05, FEC, "&packetfilter=fec", 20261124);
    report("srt + FEC 5x2 (ARQ always), 5% loss", &o);
}
