//! Issue #3 §3: ≥100 iterations of config writes through the API, `kill -9` at a random moment,
//! restart. After every restart the store opens (no safe mode) and the configuration is the last
//! acknowledged write, or the one in flight when the process died (it may have committed before
//! its reply was sent; it can never be half-applied).

use feedline_tests::api::{set_up_admin, wait_ready, Client, Deployment};
use feedline_tests::appliance::signal;
use feedline_tests::{free_port, srt_output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ITERATIONS: u32 = 100;

/// A small deterministic generator (no test dependency needed for "random moment").
struct Lcg(u64);

impl Lcg {
    fn next_in(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (self.0 >> 33) % (hi - lo)
    }
}

#[derive(Default)]
struct Writes {
    acknowledged: Option<u64>,
    in_flight: Option<u64>,
}

#[test]
fn kill_9_during_api_config_writes_never_loses_an_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = Deployment::two_rung(
        dir.path(),
        false,
        "",
        &srt_output("primary", "listener", free_port(), ""),
    );
    let first = d.start();
    let (admin, _) = set_up_admin(&d, &first);
    // Stopped, so each restart is quick; config writes are validated and stored all the same.
    assert_eq!(
        admin
            .request("POST", "/api/v1/channels/test/stop", None, &[])
            .status,
        204
    );
    let token = admin.token.clone().unwrap_or_default();
    let template = admin.get("/api/v1/channels/test").json();
    let mut expected: Option<Writes> = None;
    signal(first.pid(), "KILL");
    drop(first);

    let seed_rng = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7);
    eprintln!("kill-moment seed {seed_rng}");
    let mut rng = Lcg(seed_rng);
    let mut next_value: u64 = 1000;
    let mut total_acked = 0u64;
    let started = Instant::now();
    for iteration in 0..ITERATIONS {
        let appliance = d.start();
        let client = Client::with_token(&d.base(), &token);
        wait_ready(&client, &appliance, Duration::from_secs(20));
        let health = client.get("/api/v1/health").json();
        assert_ne!(
            health["status"], "safe_mode",
            "iteration {iteration}: store did not open: {health}"
        );
        let stored = client.get("/api/v1/channels/test").json()["ladder"][0]["bitrate_kbps"]
            .as_u64()
            .unwrap_or(0);
        if let Some(w) = &expected {
            let ok = Some(stored) == w.acknowledged || Some(stored) == w.in_flight;
            assert!(
                ok,
                "iteration {iteration}: stored bitrate {stored}, last acknowledged {:?}, in flight {:?}",
                w.acknowledged, w.in_flight
            );
        }

        let writes = Arc::new(Mutex::new(Writes {
            acknowledged: Some(stored),
            in_flight: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let writes = writes.clone();
            let stop = stop.clone();
            let mut body = template.clone();
            let client = Client::with_token(&d.base(), &token);
            let mut value = next_value;
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    value += 1;
                    body["ladder"][0]["bitrate_kbps"] = serde_json::json!(value);
                    writes.lock().expect("lock").in_flight = Some(value);
                    let reply = client.send_json("PUT", "/api/v1/channels/test", &body);
                    if reply.status == 200 {
                        let mut w = writes.lock().expect("lock");
                        w.acknowledged = Some(value);
                        w.in_flight = None;
                    } else {
                        break;
                    }
                }
                value
            })
        };
        std::thread::sleep(Duration::from_millis(rng.next_in(30, 400)));
        signal(appliance.pid(), "KILL");
        stop.store(true, Ordering::SeqCst);
        next_value = writer.join().expect("writer") + 1;
        drop(appliance);
        let w = std::mem::take(&mut *writes.lock().expect("lock"));
        total_acked += w.acknowledged.map(|a| u64::from(a > 1000)).unwrap_or(0);
        expected = Some(w);
    }
    eprintln!(
        "{ITERATIONS} kill -9 cycles in {:.1} s, last value written {next_value}",
        started.elapsed().as_secs_f64()
    );
    assert!(next_value > 1000 + u64::from(ITERATIONS), "writes happened");
    assert!(total_acked > 0);
}
