#!/usr/bin/env python3
"""Ladder benchmark (issue #2 §10): the same 4-rung x264 ladder encoded by Feedline, by ffmpeg
(split + scale + 4 x libx264) and by an equivalent gst-launch-1.0 pipeline, alternating, in one
run. Prints CPU-seconds, wall time and per-rung SSIM (each rung against the source scaled to the
rung's size, both by the encoder's own scaler and by one common bicubic reference), with
ratios to ffmpeg.

    python3 benches/ladder.py [--rounds 2] [--seconds 20] [--feedline target/release/feedline]
"""
import argparse
import math
import os
import re
import resource
import subprocess
import sys
import time

LADDER = [  # name, width, height, kb/s
    ("1080p", 1920, 1080, 5000),
    ("720p", 1280, 720, 3000),
    ("540p", 960, 540, 1500),
    ("360p", 640, 360, 800),
]
GOP = 60
FPS = 30
# Feedline's scale plan for this ladder (appliance/media/src/ladder.rs, scale_plan): each rung from
# the one above through libswscale (feedlineswscale), bicubic at every step. Its reference is the
# same cascade through ffmpeg's scale filter (the same libswscale).
FEEDLINE_CASCADE = ["bicubic", "bicubic", "bicubic", "bicubic"]
# The gst-launch ladder scales as Feedline did before it had its own scaler: the same cascade
# through GStreamer's videoscale, lanczos for the first step (videoscale's bilinear does not widen
# its kernel when shrinking, so it aliases from full-band video).
GST_CASCADE = ["lanczos", "lanczos", "bilinear", "bilinear"]


def run(cmd, **kw):
    """Runs a command; returns (cpu seconds of it and its children, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def make_mezzanine(path, seconds):
    if os.path.exists(path):
        return
    print(f"generating {seconds} s 1080p30 noisy mezzanine: {path}", flush=True)
    subprocess.run([
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate={FPS}:duration={seconds},noise=alls=12:allf=t+u",
        "-f", "lavfi", "-i", f"sine=frequency=1000:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "14", "-g", "30", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "192k", "-ac", "2", path], check=True)


def encoder_threads():
    """Feedline's thread plan (appliance/media/src/ladder.rs, encoder_threads): each rung's
    share of the ladder's pixel rate times the cores, at least one."""
    cores = os.cpu_count() or 1
    total = sum(w * h for _, w, h, _ in LADDER)
    return [min(cores, max(1, math.floor(w * h / total * cores + 0.5))) for _, w, h, _ in LADDER]


def x264_common_opts():
    return "scenecut=0:nal-hrd=cbr"


def feedline_cmd(binary, src, out, workdir):
    rungs = "\n".join(
        f'[[channels.ladder]]\nname = "{n}"\nwidth = {w}\nheight = {h}\nframe_rate = {FPS}\nbitrate_kbps = {b}\n'
        for n, w, h, b in LADDER)
    config = f'''[[channels]]
name = "bench"
[channels.input]
type = "file"
path = "{src}"
loop_playback = false
live_pace = false
[channels.timecode]
source = "internal"
[channels.video]
gop_frames = {GOP}
{rungs}
[[channels.outputs]]
name = "file"
type = "file"
path = "{out}"
'''
    path = os.path.join(workdir, "feedline-bench.toml")
    with open(path, "w") as f:
        f.write(config)
    return [binary, "run", "--config", path]


def ffmpeg_cmd(src, out):
    n = len(LADDER)
    graph = f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n)) + ";" + ";".join(
        f"[s{i}]scale={w}:{h}[v{i}]" for i, (_, w, h, _) in enumerate(LADDER))
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", src, "-filter_complex", graph]
    for i, (_, _, _, b) in enumerate(LADDER):
        cmd += ["-map", f"[v{i}]", f"-c:v:{i}", "libx264", f"-b:v:{i}", f"{b}k", f"-maxrate:v:{i}", f"{b}k",
                f"-bufsize:v:{i}", f"{b}k"]
    cmd += ["-preset", "veryfast", "-tune", "zerolatency", "-g", str(GOP), "-keyint_min", str(GOP),
            "-x264-params", x264_common_opts(), "-map", "0:a", "-c:a", "aac", "-b:a", "128k", "-f", "mpegts", out]
    return cmd


