#!/usr/bin/env bash
# Packs `feedline probe` and a GStreamer runtime from this Debian build into .gpu/bundle.tgz, for
# checking the probe and NVDEC decoding on a machine with an NVIDIA GPU but no Debian packages
# (the lent GPU machines run Ubuntu with the NVIDIA driver and nothing else). Then run
# scripts/gpu-check.sh there with .gpu carried. Needs `cargo build -p feedline` first.
# The runtime has no libav (its closure is over 90 MB), so a whole channel cannot run there.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=.gpu/stage
rm -rf .gpu && mkdir -p "$stage/bin" "$stage/lib" "$stage/plugins"
plugins=/usr/lib/x86_64-linux-gnu/gstreamer-1.0
for p in nvcodec coreelements typefindfunctions playback mpegtsdemux mpegtsmux videoparsersbad \
  videotestsrc x264 videoconvertscale; do
  cp "$plugins/libgst$p.so" "$stage/plugins/"
done
cp /usr/bin/gst-inspect-1.0 /usr/bin/gst-launch-1.0 \
  /usr/lib/x86_64-linux-gnu/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner "$stage/bin/"
strip -o "$stage/bin/feedline" target/debug/feedline
# Every library they link, but the C and C++ runtimes, which the target has (newer).
ldd "$stage"/bin/* "$stage"/plugins/*.so | awk '/=>/ {print $3}' | sort -u |
  grep -v -E '/lib(c|m|stdc\+\+|gcc_s|pthread|dl|rt)\.so|ld-linux' |
  while read -r lib; do cp -L "$lib" "$stage/lib/"; done
tar czf .gpu/bundle.tgz -C "$stage" .
rm -rf "$stage"
cp scripts/gpu-check.sh .gpu/
echo "bundle: $(du -h .gpu/bundle.tgz | cut -f1); ignore .gpu in git (info/exclude) and carry it"
