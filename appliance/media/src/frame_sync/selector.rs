//! Which source goes to air: the primary input, the backup input or the slate.
//!
//! Leaving a failed source is immediate; going back to the primary waits until it has been
//! healthy for the revert time (or for a request), so an intermittent cable does not make the
//! programme flap. At start the primary is taken as soon as it first delivers.

use super::health::Condition;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Primary,
    Backup,
    Slate,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Primary => "primary",
            Source::Backup => "backup",
            Source::Slate => "slate",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub from: Source,
    pub to: Source,
    pub reason: String,
}

#[derive(Debug)]
pub struct Selector {
    active: Source,
    /// `None`: go back to the primary only on request.
    revert_after: Option<Duration>,
    primary_healthy_since: Option<Instant>,
    primary_ever_healthy: bool,
}

impl Selector {
    pub fn new(revert_after: Option<Duration>) -> Self {
        Selector {
            active: Source::Slate,
            revert_after,
            primary_healthy_since: None,
            primary_ever_healthy: false,
        }
    }

    pub fn active(&self) -> Source {
        self.active
    }

    /// One decision per frame. `revert_requested` asks to go back to the primary now, which
    /// happens only if the primary is healthy.
    pub fn step(
        &mut self,
        now: Instant,
        primary: &Condition,
        backup: Option<&Condition>,
        revert_requested: bool,
    ) -> Option<Switch> {
        if primary.healthy() {
            self.primary_healthy_since.get_or_insert(now);
        } else {
            self.primary_healthy_since = None;
        }
        let backup_healthy = backup.is_some_and(Condition::healthy);
        let primary_ready = primary.healthy()
            && (!self.primary_ever_healthy
                || revert_requested
                || match (self.revert_after, self.primary_healthy_since) {
                    (Some(hold), Some(since)) => now.saturating_duration_since(since) >= hold,
                    _ => false,
                });
        let (to, reason) = match self.active {
            Source::Primary if !primary.healthy() => {
                let fault = primary.fault().unwrap_or("fault");
                if backup_healthy {
                    (Source::Backup, format!("primary input: {fault}"))
                } else {
                    (Source::Slate, format!("primary input: {fault}"))
                }
            }
            Source::Primary => return None,
            Source::Backup if !backup_healthy => {
                let fault = backup.and_then(Condition::fault).unwrap_or("fault");
                if primary.healthy() {
                    (Source::Primary, format!("backup input: {fault}"))
                } else {
                    (Source::Slate, format!("backup input: {fault}"))
                }
            }
            Source::Backup | Source::Slate if primary_ready => {
                (Source::Primary, self.revert_reason(revert_requested))
            }
            Source::Slate if backup_healthy => (Source::Backup, "backup input healthy".into()),
            Source::Backup | Source::Slate => return None,
        };
        if to == Source::Primary {
            self.primary_ever_healthy = true;
        }
        let from = std::mem::replace(&mut self.active, to);
        Some(Switch { from, to, reason })
    }

    fn revert_reason(&self, requested: bool) -> String {
        if !self.primary_ever_healthy {
            "primary input delivering".into()
        } else if requested {
            "revert requested".into()
        } else {
            format!(
                "primary input healthy for {} s",
                self.revert_after.map(|d| d.as_secs()).unwrap_or(0)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: Condition = Condition {
        lost: false,
        black: false,
        frozen: false,
        silent: false,
        signal: None,
    };
    const LOST: Condition = Condition {
        lost: true,
        black: false,
        frozen: false,
        silent: false,
        signal: None,
    };
    const BLACK: Condition = Condition {
        lost: false,
        black: true,
        frozen: false,
        silent: false,
        signal: None,
    };

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn starts_on_slate_and_takes_the_primary_at_its_first_picture() {
        let t0 = Instant::now();
        let mut s = Selector::new(Some(ms(5000)));
        assert_eq!(s.active(), Source::Slate);
        assert_eq!(s.step(t0, &LOST, None, false), None);
        let sw = s.step(t0 + ms(40), &OK, None, false).expect("switch");
        assert_eq!((sw.from, sw.to), (Source::Slate, Source::Primary));
    }

    #[test]
    fn loss_goes_to_slate_at_once_and_back_only_after_the_revert_time() {
        let t0 = Instant::now();
        let mut s = Selector::new(Some(ms(2000)));
        s.step(t0, &OK, None, false);
        let sw = s.step(t0 + ms(100), &LOST, None, false).expect("to slate");
        assert_eq!(sw.to, Source::Slate);
        assert_eq!(sw.reason, "primary input: no picture");
        assert_eq!(s.step(t0 + ms(5000), &OK, None, false), None);
        assert_eq!(s.step(t0 + ms(6999), &OK, None, false), None);
        let back = s.step(t0 + ms(7000), &OK, None, false).expect("revert");
        assert_eq!(back.to, Source::Primary);
        assert_eq!(back.reason, "primary input healthy for 2 s");
    }

    #[test]
    fn a_healthy_backup_is_preferred_to_the_slate_and_left_when_it_fails() {
        let t0 = Instant::now();
        let mut s = Selector::new(Some(ms(1000)));
        s.step(t0, &OK, Some(&OK), false);
        let sw = s
            .step(t0 + ms(10), &BLACK, Some(&OK), false)
            .expect("to backup");
        assert_eq!(sw.to, Source::Backup);
        assert_eq!(sw.reason, "primary input: black picture");
        let sw = s
            .step(t0 + ms(20), &LOST, Some(&LOST), false)
            .expect("to slate");
        assert_eq!(sw.to, Source::Slate);
        let sw = s
            .step(t0 + ms(30), &LOST, Some(&OK), false)
            .expect("backup");
        assert_eq!(sw.to, Source::Backup);
    }

    #[test]
    fn a_primary_that_flaps_never_gets_back_before_holding_healthy() {
        let t0 = Instant::now();
        let mut s = Selector::new(Some(ms(1000)));
        s.step(t0, &OK, None, false);
        s.step(t0 + ms(10), &LOST, None, false);
        for i in 0..10 {
            let at = t0 + ms(100 + i * 200);
            assert_eq!(s.step(at, &OK, None, false), None);
            assert_eq!(s.step(at + ms(100), &LOST, None, false), None);
        }
        assert_eq!(s.active(), Source::Slate);
    }

    #[test]
    fn manual_revert_needs_a_request_and_a_healthy_primary() {
        let t0 = Instant::now();
        let mut s = Selector::new(None);
        s.step(t0, &OK, None, false);
        s.step(t0 + ms(10), &LOST, None, false);
        assert_eq!(s.step(t0 + ms(60_000), &OK, None, false), None);
        assert_eq!(s.step(t0 + ms(60_010), &LOST, None, true), None);
        let sw = s.step(t0 + ms(60_020), &OK, None, true).expect("revert");
        assert_eq!(sw.reason, "revert requested");
    }
}
