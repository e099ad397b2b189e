//! What the transports' own statistics say: srtsink's and ristsink's figures for status and
//! metrics, and when an SRT receiver has gone without closing (its ACKs stop).

use crate::status::{RistLinkStats, SrtLinkStats};
use gstreamer as gst;
use std::time::{Duration, Instant};

/// libsrt's peer idle timeout is 5 s and this srtsink does not let us lower it, so a receiver
/// that dies without closing would be "sent to" for 5 s. On a live SRT link the receiver ACKs
/// every 10 ms; a second without a new ACK while we keep sending means the peer is gone.
pub const ACK_SILENCE_LIMIT: Duration = Duration::from_millis(1000);

#[derive(Default)]
pub struct AckWatch {
    last_acks: Option<u64>,
    last_sent: u64,
    last_change: Option<Instant>,
}

impl AckWatch {
    pub fn observe(&mut self, stats: &gst::Structure, now: Instant) -> Option<Duration> {
        let acks = stat_count(stats, "packet-ack-received")?;
        let sent = stat_count(stats, "packets-sent").unwrap_or(0);
        if self.last_acks != Some(acks) || sent == self.last_sent {
            // New ACKs, or nothing sent since last look (nothing to acknowledge).
            self.last_acks = Some(acks);
            self.last_sent = sent;
            self.last_change = Some(now);
            return None;
        }
        self.last_sent = sent;
        let since = now.duration_since(*self.last_change.get_or_insert(now));
        (since >= ACK_SILENCE_LIMIT).then_some(since)
    }
}

/// A counter from srtsink's stats, whichever integer type this GStreamer version uses for it.
fn stat_count(s: &gst::Structure, key: &str) -> Option<u64> {
    s.get::<i64>(key)
        .map(|v| v.max(0) as u64)
        .or_else(|_| s.get::<u64>(key))
        .or_else(|_| s.get::<i32>(key).map(|v| v.max(0) as u64))
        .ok()
}

/// ristsink's `rist/x-sender-stats`: totals at the top, the round-trip time per bond (in
/// nanoseconds, from the receiver's RTCP); the first bond's is the link's.
pub fn rist_link_stats(s: &gst::Structure) -> RistLinkStats {
    let rtt_ns = s
        .get::<gst::glib::ValueArray>("session-stats")
        .ok()
        .and_then(|sessions| {
            sessions
                .iter()
                .next()
                .and_then(|v| v.get::<gst::Structure>().ok())
        })
        .and_then(|session| stat_count(&session, "round-trip-time"))
        .filter(|ns| *ns > 0);
    RistLinkStats {
        packets_sent: stat_count(s, "sent-original-packets").unwrap_or(0),
        packets_retransmitted: stat_count(s, "sent-retransmitted-packets").unwrap_or(0),
        rtt_ms: rtt_ns.map(|ns| ns as f64 / 1e6),
    }
}

pub fn srt_link_stats(s: &gst::Structure) -> SrtLinkStats {
    let f = |k: &str| s.get::<f64>(k).unwrap_or(0.0);
    let i = |k: &str| stat_count(s, k).unwrap_or(0);
    SrtLinkStats {
        rtt_ms: f("rtt-ms"),
        send_rate_mbps: f("send-rate-mbps"),
        packets_sent: i("packets-sent"),
        packets_lost: i("packets-sent-lost"),
        packets_retransmitted: i("packets-retransmitted"),
        packets_dropped: i("packets-sent-dropped"),
        negotiated_latency_ms: i("negotiated-latency-ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srt_stats(acks: i64, sent: i64) -> gst::Structure {
        gst::Structure::builder("application/x-srt-statistics")
            .field("packet-ack-received", acks)
            .field("packets-sent", sent)
            .build()
    }

    #[test]
    fn a_receiver_is_gone_after_a_second_of_sending_without_a_new_ack() {
        gst::init().expect("gst");
        let mut watch = AckWatch::default();
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        assert_eq!(watch.observe(&srt_stats(10, 100), at(0)), None);
        // Sending on, ACKs stop: silent, but not yet for a second.
        assert_eq!(watch.observe(&srt_stats(10, 200), at(500)), None);
        assert_eq!(watch.observe(&srt_stats(10, 300), at(999)), None);
        assert_eq!(
            watch.observe(&srt_stats(10, 400), at(1000)),
            Some(Duration::from_millis(1000))
        );
        // A new ACK: alive again.
        assert_eq!(watch.observe(&srt_stats(11, 500), at(1100)), None);
    }

    #[test]
    fn nothing_sent_is_nothing_to_acknowledge() {
        gst::init().expect("gst");
        let mut watch = AckWatch::default();
        let t0 = Instant::now();
        assert_eq!(watch.observe(&srt_stats(10, 100), t0), None);
        for s in 1..5 {
            let now = t0 + Duration::from_secs(s);
            assert_eq!(watch.observe(&srt_stats(10, 100), now), None);
        }
    }

    #[test]
    fn srt_figures_are_read_whatever_integer_type_srtsink_uses() {
        gst::init().expect("gst");
        let stats = gst::Structure::builder("application/x-srt-statistics")
            .field("rtt-ms", 51.5f64)
            .field("send-rate-mbps", 3.2f64)
            .field("packets-sent", 1000i64)
            .field("packets-sent-lost", 12i32)
            .field("packets-retransmitted", 15u64)
            .field("packets-sent-dropped", -1i64)
            .field("negotiated-latency-ms", 200i32)
            .build();
        assert_eq!(
            srt_link_stats(&stats),
            SrtLinkStats {
                rtt_ms: 51.5,
                send_rate_mbps: 3.2,
                packets_sent: 1000,
                packets_lost: 12,
                packets_retransmitted: 15,
                packets_dropped: 0,
                negotiated_latency_ms: 200,
            }
        );
    }

    #[test]
    fn rist_counts_are_read_and_the_rtt_is_unknown_without_receiver_reports() {
        gst::init().expect("gst");
        let stats = gst::Structure::builder("rist/x-sender-stats")
            .field("sent-original-packets", 5000u64)
            .field("sent-retransmitted-packets", 40u64)
            .build();
        assert_eq!(
            rist_link_stats(&stats),
            RistLinkStats {
                packets_sent: 5000,
                packets_retransmitted: 40,
                rtt_ms: None,
            }
        );
    }
}
