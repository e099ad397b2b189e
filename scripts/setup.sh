#!/usr/bin/env bash
# Installs everything Feedline needs on Debian 12 (bookworm), as root: build dependencies,
# GStreamer run-time plugins, and the real receivers the tests use. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
packages=$(grep -v '^#' "$here/debian-packages.txt" | tr '\n' ' ')

missing=$(dpkg-query -W -f='${Package} ${Status}\n' $packages 2>/dev/null | grep -v "install ok installed" | cut -d' ' -f1 || true)
# dpkg-query prints nothing for packages it has never heard of.
for p in $packages; do dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$(echo $missing)" ]; then
  echo "setup: installing $(echo $missing)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends $missing
fi

# The VM image test (tests/tests/vm_image.rs) builds a Debian image with mmdebstrap and boots it
# with QEMU. QEMU comes from bookworm-backports: these machines' qemu-utils is the backports
# build, and bookworm's own qemu-system-x86 cannot be installed beside it.
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || ! command -v mmdebstrap >/dev/null 2>&1; then
  echo "setup: installing mmdebstrap and QEMU (bookworm-backports)"
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      > /etc/apt/sources.list.d/bookworm-backports.sources
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends -t bookworm-backports qemu-system-x86 mmdebstrap e2fsprogs
fi

# libsrt with socket groups for the SRT group output (Debian's is built without them).
"$here/build-libsrt-bonding.sh"

if ! command -v cargo >/dev/null 2>&1; then
  # Debian's own toolchain; a rustup-installed one (as on our build machines) is preferred.
  echo "setup: no cargo found; installing Debian's rustc/cargo"
  apt-get install -y -q --no-install-recommends cargo rustc
fi
# Python test tools (schemathesis and oelint-adv, from PyPI) in a venv inside the checkout: nothing is installed
# into the system Python.
tools="$here/../.venv-tools"
if [ ! -x "$tools/bin/schemathesis" ] || [ ! -x "$tools/bin/oelint-adv" ]; then
  echo "setup: installing the Python test tools (schemathesis, oelint-adv) into $tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check -r "$here/python-tools.txt"
fi
# cargo-deb builds the .deb (tests/tests/package.rs); pinned so packaging does not drift.
if ! cargo deb --version 2>/dev/null | grep -q "3.8.0"; then
  echo "setup: installing cargo-deb"
  cargo install cargo-deb --version 3.8.0 --locked --quiet
fi
# Debian's nodejs ships npm separately; NodeSource's (on some build machines) includes it.
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing npm"
  apt-get install -y -q --no-install-recommends npm
fi
# The browser UI: its npm packages (pinned by package-lock.json) and its build, which the feedline
# binary embeds.
"$here/build-ui.sh"
echo "setup: OK ($(cargo --version), node $(node --version))"
