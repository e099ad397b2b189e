//! How long after capture an output's TS reaches its transport. Noted per TS buffer on the
//! encoder's streaming thread (atomics only), read by status. Once TS stops flowing (the channel
//! restarting, its input ended) there is no delay to report: a stale figure would describe a
//! feed that is not there.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// No TS for this long and the delay is unknown again.
const STALE_AFTER: Duration = Duration::from_secs(1);
const NEVER: u64 = u64::MAX;

pub struct CaptureDelay {
    born: Instant,
    latest_us: AtomicU64,
    /// When `latest_us` was noted, ns since `born`; `NEVER` before the first.
    noted_at_ns: AtomicU64,
}

impl Default for CaptureDelay {
    fn default() -> Self {
        CaptureDelay {
            born: Instant::now(),
            latest_us: AtomicU64::new(0),
            noted_at_ns: AtomicU64::new(NEVER),
        }
    }
}

impl CaptureDelay {
    pub fn note(&self, delay: Duration) {
        self.note_at(Instant::now(), delay);
    }

    fn note_at(&self, now: Instant, delay: Duration) {
        self.latest_us
            .store(delay.as_micros() as u64, Ordering::Relaxed);
        self.noted_at_ns.store(
            now.duration_since(self.born).as_nanos() as u64,
            Ordering::Relaxed,
        );
    }

    /// The latest delay, while TS flows.
    pub fn current(&self) -> Option<Duration> {
        self.current_at(Instant::now())
    }

    fn current_at(&self, now: Instant) -> Option<Duration> {
        let noted = self.noted_at_ns.load(Ordering::Relaxed);
        if noted == NEVER {
            return None;
        }
        let age = now
            .duration_since(self.born)
            .saturating_sub(Duration::from_nanos(noted));
        (age < STALE_AFTER).then(|| Duration::from_micros(self.latest_us.load(Ordering::Relaxed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_delay_while_ts_flows_and_none_before_or_after() {
        let delay = CaptureDelay::default();
        let t0 = Instant::now();
        assert_eq!(delay.current_at(t0), None);
        delay.note_at(t0, Duration::from_millis(70));
        delay.note_at(t0 + Duration::from_millis(30), Duration::from_millis(65));
        assert_eq!(
            delay.current_at(t0 + Duration::from_millis(500)),
            Some(Duration::from_millis(65))
        );
        // TS stopped: a second later there is nothing to report.
        assert_eq!(delay.current_at(t0 + Duration::from_millis(1030)), None);
        delay.note_at(t0 + Duration::from_secs(5), Duration::from_millis(80));
        assert_eq!(
            delay.current_at(t0 + Duration::from_secs(5)),
            Some(Duration::from_millis(80))
        );
    }
}
