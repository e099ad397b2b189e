#!/usr/bin/env python3
"""API under load while a channel encodes (issue #3 §9).

Starts Feedline with the shipped default ladder (1080p30/720p30/540p30 x264 + AAC, SRT listener)
as an appliance (HTTPS API, metrics listener), creates an admin token through the real setup
flow, then drives `GET /api/v1/channels` (HTTPS, bearer token) and `GET /metrics` with wrk at
about 200 requests/s each, one after the other, and reports wrk's latency percentiles and
throughput, plus the frames the channel dropped while under load (from the live status).

wrk has no fixed-rate mode; a Lua `delay()` paces each connection (4 connections x 18 ms), which
gives close to 200 req/s; the achieved rate is printed, not assumed.

    python3 benches/api_load.py [--seconds 30] [--feedline target/release/feedline]
"""

import argparse
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url, method="GET", body=None, headers=None):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return r.status, r.headers, r.read()


def wrk(url, seconds, token=None):
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write("function delay() return 18 end\n")
    script.close()
    cmd = ["wrk", "-t2", "-c4", f"-d{seconds}s", "--latency", "-s", script.name]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    pct = {}
    for p in ("50", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            v = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
            pct[p] = v
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return pct, rps, int(errors.group(1)) if errors else 0, out


def dropped_and_fps(base, token):
    _, _, body = call(f"{base}/api/v1/status", headers={"Authorization": f"Bearer {token}"})
    status = json.loads(body)
    ch = status["channels"][0]
    return (
        sum(r["dropped_frames"] for r in ch["renditions"]),
        ch["input"]["frames"],
        [round(r["fps"], 1) for r in ch["renditions"]],
        ch["state"],
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--feedline", default=os.path.join(ROOT, "target/release/feedline"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="feedline-api-bench-")
    http, https, metrics, srt = free_port(), free_port(), free_port(), free_port()
    default = open(os.path.join(ROOT, "config/feedline.toml")).read()
    channels = default[default.index("[[channels]]"):].replace("port = 9000", f"port = {srt}")
    seed = os.path.join(work, "seed.toml")
    with open(seed, "w") as f:
        f.write(f'[server]\nbind = "127.0.0.1"\nhttp_port = {http}\nhttps_port = {https}\n'
                f"[server.metrics]\nport = {metrics}\n\n{channels}")
    log = open(os.path.join(work, "feedline.log"), "w")
    proc = subprocess.Popen([args.feedline, "run", "--config", seed, "--data-dir", os.path.join(work, "data")],
                            stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "NO_COLOR": "1"})
    try:
        base = f"https://127.0.0.1:{https}"
        code = None
        for _ in range(200):
            m = re.search(r"setup_code=([A-Z0-9-]+)", open(log.name).read())
            if m:
                code = m.group(1)
                break
            time.sleep(0.05)
        assert code, "no setup code logged"
        time.sleep(0.5)
        _, headers, body = call(f"{base}/api/v1/setup", "POST",
                                {"code": code, "username": "admin", "password": "benchmark password"})
        cookie = headers["Set-Cookie"].split(";")[0]
        csrf = json.loads(body)["csrf_token"]
        _, _, body = call(f"{base}/api/v1/tokens", "POST", {"name": "bench", "role": "viewer"},
                          {"Cookie": cookie, "X-CSRF-Token": csrf})
        token = json.loads(body)["token"]
        time.sleep(5)  # let the encoders settle
        d0, f0, fps0, state = dropped_and_fps(base, token)
        print(f"channel {state}, rendition fps before load: {fps0}")
        rows = []
        for name, url, tok in (("GET /api/v1/channels (HTTPS)", f"{base}/api/v1/channels", token),
                               ("GET /metrics (HTTP)", f"http://127.0.0.1:{metrics}/metrics", None)):
            pct, rps, errors, _ = wrk(url, args.seconds, tok)
            rows.append((name, rps, pct, errors))
        d1, f1, fps1, state = dropped_and_fps(base, token)
        cpu = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
        print(f"rendition fps after load: {fps1}, channel {state}")
        print()
        print(f"| endpoint | req/s | p50 ms | p90 ms | p99 ms | non-2xx |")
        print(f"|---|---|---|---|---|---|")
        for name, rps, pct, errors in rows:
            print(f"| {name} | {rps:.0f} | {pct.get('50', 0):.2f} | {pct.get('90', 0):.2f} | {pct.get('99', 0):.2f} | {errors} |")
        print()
        print(f"input frames during the run: {f1 - f0}; frames dropped (all rungs): {d1 - d0}")
        worst = max(r[2].get("99", 0) for r in rows)
        print(f"p99 worst {worst:.2f} ms (target < 20 ms); dropped {d1 - d0} (target 0)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
