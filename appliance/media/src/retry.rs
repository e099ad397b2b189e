//! Retrying what failed (an output's connection, a channel's pipeline) without hammering it and
//! without ever delaying a stop request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Exponential backoff: `first`, 2×`first`, 4×`first`, … capped at `cap`.
pub fn backoff(first: Duration, cap: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
    first.saturating_mul(factor).min(cap)
}

/// Sleeps for `wait`, waking early when `stop` is set; returns false if it was.
pub fn sleep_unless_stopped(stop: &AtomicBool, wait: Duration) -> bool {
    let until = Instant::now() + wait;
    while Instant::now() < until {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
    }
    !stop.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps() {
        let ms = |a| backoff(Duration::from_millis(100), Duration::from_secs(1), a).as_millis();
        assert_eq!(
            [ms(0), ms(1), ms(2), ms(3), ms(4), ms(40)],
            [100, 200, 400, 800, 1000, 1000]
        );
    }

    #[test]
    fn a_stop_request_cuts_the_wait_short() {
        let stop = AtomicBool::new(true);
        let start = Instant::now();
        assert!(!sleep_unless_stopped(&stop, Duration::from_secs(10)));
        assert!(start.elapsed() < Duration::from_millis(100));
    }
}
