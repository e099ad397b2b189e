#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds Feedline and runs it as an appliance with the default
# config: a live test pattern encoded to a 3-rung H.264 ladder, served by an SRT listener on
# :9000; the API on https://<box>:8443 (http://<box>:8080 redirects), metrics on :9798.
# The store and certificate live in $FEEDLINE_DATA_DIR (default /var/lib/feedline). On first
# start the log prints a one-time setup code for creating the admin (no default password).
# Extra arguments go to `feedline run` (e.g. --config /etc/feedline/feedline.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release -p feedline
exec ./target/release/feedline run --data-dir "${FEEDLINE_DATA_DIR:-/var/lib/feedline}" "$@"
