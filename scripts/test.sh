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
# (No doc tests: the crates have none, and empty runs would close the log on "0 passed".)
# --no-fail-fast: one failing test binary must not hide how the others fared.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --lib --bins --tests --no-fail-fast -- --test-threads=1 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
read -r passed failed < <(awk '/^test result:/ {
  for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  END { print p + 0, f + 0 }' "$log")
echo
echo "feedline: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
