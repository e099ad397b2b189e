//! Issue #5 §4, dual destinations: an output declared `copy_of` another sends the same TS,
//! byte for byte (one muxer: same PIDs, PCR, continuity counters), so a receiver can merge the two
//! paths packet by packet (SMPTE 2022-7 style). Two real receivers capture both at once.

use feedline_tests::api::{set_up_admin, Deployment};
use feedline_tests::feed::assert_ts_continuity;
use feedline_tests::receiver::Receiver;
use feedline_tests::{free_port, srt_output};
use serde_json::json;
use std::time::Duration;

/// What output B copies. Without it this test fails (checked by hand): B then has a muxer of its
/// own, whose continuity counters start afresh.
const COPY_OF: &str = "a";

const PACKET: usize = 188;

/// The first packet at or after `from` on a video PID: its payload makes it unique in a capture
/// (PAT/PMT packets repeat byte for byte every 16 tables).
fn first_video_packet(ts: &[u8], from: usize) -> Option<usize> {
    (from..ts.len() / PACKET).find(|&i| {
        let p = &ts[i * PACKET..(i + 1) * PACKET];
        let pid = (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]);
        p[0] == 0x47 && (0x100..0x110).contains(&pid)
    })
}

fn position_of(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .chunks_exact(PACKET)
        .position(|packet| packet == needle)
}

#[test]
fn a_copy_added_while_running_carries_the_same_ts_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port_a, port_b) = (free_port(), free_port());
    let d = Deployment::two_rung(
        dir.path(),
        false,
        "",
        &srt_output("a", "listener", port_a, ""),
    );
    let appliance = d.start();
    let (admin, _) = set_up_admin(&d, &appliance);
    let (capture_a, capture_b) = (dir.path().join("a.ts"), dir.path().join("b.ts"));
    let mut rx_a = Receiver::srt_live_transmit(&format!("srt://127.0.0.1:{port_a}"), &capture_a);
    rx_a.wait_for_bytes(100_000, Duration::from_secs(15))
        .unwrap_or_else(|| panic!("no TS from output a:\n{}", appliance.log()));
    std::thread::sleep(Duration::from_secs(2));

    // The second destination is added while A runs. A muxer of its own would start its
    // continuity counters afresh; a copy continues A's.
    let a = admin.get("/api/v1/channels/test").json()["outputs"][0].clone();
    let mut b = a.clone();
    b["name"] = json!("b");
    b["port"] = json!(port_b);
    b["copy_of"] = json!(COPY_OF);
    let applied = admin.merge_patch("/api/v1/channels/test", &json!({ "outputs": [a, b] }));
    assert_eq!(applied.status, 200, "{applied:?}");
    assert_eq!(applied.json()["added_outputs"], json!(["test/b"]));
    let mut rx_b = Receiver::srt_live_transmit(&format!("srt://127.0.0.1:{port_b}"), &capture_b);
    rx_b.wait_for_bytes(100_000, Duration::from_secs(15))
        .unwrap_or_else(|| panic!("no TS from output b:\n{}", appliance.log()));
    std::thread::sleep(Duration::from_secs(5));
    rx_a.stop();
    rx_b.stop();

    let a = std::fs::read(&capture_a).expect("capture a");
    let b = std::fs::read(&capture_b).expect("capture b");
    // The receivers connected at different times: line the captures up on one video packet well
    // inside B, then compare everything both hold from there.
    let start_b = first_video_packet(&b, 500).expect("a video packet in B");
    let needle = &b[start_b * PACKET..(start_b + 1) * PACKET];
    let start_a = position_of(&a, needle).expect("B's packet is not in A: B is not A's TS");
    let common = ((a.len() / PACKET) - start_a).min((b.len() / PACKET) - start_b);
    assert!(common > 3000, "only {common} packets in common");
    let differing = (0..common)
        .filter(|&i| {
            let (pa, pb) = (start_a + i, start_b + i);
            a[pa * PACKET..(pa + 1) * PACKET] != b[pb * PACKET..(pb + 1) * PACKET]
        })
        .count();
    assert_eq!(
        differing, 0,
        "{differing} of {common} aligned packets differ between A and its copy B"
    );
    assert_ts_continuity(&capture_a);
    assert_ts_continuity(&capture_b);
}
