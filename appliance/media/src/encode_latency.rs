//! How long a rung's pictures spend in its encoder: from entering the encoder to their encoded
//! frame leaving it, matched by the picture's running time (every backend's encoder keeps it on
//! the picture's frame, reordered or not).
//!
//! Why this and not CPU time: x265 and sliced x264 encode on their own worker threads and a
//! hardware encoder on the GPU, so no thread's CPU clock says which rung holds the ladder back;
//! the time a picture waits for its frame does, whatever the backend. With a software encoder
//! at low latency it is the work per picture (a rung near or above its frame duration is the
//! one the ladder waits for); with look-ahead or an asynchronous hardware encoder it also holds
//! the pictures the encoder keeps in flight, which is delay the receiver sees all the same.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Pictures remembered while in the encoder. More than any encoder here keeps in flight at low
/// latency (x264's default look-ahead is 40); a picture that outlives its slot goes uncounted.
const SLOTS: usize = 128;
/// An empty slot.
const NONE: u64 = u64::MAX;
/// Longer than this is not a picture's time in the encoder but a stale slot (a timestamp that
/// came round again after a restart); not counted.
const PLAUSIBLE_NS: u64 = 10_000_000_000;

/// Updated from the encoder's streaming threads: atomics only, no lock, no allocation.
pub struct EncodeLatency {
    /// The running time of the picture in each slot, ns.
    pts: [AtomicU64; SLOTS],
    entered_ns: [AtomicU64; SLOTS],
    next: AtomicUsize,
    /// Sum of the matched pictures' times in the encoder, ns, since the channel started.
    total_ns: AtomicU64,
    /// Pictures matched.
    timed: AtomicU64,
}

impl Default for EncodeLatency {
    fn default() -> Self {
        EncodeLatency {
            pts: std::array::from_fn(|_| AtomicU64::new(NONE)),
            entered_ns: std::array::from_fn(|_| AtomicU64::new(0)),
            next: AtomicUsize::new(0),
            total_ns: AtomicU64::new(0),
            timed: AtomicU64::new(0),
        }
    }
}

/// Counters since the channel started; the reader derives the mean over its own interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncodeTotals {
    pub total_ns: u64,
    pub pictures: u64,
}

impl EncodeLatency {
    /// A picture with `pts` entered the encoder at `now_ns`.
    pub fn entered(&self, pts: u64, now_ns: u64) {
        let slot = self.next.fetch_add(1, Ordering::Relaxed) % SLOTS;
        self.entered_ns[slot].store(now_ns, Ordering::Relaxed);
        self.pts[slot].store(pts, Ordering::Release);
    }

    /// The encoded frame of the picture with `pts` left the encoder at `now_ns`.
    pub fn left(&self, pts: u64, now_ns: u64) {
        let Some(slot) = self
            .pts
            .iter()
            .position(|p| p.load(Ordering::Acquire) == pts)
        else {
            return;
        };
        let entered = self.entered_ns[slot].load(Ordering::Relaxed);
        self.pts[slot].store(NONE, Ordering::Relaxed);
        let spent = now_ns.saturating_sub(entered);
        if spent < PLAUSIBLE_NS {
            self.total_ns.fetch_add(spent, Ordering::Relaxed);
            self.timed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A new pipeline starts its timestamps afresh: forget the pictures in flight.
    pub fn restarted(&self) {
        for pts in &self.pts {
            pts.store(NONE, Ordering::Relaxed);
        }
    }

    pub fn totals(&self) -> EncodeTotals {
        EncodeTotals {
            total_ns: self.total_ns.load(Ordering::Relaxed),
            pictures: self.timed.load(Ordering::Relaxed),
        }
    }
}

impl EncodeTotals {
    /// Mean time in the encoder of the pictures that left it since `earlier`; `None` if none.
    pub fn mean_since(&self, earlier: &EncodeTotals) -> Option<std::time::Duration> {
        let pictures = self.pictures.checked_sub(earlier.pictures)?;
        if pictures == 0 {
            return None;
        }
        let total = self.total_ns.saturating_sub(earlier.total_ns);
        Some(std::time::Duration::from_nanos(total / pictures))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_picture_is_timed_from_entering_to_its_frame_leaving() {
        let latency = EncodeLatency::default();
        latency.entered(0, 1000 * MS);
        latency.left(0, 1020 * MS);
        latency.entered(33 * MS, 1033 * MS);
        latency.left(33 * MS, 1063 * MS);
        let totals = latency.totals();
        assert_eq!(totals.pictures, 2);
        assert_eq!(
            totals.mean_since(&EncodeTotals::default()),
            Some(Duration::from_millis(25))
        );
    }

    #[test]
    fn frames_leaving_reordered_or_after_look_ahead_match_their_own_picture() {
        let latency = EncodeLatency::default();
        // Ten pictures in, then their frames out in decoding order (I P B B ...).
        for i in 0..10 {
            latency.entered(i * 33 * MS, i * 33 * MS);
        }
        for i in [0, 3, 1, 2, 6, 4, 5, 9, 7, 8] {
            latency.left(i * 33 * MS, 400 * MS);
        }
        let totals = latency.totals();
        assert_eq!(totals.pictures, 10);
        let expected: u64 = (0..10).map(|i| 400 * MS - i * 33 * MS).sum::<u64>() / 10;
        assert_eq!(
            totals.mean_since(&EncodeTotals::default()),
            Some(Duration::from_nanos(expected))
        );
    }

    #[test]
    fn unknown_timestamps_and_a_restart_count_nothing() {
        let latency = EncodeLatency::default();
        latency.left(5, 10);
        latency.entered(0, 1000 * MS);
        latency.restarted();
        // The new pipeline's first picture has the same timestamp as the old one's.
        latency.left(0, 60_000 * MS);
        assert_eq!(latency.totals(), EncodeTotals::default());
        assert_eq!(latency.totals().mean_since(&EncodeTotals::default()), None);
    }

    #[test]
    fn a_picture_leaving_twice_is_timed_once() {
        let latency = EncodeLatency::default();
        latency.entered(7, 0);
        latency.left(7, 10 * MS);
        latency.left(7, 20 * MS);
        assert_eq!(latency.totals().pictures, 1);
    }

    #[test]
    fn the_mean_is_over_the_readers_interval() {
        let first = EncodeTotals {
            total_ns: 300 * MS,
            pictures: 30,
        };
        let later = EncodeTotals {
            total_ns: 300 * MS + 30 * 40 * MS,
            pictures: 60,
        };
        assert_eq!(later.mean_since(&first), Some(Duration::from_millis(40)));
        assert_eq!(first.mean_since(&first), None);
    }
}
