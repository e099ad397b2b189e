#!/usr/bin/env bash
# Installs the web UI's npm packages (at the versions package-lock.json pins) and builds it into
# web-ui/dist, which `cargo build` embeds in the feedline binary. Type-checks (strict) and checks
# the JavaScript budget on the way. Skips the install when node_modules matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/../web-ui"
stamp=node_modules/.feedline-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing the web UI's npm packages"
  # `npm install --no-save` rather than `npm ci`: the lock file written here leaves out the
  # other platforms' optional packages (rollup, esbuild), which `npm ci` insists on.
  npm install --no-save --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
npm run build --silent
