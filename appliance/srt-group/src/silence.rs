//! Telling a dead path from a live one before libsrt does. A live-mode receiver acknowledges
//! every 10 ms while data arrives, and reports losses while it waits for a retransmission, so a
//! link that keeps sending and hears neither for `SILENT_AFTER` has lost its path. libsrt
//! itself breaks such a link only after its peer idle timeout (5 s) and 16 expiries: about 7 s
//! in the tests, and once longer than 15 s. Until then libsrt calls the link running, and a
//! status that said "active" would not be the truth.

use std::time::{Duration, Instant};

/// Long enough to hold about a hundred acknowledgements on a live link at any loss a link can
/// carry; short enough that an engineer sees the dead path at once.
pub const SILENT_AFTER: Duration = Duration::from_secs(1);

/// What was last heard on one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hearing {
    /// libsrt's member socket: a redialled link starts a new watch.
    member: i32,
    /// Acknowledgements and loss reports received so far.
    replies: i64,
    /// Packets sent when `replies` last changed.
    sent: i64,
    /// When `replies` last changed (or the watch started).
    since: Instant,
}

/// Records what `member` has received (`replies`: acknowledgements plus loss reports) and sent
/// by `now`; answers whether it has sent without hearing a reply for `SILENT_AFTER`.
pub fn is_silent(
    watch: &mut Option<Hearing>,
    member: i32,
    replies: i64,
    sent: i64,
    now: Instant,
) -> bool {
    match watch {
        Some(heard) if heard.member == member && heard.replies == replies => {
            sent > heard.sent && now.saturating_duration_since(heard.since) >= SILENT_AFTER
        }
        _ => {
            *watch = Some(Hearing {
                member,
                replies,
                sent,
                since: now,
            });
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_link_that_sends_and_hears_nothing_for_a_second_is_silent() {
        let start = Instant::now();
        let mut watch = None;
        assert!(!is_silent(&mut watch, 7, 100, 1000, start));
        assert!(!is_silent(&mut watch, 7, 100, 1080, start + 999 * MS));
        assert!(is_silent(&mut watch, 7, 100, 1090, start + 1000 * MS));
        // One reply and it is heard again, and the second starts over.
        assert!(!is_silent(&mut watch, 7, 101, 1100, start + 1100 * MS));
        assert!(!is_silent(&mut watch, 7, 101, 1150, start + 2000 * MS));
        assert!(is_silent(&mut watch, 7, 101, 1190, start + 2100 * MS));
    }

    #[test]
    fn a_link_with_nothing_to_send_is_not_silent() {
        // A backup group's standby, or a stalled source: nothing sent, nothing to acknowledge.
        let start = Instant::now();
        let mut watch = None;
        assert!(!is_silent(&mut watch, 7, 100, 1000, start));
        assert!(!is_silent(&mut watch, 7, 100, 1000, start + 5000 * MS));
    }

    #[test]
    fn a_redialled_link_starts_a_new_watch() {
        let start = Instant::now();
        let mut watch = None;
        assert!(!is_silent(&mut watch, 7, 100, 1000, start));
        assert!(is_silent(&mut watch, 7, 100, 1500, start + 1500 * MS));
        // The new member's counters start from zero; it has not been silent for a second yet.
        assert!(!is_silent(&mut watch, 8, 0, 10, start + 1600 * MS));
        assert!(!is_silent(&mut watch, 8, 0, 40, start + 2000 * MS));
    }
}
