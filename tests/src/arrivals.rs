//! When each byte of a capture arrived: a receiver writes what it gets straight to its capture
//! file, so watching the file grow tells, with the receiver's own clock, when every picture in
//! it was received. That is what makes a picture's delay from capture to receiver measurable
//! across the whole capture, not only for the last picture at the end.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often the capture's size is read: well under a frame time.
const POLL: Duration = Duration::from_millis(2);

pub struct ArrivalLog {
    stop: Arc<AtomicBool>,
    watcher: Option<JoinHandle<Vec<(f64, u64)>>>,
}

/// (Unix time in seconds, capture size in bytes) at each growth of the capture, in order.
pub struct Arrivals(Vec<(f64, u64)>);

impl ArrivalLog {
    /// Starts watching `capture` (it may not exist yet).
    pub fn watch(capture: &Path) -> ArrivalLog {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, path): (_, PathBuf) = (stop.clone(), capture.to_path_buf());
        let watcher = std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut last = 0;
            while !flag.load(Ordering::Relaxed) {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                if size > last {
                    seen.push((unix_now(), size));
                    last = size;
                }
                std::thread::sleep(POLL);
            }
            seen
        });
        ArrivalLog {
            stop,
            watcher: Some(watcher),
        }
    }

    pub fn finish(mut self) -> Arrivals {
        self.stop.store(true, Ordering::Relaxed);
        Arrivals(
            self.watcher
                .take()
                .and_then(|w| w.join().ok())
                .unwrap_or_default(),
        )
    }
}

impl Arrivals {
    /// When the capture first held `bytes` bytes; `None` if it never did while watched.
    pub fn when_held(&self, bytes: u64) -> Option<f64> {
        let i = self.0.partition_point(|&(_, size)| size < bytes);
        self.0.get(i).map(|&(at, _)| at)
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::Arrivals;

    #[test]
    fn a_byte_arrived_with_the_first_growth_that_covers_it() {
        let arrivals = Arrivals(vec![(10.0, 1316), (10.5, 2632), (11.0, 3948)]);
        assert_eq!(arrivals.when_held(1), Some(10.0));
        assert_eq!(arrivals.when_held(1316), Some(10.0));
        assert_eq!(arrivals.when_held(1317), Some(10.5));
        assert_eq!(arrivals.when_held(3948), Some(11.0));
        assert_eq!(arrivals.when_held(3949), None);
    }
}
