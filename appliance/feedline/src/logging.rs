//! Structured logs to stderr (journald picks them up), as text or JSON.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

pub fn init(format: &str) {
    let filter = EnvFilter::try_from_env("FEEDLINE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: in the journal (or a file) escape codes split the
        // `setup_code=…` an operator greps for.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
