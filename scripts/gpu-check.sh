#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, from the repository root with .gpu carried (see
# scripts/gpu-bundle.sh): what the driver says, what nvcodec registers, what `feedline probe`
# says, and which decoder decodebin picks for a 1080p30 H.264 TS.
set -uo pipefail
mkdir -p /opt/fl && tar xzf .gpu/bundle.tgz -C /opt/fl
export LD_LIBRARY_PATH=/opt/fl/lib:${LD_LIBRARY_PATH:-}
export GST_PLUGIN_SYSTEM_PATH=/opt/fl/plugins GST_PLUGIN_SCANNER=/opt/fl/bin/gst-plugin-scanner
export GST_REGISTRY=/tmp/gst-registry.bin
bin=/opt/fl/bin
echo "--- driver"
cat /proc/driver/nvidia/version
cat /proc/driver/nvidia/gpus/*/information
echo "--- nvcodec"
"$bin/gst-inspect-1.0" nvcodec | grep -E '^  [a-z0-9]+: '
echo "--- feedline probe"
"$bin/feedline" probe
echo "--- decode"
"$bin/gst-launch-1.0" -q videotestsrc num-buffers=300 pattern=ball \
  ! video/x-raw,format=I420,width=1920,height=1080,framerate=30/1 \
  ! x264enc speed-preset=ultrafast key-int-max=30 ! h264parse ! mpegtsmux \
  ! filesink location=/tmp/gpu-check.ts
"$bin/gst-launch-1.0" -v filesrc location=/tmp/gpu-check.ts ! decodebin ! videoconvert \
  ! video/x-raw,format=I420 ! fakesink sync=false > /tmp/gpu-decode.log 2>&1
echo "decode exit $?"
grep -o -E '[a-z0-9_]+dec[0-9]*\.GstPad:src: caps = video/x-raw[^,]*, format=\(string\)[A-Z0-9]+' \
  /tmp/gpu-decode.log
grep -E 'Execution ended|ERROR' /tmp/gpu-decode.log
