//! Test helper: commits configurations to the store in a loop, printing `ack N` after each
//! commit has returned (i.e. is durable), until it is killed.

use feedline_store::Store;
use feedline_tests::store_load::config_for;
use std::io::Write;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: store_writer DATA_DIR");
    let store = Store::open(std::path::Path::new(&dir)).expect("open store");
    let mut next = store.config().expect("read").map(|(_, r)| r).unwrap_or(0) + 1;
    let stdout = std::io::stdout();
    loop {
        let revision = store.save_config(&config_for(next)).expect("save");
        assert_eq!(revision, next, "revisions must be consecutive");
        let mut out = stdout.lock();
        let _ = writeln!(out, "ack {revision}");
        let _ = out.flush();
        next += 1;
    }
}
