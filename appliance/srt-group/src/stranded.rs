//! A member libsrt has connected but will never use. libsrt 1.5.1's `srt_connect_group` dials
//! each link without blocking and afterwards, under the group lock, marks the member
//! `SRT_GST_PENDING` (api.cpp, `groupConnect`). When the handshake finishes first (a near path,
//! or the dialling thread preempted), libsrt's receive thread has already marked it
//! `SRT_GST_IDLE`, and the late write puts it back to pending. Nothing moves a pending member on
//! after that: the group's send skips it, and the socket stays connected, keeping alive, with no
//! packet of the programme. That is what the appliance's interface-tied group test once
//! showed (a link `standby`, connected, 0 packets sent, for the whole 15 s window while its
//! twin carried the stream); the race itself is read from libsrt's source, not reproduced:
//! 60 fresh connects and about 90 redials on loopback, idle and under CPU load, left none.
//!
//! A member that stays pending while its socket says connected is such a member: the group
//! closes it, and the link is dialled again.

use std::time::{Duration, Instant};

/// libsrt marks a member idle before its socket reports connected, so a correct member is
/// never seen pending and connected at all; a moment's grace covers an unlucky read.
pub const STRANDED_AFTER: Duration = Duration::from_millis(300);

/// Since when one member has been seen pending while connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stranding {
    member: i32,
    since: Instant,
}

/// Records whether `member` is pending while connected at `now`; answers whether it has been
/// so for `STRANDED_AFTER`.
pub fn is_stranded(
    watch: &mut Option<Stranding>,
    member: i32,
    pending_while_connected: bool,
    now: Instant,
) -> bool {
    if !pending_while_connected {
        *watch = None;
        return false;
    }
    match watch {
        Some(seen) if seen.member == member => {
            now.saturating_duration_since(seen.since) >= STRANDED_AFTER
        }
        _ => {
            *watch = Some(Stranding { member, since: now });
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_member_pending_while_connected_is_stranded_after_the_grace() {
        let start = Instant::now();
        let mut watch = None;
        assert!(!is_stranded(&mut watch, 7, true, start));
        assert!(!is_stranded(&mut watch, 7, true, start + 299 * MS));
        assert!(is_stranded(&mut watch, 7, true, start + 300 * MS));
    }

    #[test]
    fn a_member_that_moves_on_is_not_stranded() {
        // Idle or running in between: the watch starts over.
        let start = Instant::now();
        let mut watch = None;
        assert!(!is_stranded(&mut watch, 7, true, start));
        assert!(!is_stranded(&mut watch, 7, false, start + 200 * MS));
        assert!(!is_stranded(&mut watch, 7, true, start + 400 * MS));
        assert!(!is_stranded(&mut watch, 7, true, start + 600 * MS));
        assert!(is_stranded(&mut watch, 7, true, start + 700 * MS));
    }

    #[test]
    fn a_redialled_link_starts_a_new_watch() {
        let start = Instant::now();
        let mut watch = None;
        assert!(!is_stranded(&mut watch, 7, true, start));
        assert!(is_stranded(&mut watch, 7, true, start + 500 * MS));
        assert!(!is_stranded(&mut watch, 8, true, start + 600 * MS));
    }
}
