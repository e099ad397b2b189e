//! Login attempts per client address: after `MAX_FAILURES` failures within `WINDOW`, further
//! attempts get 429 until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// `Err(seconds to wait)` when this address must wait before trying again.
    pub fn check(&self, addr: IpAddr) -> Result<(), u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let Some(list) = map.get_mut(&addr) else {
            return Ok(());
        };
        while list
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            list.pop_front();
        }
        if list.len() >= MAX_FAILURES {
            let oldest = list.front().copied().unwrap_or(now);
            let wait = WINDOW.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        Ok(())
    }

    pub fn failed(&self, addr: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: an attacker rotating addresses cannot grow this without limit.
        if map.len() > 10_000 {
            let now = Instant::now();
            map.retain(|_, l| l.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        map.entry(addr).or_default().push_back(Instant::now());
    }

    pub fn succeeded(&self, addr: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixth_attempt_within_a_minute_is_refused() {
        let limiter = LoginLimiter::default();
        let addr: IpAddr = [192, 0, 2, 1].into();
        let other: IpAddr = [192, 0, 2, 2].into();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.check(addr).is_ok());
            limiter.failed(addr);
        }
        let wait = limiter.check(addr).expect_err("must be limited");
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            limiter.check(other).is_ok(),
            "other addresses are not affected"
        );
    }
}
