//! Power-loss safety of the stored configuration: 100 times, a writer commits configurations as
//! fast as it can and is killed with SIGKILL at a random moment; the store must then open and
//! hold exactly the last acknowledged write (or the one after it, whose commit completed just
//! before the kill but whose ack was not yet printed). Never a mix, never an unreadable file.

use feedline_store::Store;
use feedline_tests::store_load::config_for;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ITERATIONS: u32 = 100;

fn writer_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_store_writer"))
}

/// Small deterministic PRNG (xorshift), seeded from the clock; the seed is printed so a failure
/// can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn kill_9_at_random_moments_never_loses_or_corrupts_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = std::env::var("FEEDLINE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            Instant::now().elapsed().as_nanos() as u64 ^ u64::from(std::process::id()) | 1
        });
    eprintln!("crash test seed {seed} (replay with FEEDLINE_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let mut total_acks = 0u64;
    for iteration in 0..ITERATIONS {
        let mut child = Command::new(writer_bin())
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start writer");
        let stdout = child.stdout.take().expect("stdout");
        let acks = std::thread::spawn(move || {
            let mut last = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line
                    .strip_prefix("ack ")
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    last = Some(n);
                }
            }
            last
        });
        // Anywhere from before the first commit to well into the write stream.
        std::thread::sleep(Duration::from_millis(rng.next() % 120));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let last_ack = acks.join().expect("reader");

        let store = Store::open(dir.path()).unwrap_or_else(|e| {
            panic!("iteration {iteration}: store unreadable after kill -9: {e}")
        });
        let stored = store
            .config()
            .unwrap_or_else(|e| panic!("iteration {iteration}: {e}"));
        match (stored, last_ack) {
            (Some((config, revision)), Some(ack)) => {
                assert!(
                    revision == ack || revision == ack + 1,
                    "iteration {iteration}: store at revision {revision}, last acknowledged {ack}"
                );
                assert_eq!(
                    config,
                    config_for(revision),
                    "iteration {iteration}: revision {revision} holds another config"
                );
                total_acks += 1;
            }
            (Some((config, revision)), None) => {
                assert_eq!(
                    config,
                    config_for(revision),
                    "iteration {iteration}: torn config"
                );
            }
            (None, None) => {}
            (None, Some(ack)) => {
                panic!("iteration {iteration}: write {ack} was acknowledged but the store is empty")
            }
        }
    }
    assert!(
        total_acks >= u64::from(ITERATIONS) / 2,
        "too few iterations got as far as a commit ({total_acks})"
    );
}
