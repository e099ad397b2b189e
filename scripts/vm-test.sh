#!/usr/bin/env bash
# The VM image test on its own (it also runs in the full suite, scripts/test.sh): builds the
# .deb and a Debian 12 image with it, boots it under QEMU and checks the appliance end to end
# (READY, API, vivid HDMI capture, no signal → slate, format change, kill -9, watchdog).
# Needs root. About 4 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build -p feedline
exec cargo test -p feedline-tests --test vm_image -- --nocapture
