#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: formatting, lints, unit tests, and the
# end-to-end tests against real receivers (ffmpeg, srt-live-transmit).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build -p feedline
# End-to-end tests encode video on a 2-core machine: one test binary, one test at a time.
cargo test --workspace -- --test-threads=1
