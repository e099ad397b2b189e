#!/usr/bin/env bash
# Builds libsrt with socket groups (ENABLE_BONDING) from Debian 12's own source package, as a
# static library plus its apps, into $FEEDLINE_SRT_PREFIX (default /opt/feedline/libsrt-bonding).
#
# Why: Debian's libsrt1.5-gnutls 1.5.1 exports srt_create_group but is built without
# ENABLE_BONDING (the call returns SRT_INVALID_SOCK), and its srt-live-transmit cannot accept a
# group. feedline-srt links this build statically, so GStreamer's srtsink keeps Debian's shared
# libsrt; the group tests receive with this build's srt-test-live (libsrt's own test receiver:
# srt-live-transmit closes its listener after the first connection, so a group's second link
# is refused). Idempotent.
#
# One upstream fix is applied (libsrt-group-read-ready.patch, Haivision/srt#2938 from libsrt 1.5.4,
# for #2937 "Broadcast group losing packets"): 1.5.1's group reader passed over a member whose
# TSBPD thread had not signalled yet, so a group receiver dropped a packet that one of its links
# held. It is receiver code: the appliance only sends groups, and the test receiver
# (srt-test-live) is what it fixes. Seen in two fresh-clone CI runs of three on 2026-11-24: one
# packet lost at 10 % loss per path, early in the stream, the member log showing a drop.
set -euo pipefail
prefix="${FEEDLINE_SRT_PREFIX:-/opt/feedline/libsrt-bonding}"
version="1.5.1"
build_id="$version+bonding+group-read-ready"
patch_file="$(cd "$(dirname "$0")" && pwd)/libsrt-group-read-ready.patch"
if [ -f "$prefix/lib/libsrt.a" ] && [ "$(cat "$prefix/VERSION" 2>/dev/null)" = "$build_id" ]; then
  exit 0
fi
echo "setup: building libsrt $version with ENABLE_BONDING into $prefix"
if ! grep -rqs "^Types: deb-src" /etc/apt/sources.list.d/feedline-src.sources; then
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    > /etc/apt/sources.list.d/feedline-src.sources
  apt-get update -q
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get source -q --download-only srt >/dev/null)
tar -xzf "$work"/srt_${version}.orig.tar.gz -C "$work"
patch -s -p1 -d "$work/srt-$version" < "$patch_file"
mkdir -p "$work/srt-$version/build"
cd "$work/srt-$version/build"
log="$work/build.log"
if ! { cmake .. -DENABLE_BONDING=ON -DUSE_ENCLIB=gnutls -DENABLE_SHARED=OFF -DENABLE_STATIC=ON \
         -DENABLE_APPS=ON -DENABLE_TESTING=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" &&
       make -j"$(nproc)" && make install && install -m 755 srt-test-live "$prefix/bin/"; } >"$log" 2>&1; then
  tail -40 "$log"
  echo "setup: building libsrt with ENABLE_BONDING failed" >&2
  exit 1
fi
echo "$build_id" > "$prefix/VERSION"
