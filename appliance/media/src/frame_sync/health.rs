//! Each input's health over time (picture arriving, black, frozen, silent), the confidence
//! score it gives, and the verdict that drives the switch.

use super::picture::LumaGrid;
use std::time::{Duration, Instant};

/// Audio below this for `silence` counts as silence.
pub const SILENCE_DBFS: f64 = -60.0;

/// How long each fault must last before it counts; `None` disables that check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub no_data: Duration,
    pub black: Option<Duration>,
    pub frozen: Option<Duration>,
    pub silence: Option<Duration>,
}

impl Thresholds {
    pub fn from_config(f: &feedline_config::Failover) -> Self {
        let ms = |v: u32| (v > 0).then(|| Duration::from_millis(u64::from(v)));
        Thresholds {
            no_data: Duration::from_millis(u64::from(f.no_data_ms)),
            black: ms(f.black_ms),
            frozen: ms(f.frozen_ms),
            silence: ms(f.silence_ms),
        }
    }
}

/// What is wrong with an input right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Condition {
    pub lost: bool,
    pub black: bool,
    pub frozen: bool,
    pub silent: bool,
    /// A capture receiver's fault (`no signal`, `no lock`, `out of range`): lost, whatever
    /// pictures it still hands out.
    pub signal: Option<&'static str>,
}

impl Condition {
    pub fn healthy(&self) -> bool {
        !(self.lost || self.black || self.frozen || self.silent || self.signal.is_some())
    }

    /// Media-quality confidence, 0–100: 0 when no picture arrives; a black picture costs 60,
    /// a frozen one 50 (a black picture is not also counted as frozen), silence 30.
    pub fn confidence(&self) -> u8 {
        if self.lost || self.signal.is_some() {
            return 0;
        }
        let mut score: u8 = 100;
        if self.black {
            score = score.saturating_sub(60);
        } else if self.frozen {
            score = score.saturating_sub(50);
        }
        if self.silent {
            score = score.saturating_sub(30);
        }
        score
    }

    /// The fault named for events and status, worst first.
    pub fn fault(&self) -> Option<&'static str> {
        if let Some(fault) = self.signal {
            Some(fault)
        } else if self.lost {
            Some("no picture")
        } else if self.black {
            Some("black picture")
        } else if self.frozen {
            Some("frozen picture")
        } else if self.silent {
            Some("silence")
        } else {
            None
        }
    }
}

#[derive(Debug, Default)]
pub struct Health {
    /// When the input last delivered a picture.
    last_picture: Option<Instant>,
    /// When the programme last had a new picture of this input to air: the loss check counts
    /// from here, not from delivery, so that a sender delivering in bursts is not lost between
    /// them while its burst is still playing out (`playout`).
    last_aired: Option<Instant>,
    last_audio: Option<Instant>,
    black_since: Option<Instant>,
    frozen_since: Option<Instant>,
    silent_since: Option<Instant>,
    previous: Option<LumaGrid>,
}

impl Health {
    pub fn picture(&mut self, now: Instant, grid: LumaGrid) {
        self.last_picture = Some(now);
        if grid.is_black() {
            self.black_since.get_or_insert(now);
        } else {
            self.black_since = None;
        }
        match &self.previous {
            Some(prev) if prev.same_picture_as(&grid) => {
                self.frozen_since.get_or_insert(now);
            }
            _ => self.frozen_since = None,
        }
        self.previous = Some(grid);
    }

    pub fn audio(&mut self, now: Instant, level_dbfs: f64) {
        self.last_audio = Some(now);
        if level_dbfs < SILENCE_DBFS {
            self.silent_since.get_or_insert(now);
        } else {
            self.silent_since = None;
        }
    }

    pub fn last_picture(&self) -> Option<Instant> {
        self.last_picture
    }

    /// The programme frame at `now` had a new picture of this input.
    pub fn aired_new_picture(&mut self, now: Instant) {
        self.last_aired = Some(now);
    }

    /// The input restarted: its history no longer says anything about it.
    pub fn reset(&mut self) {
        *self = Health::default();
    }