def gst_cmd(src, out):
    """The same work as Feedline's channel: decode, cascade-scale, 4 x x264enc (with Feedline's
    thread plan), AAC, one TS."""
    threads = encoder_threads()
    parts = [f"filesrc location={src} ! decodebin name=d", "mpegtsmux name=mux alignment=7 ! filesink location=" + out,
             "d. ! queue ! videoconvert ! tee name=t0",
             "d. ! queue ! audioconvert ! audioresample ! avenc_aac bitrate=128000 ! aacparse ! queue ! mux."]
    for i, ((name, w, h, b), method) in enumerate(zip(LADDER, GST_CASCADE)):
        parts.append(
            f"t{i}. ! queue ! videoscale method={method} ! video/x-raw,width={w},height={h} ! tee name=t{i + 1} "
            f"t{i + 1}. ! queue ! x264enc bitrate={b} pass=cbr vbv-buf-capacity=1000 speed-preset=veryfast threads={threads[i]} "
            f"tune=zerolatency key-int-max={GOP} option-string={x264_common_opts()} ! h264parse ! queue ! mux.")
    return ["gst-launch-1.0", "-q"] + " ".join(parts).split()


def cost_breakdown_cmds(src):
    """Decode only, and decode plus each tool's scaling without encoding: what is left of a full
    run is the encoders and the muxer, the same libraries on every side."""
    n = len(LADDER)
    graph = f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n)) + ";" + ";".join(
        f"[s{i}]scale={w}:{h}[v{i}]" for i, (_, w, h, _) in enumerate(LADDER))
    ff = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", src, "-an"]
    gst = [f"filesrc location={src} ! decodebin ! videoconvert ! tee name=t0"]
    for i, ((_, w, h, _), method) in enumerate(zip(LADDER, GST_CASCADE)):
        gst.append(f"t{i}. ! queue ! videoscale method={method} ! video/x-raw,width={w},height={h} ! "
                   f"tee name=t{i + 1} t{i + 1}. ! queue ! fakesink")
    cascade = f"[0:v]split=2[v0][c0];" + ";".join(
        f"[c{i - 1}]scale={w}:{h}:flags={m},split=2[v{i}][c{i}]"
        for i, ((_, w, h, _), m) in enumerate(zip(LADDER, FEEDLINE_CASCADE)) if i > 0) + f";[c{n - 1}]nullsink"
    return {
        "decode": ff + ["-f", "null", "-"],
        "decode + libswscale cascade": ff + ["-filter_complex", cascade]
        + sum((["-map", f"[v{i}]", "-f", "null", "-"] for i in range(n)), []),
        "decode + ffmpeg scaling": ff + ["-filter_complex", graph]
        + sum((["-map", f"[v{i}]", "-f", "null", "-"] for i in range(n)), []),
        "decode + GStreamer cascade": ["gst-launch-1.0", "-q"] + " ".join(gst).split(),
    }


def stream_index_by_height(encoded):
    streams = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                              "stream=index,height", "-of", "csv=p=0", encoded],
                             capture_output=True, text=True, check=True).stdout.split()
    return {int(h): int(i) for i, h in (s.split(",") for s in streams)}


def reference_cmd(scaler, src, w, h):
    """The source decoded and scaled to (w, h) as y4m on stdout, by `scaler`: "ffmpeg" (swscale
    bicubic from the source, what the ffmpeg ladder uses), "feedline" (Feedline's libswscale
    cascade) or "gstreamer" (the videoscale cascade the gst-launch ladder uses)."""
    if scaler == "gstreamer":
        # drop-allocation: without it the decoder hands over padded buffers (video meta) and
        # GStreamer 1.22 y4menc writes the padding into the stream, misaligning every frame.
        cmd = ["gst-launch-1.0", "-q", "filesrc", f"location={src}", "!", "decodebin", "!",
               "identity", "drop-allocation=true", "!", "videoconvert"]
        for (_, rw, rh, _), method in zip(LADDER, GST_CASCADE):
            cmd += ["!", "videoscale", f"method={method}", "!", f"video/x-raw,width={rw},height={rh},format=I420"]
            if (rw, rh) == (w, h):
                break
        return cmd + ["!", "y4menc", "!", "fdsink", "fd=1"]
    if scaler == "feedline":
        steps = []
        for (_, rw, rh, _), method in zip(LADDER[1:], FEEDLINE_CASCADE[1:]):
            steps.append(f"scale={rw}:{rh}:flags={method}")
            if (rw, rh) == (w, h):
                break
        chain = ",".join(steps) if (w, h) != LADDER[0][1:3] else "null"
        return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", src, "-an", "-vf", chain,
                "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", "-"]
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", src, "-an", "-vf", f"scale={w}:{h}:flags=bicubic",
            "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", "-"]


