#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds Feedline and runs it with the default config:
# a live test pattern encoded to a 3-rung H.264 ladder, served by an SRT listener on :9000.
# Extra arguments go to `feedline run` (e.g. --config /etc/feedline/feedline.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release -p feedline
exec ./target/release/feedline run "$@"