    pub fn condition(&self, now: Instant, t: &Thresholds) -> Condition {
        let lasted = |since: Option<Instant>, limit: Option<Duration>| match (since, limit) {
            (Some(since), Some(limit)) => now.saturating_duration_since(since) >= limit,
            _ => false,
        };
        let lost = self
            .last_aired
            .is_none_or(|at| now.saturating_duration_since(at) > t.no_data);
        // An input that sends no audio at all is as silent as one sending digital zero.
        let audio_absent = t.silence.is_some_and(|limit| {
            self.last_audio
                .is_none_or(|at| now.saturating_duration_since(at) >= limit)
        }) && !lost;
        Condition {
            lost,
            black: !lost && lasted(self.black_since, t.black),
            frozen: !lost && lasted(self.frozen_since, t.frozen),
            silent: !lost && (audio_absent || lasted(self.silent_since, t.silence)),
            signal: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thresholds() -> Thresholds {
        Thresholds {
            no_data: Duration::from_millis(80),
            black: Some(Duration::from_millis(1000)),
            frozen: Some(Duration::from_millis(2000)),
            silence: None,
        }
    }

    fn grid(value: u8, shift: usize) -> LumaGrid {
        let plane: Vec<u8> = (0..64 * 36)
            .map(|i| value.wrapping_add(((i + shift) % 7) as u8 * 20))
            .collect();
        LumaGrid::sample(&plane, 64, 64, 36)
    }

    /// A picture delivered and aired at once, as a steady input's is.
    fn deliver(h: &mut Health, at: Instant, grid: LumaGrid) {
        h.picture(at, grid);
        h.aired_new_picture(at);
    }

    fn black() -> LumaGrid {
        LumaGrid::sample(&[16; 64 * 36], 64, 64, 36)
    }

    #[test]
    fn a_signal_fault_is_a_loss_whatever_pictures_arrive() {
        let mut c = Condition::default();
        assert!(c.healthy());
        c.signal = Some("no signal");
        assert!(!c.healthy());
        assert_eq!(c.confidence(), 0);
        assert_eq!(c.fault(), Some("no signal"));
        // The receiver's fault is named before what its noise looks like.
        c.frozen = true;
        assert_eq!(c.fault(), Some("no signal"));
    }

    #[test]
    fn an_input_that_never_delivered_is_lost_with_zero_confidence() {
        let h = Health::default();
        let c = h.condition(Instant::now(), &thresholds());
        assert!(c.lost && !c.healthy());
        assert_eq!(c.confidence(), 0);
        assert_eq!(c.fault(), Some("no picture"));
    }

    #[test]
    fn pictures_stop_and_the_input_is_lost_after_no_data() {
        let t0 = Instant::now();
        let mut h = Health::default();
        h.picture(t0, grid(40, 0));
        assert!(
            h.condition(t0, &thresholds()).lost,
            "delivered, not aired yet"
        );
        h.aired_new_picture(t0);
        assert!(h
            .condition(t0 + Duration::from_millis(79), &thresholds())
            .healthy());
        assert!(
            h.condition(t0 + Duration::from_millis(81), &thresholds())
                .lost
        );
    }

    #[test]
    fn black_counts_only_after_its_threshold_and_ends_with_the_first_real_picture() {
        let t0 = Instant::now();
        let mut h = Health::default();
        let frame = Duration::from_millis(33);
        for i in 0..40 {
            deliver(&mut h, t0 + frame * i, black());
        }
        let now = t0 + frame * 39;
        let c = h.condition(now, &thresholds());
        assert!(c.black && !c.frozen, "{c:?}");
        assert_eq!(c.confidence(), 40);
        deliver(&mut h, now + frame, grid(100, 1));
        assert!(h.condition(now + frame, &thresholds()).healthy());
    }

    #[test]
    fn a_repeated_picture_is_frozen_after_its_threshold_and_motion_clears_it() {
        let t0 = Instant::now();
        let mut h = Health::default();
        let frame = Duration::from_millis(40);
        for i in 0..60 {
            deliver(&mut h, t0 + frame * i, grid(100, 3));
        }
        let now = t0 + frame * 59;
        let c = h.condition(now, &thresholds());
        assert!(c.frozen && !c.black);
        assert_eq!(c.confidence(), 50);
        assert_eq!(c.fault(), Some("frozen picture"));
        deliver(&mut h, now + frame, grid(100, 4));
        assert!(!h.condition(now + frame, &thresholds()).frozen);
    }

    #[test]
    fn silence_counts_only_when_enabled_and_missing_audio_is_silence() {
        let t0 = Instant::now();
        let mut t = thresholds();
        let mut h = Health::default();
        for i in 0..30u32 {
            let at = t0 + Duration::from_millis(40) * i;
            deliver(&mut h, at, grid(100, i as usize));
            h.audio(at, -90.0);
        }
        let now = t0 + Duration::from_millis(40 * 29);
        assert!(!h.condition(now, &t).silent, "silence check is off");
        t.silence = Some(Duration::from_millis(500));
        let c = h.condition(now, &t);
        assert!(c.silent);
        assert_eq!(c.confidence(), 70);

        let mut mute = Health::default();
        for i in 0..30u32 {
            deliver(
                &mut mute,
                t0 + Duration::from_millis(40) * i,
                grid(100, i as usize),
            );
        }
        assert!(mute.condition(now, &t).silent, "no audio at all");
    }
}