def ssim(encoded, src, scaler):
    """SSIM of each rung (largest first) against the source scaled to its size by `scaler`,
    frames paired by index: GStreamer's nanosecond PTS round one 90 kHz tick early two frames in
    three, and timestamp pairing would compare against the previous frame."""
    by_height = stream_index_by_height(encoded)
    result = []
    for _, w, h, _ in LADDER:
        idx = by_height.get(h)
        if idx is None:
            result.append(float("nan"))
            continue
        ref = subprocess.Popen(reference_cmd(scaler, src, w, h), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", encoded, "-f", "yuv4mpegpipe", "-i", "pipe:0",
                              "-lavfi", f"[0:{idx}]setpts=N/({FPS}*TB)[a];[1:v]setpts=N/({FPS}*TB)[b];[a][b]ssim",
                              "-f", "null", "-"], stdin=ref.stdout, capture_output=True, text=True).stderr
        ref.stdout.close()
        ref.wait()
        m = re.search(r"All:([0-9.]+)", err)
        result.append(float(m.group(1)) if m else float("nan"))
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--feedline", default="target/release/feedline")
    ap.add_argument("--workdir", default="bench-out")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    workdir = os.path.abspath(args.workdir)
    src = os.path.join(workdir, f"mezzanine-{args.seconds}s.mp4")
    make_mezzanine(src, args.seconds)

    tools = {
        "feedline": lambda out: feedline_cmd(os.path.abspath(args.feedline), src, out, workdir),
        "ffmpeg": lambda out: ffmpeg_cmd(src, out),
        "gst-launch": lambda out: gst_cmd(src, out),
    }
    results = {name: [] for name in tools}
    order = list(tools)
    for r in range(args.rounds):
        for name in order:
            out = os.path.join(workdir, f"{name}-{r}.ts")
            cpu, wall = run(tools[name](out), env={**os.environ, "FEEDLINE_LOG": "warn"})
            results[name].append((cpu, wall, out))
            print(f"round {r + 1} {name:<10} cpu {cpu:7.1f} s  wall {wall:6.1f} s", flush=True)
        order = order[1:] + order[:1]  # alternate who goes first

    # Where the CPU goes, measured in the same run: the floor that no scaling, however cheap,
    # can go under is decoding plus the encoders.
    parts = {name: run(cmd)[0] for name, cmd in cost_breakdown_cmds(src).items()}
    ffmpeg_cpu = sum(c for c, _, _ in results["ffmpeg"]) / args.rounds
    encode = ffmpeg_cpu - parts["decode + ffmpeg scaling"]
    floor = parts["decode"] + encode
    print()
    print("Where the CPU goes (CPU-seconds)")
    print(f"  decode (libavcodec, both sides)          {parts['decode']:6.1f}")
    print(f"  ffmpeg's scaling (swscale, 4 x from 1080p) {parts['decode + ffmpeg scaling'] - parts['decode']:5.1f}")
    print(f"  Feedline's cascade (libswscale)          {parts['decode + libswscale cascade'] - parts['decode']:6.1f}")
    print(f"  GStreamer videoscale cascade (gst-launch) {parts['decode + GStreamer cascade'] - parts['decode']:5.1f}")
    print(f"  4 x x264 + AAC + mux (ffmpeg's run minus decode and scaling) {encode:5.1f}")
    print(f"  floor: decode + encoders, zero-cost scaling = {floor:.1f} s = {floor / ffmpeg_cpu:.2f}x ffmpeg")

    own_scaler = {"feedline": "feedline", "gst-launch": "gstreamer", "ffmpeg": "ffmpeg"}
    for title, scaler_of in (
        ("SSIM against the source scaled the way each encoder scales it (the criterion)", own_scaler),
        ("SSIM against one common reference: ffmpeg's bicubic (informational; favours ffmpeg's scaler)",
         {name: "ffmpeg" for name in tools}),
    ):
        print()
        print(title)
        print(f"{'encoder':<11}{'CPU s':>8}{'wall s':>8}{'CPU vs ffmpeg':>15}" + "".join(f"{'SSIM ' + n:>12}" for n, *_ in LADDER))
        base_cpu = sum(c for c, _, _ in results["ffmpeg"]) / args.rounds
        scores = {name: ssim(results[name][-1][2], src, scaler_of[name]) for name in tools}
        for name in tools:
            cpu = sum(c for c, _, _ in results[name]) / args.rounds
            wall = sum(w for _, w, _ in results[name]) / args.rounds
            print(f"{name:<11}{cpu:>8.1f}{wall:>8.1f}{cpu / base_cpu:>14.2f}x" + "".join(f"{v:>12.4f}" for v in scores[name]))
            if name != "ffmpeg":
                deltas = ", ".join(f"{n} {a - b:+.4f}" for (n, *_), a, b in zip(LADDER, scores[name], scores["ffmpeg"]))
                print(f"{'':<11}SSIM vs ffmpeg: {deltas}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
