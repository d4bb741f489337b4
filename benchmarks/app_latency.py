"""The app and the tour, timed: (1) seconds from `genlab app` to its page answering, (2) latency of a sample
request per family tab over HTTP (gradio_client, as a browser's request goes: queue, handler, image encoding),
p50 / p95 over N requests, (3) the quick tour's wall-clock per section, from the tour's own section.json files.

    flock /tmp/genlab-bench.lock .venv/bin/python benchmarks/app_latency.py --runs-dir runs/tour

--runs-dir must hold vae/vae-2d, gan/dcgan-mnist and text/gpt-char: the tour's runs (`genlab tour --out runs/tour`),
or the same default-size models trained a few steps (a request's latency does not depend on how long it trained):

    genlab vae train --dataset mnist --latent-dim 2 --max-steps 20 --out runs/bench-app/vae/vae-2d
    genlab gan train --dataset mnist --max-steps 4 --fid-samples 0 --out runs/bench-app/gan/dcgan-mnist
    genlab text train --corpus ../shared/data/tinyshakespeare/input.txt --model gpt --max-steps 5 \
        --out runs/bench-app/text/gpt-char
The issue's protocol is 20 requests per tab (--requests 20, the default) and 3 app starts; DeepDream requests cost
seconds each, so --dream-requests is separate (default 5, at 96 px, 1 octave x 2 steps, random weights). Each stage is
cached in the JSON, so a stopped run continues (--fresh starts over). Prints a table, writes
benchmarks/results/app_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "app_latency.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return time.perf_counter()
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the app did not answer within {timeout} s")


def start_times(runs_dir: Path, n: int) -> list[float]:
    """Seconds from spawning `genlab app` (a fresh process: imports, tabs, server) to HTTP 200 on its page."""
    times = []
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    for _ in range(n):
        port = _free_port()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "genlab", "app", "--runs-dir", str(runs_dir), "--port",
                                 str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            t1 = _wait(f"http://127.0.0.1:{port}/", 300)
            times.append(round(t1 - t0, 2))
        finally:
            proc.send_signal(2)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return times


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def request_latency(runs_dir: Path, requests: int, dream_requests: int, photo: Path) -> dict[str, dict]:
    from gradio_client import Client, handle_file

    from genlab.app.server import launch

    demo, ctx, url = launch(runs_dir, port=_free_port(), block=False, quiet=True)
    try:
        client = Client(url, verbose=False)
        cases = {
            "vae: 16 samples (latent_sample)": ("/latent_sample", lambda i: ("vae/vae-2d", 16, i), requests),
            "gan: 16 samples (gan_sample)": ("/gan_sample", lambda i: ("gan/dcgan-mnist", 16, i, True), requests),
            "text: 200 characters (text_generate)": ("/text_generate",
                                                     lambda i: ("text/gpt-char", "ROMEO:", 0.8, 200, i, 1.0),
                                                     requests),
            "imageopt: DeepDream 96 px, 1 octave x 2 steps, random weights (imageopt_dream)":
                ("/imageopt_dream", lambda i: (handle_file(str(photo)), "random", None, 96, 1, 2, i), dream_requests),
        }
        out = {}
        for name, (api, args, n) in cases.items():
            client.predict(*args(-1), api_name=api)  # warm-up (first load of the run), not counted
            times = []
            for i in range(n):
                t0 = time.perf_counter()
                client.predict(*args(i), api_name=api)
                times.append(time.perf_counter() - t0)
            out[name] = {"requests": n, "p50_s": round(_pct(times, 50), 4), "p95_s": round(_pct(times, 95), 4),
                         "mean_s": round(statistics.mean(times), 4), "times_s": [round(t, 4) for t in times]}
            print(f"  {name}: p50 {out[name]['p50_s']:.3f} s, p95 {out[name]['p95_s']:.3f} s", flush=True)
        return out
    finally:
        ctx.close()
        demo.close()


def tour_sections(tour_dir: Path) -> list[dict]:
    from genlab.tour.runner import read_sections

    return [{"key": s["key"], "status": s.get("status"), "budget": s.get("budget"), "seconds": s.get("seconds"),
             "estimate_s": s.get("estimate_s"), "commands": s.get("commands", [])} for s in read_sections(tour_dir)]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs-dir", type=Path, default=REPO / "runs" / "tour")
    p.add_argument("--tour-dir", type=Path, default=None, help="default: --runs-dir")
    p.add_argument("--starts", type=int, default=3)
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--dream-requests", type=int, default=5)
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    runs = args.runs_dir.resolve()
    for need in ("vae/vae-2d", "gan/dcgan-mnist", "text/gpt-char"):
        if not (runs / need / "model.safetensors").is_file():
            raise SystemExit(f"{runs / need} is missing: run `genlab tour --out {args.runs_dir}` first (or train it: "
                             f"see this script's docstring)")
    res = {} if args.fresh or not args.out.exists() else json.loads(args.out.read_text())
    res.setdefault("machine", f"{platform.machine()}, {os.cpu_count()} CPUs, load average at start "
                              f"{os.getloadavg()[0]:.1f}")
    res["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    res["protocol"] = {"starts": args.starts, "requests": args.requests, "dream_requests": args.dream_requests}

    def save():
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2) + "\n")

    if "start_s" not in res:
        print("app start ...", flush=True)
        res["start_s"] = start_times(runs, args.starts)
        save()
    if "requests" not in res:
        from PIL import Image

        photo = args.out.parent / "app_latency_photo.png"
        Image.new("RGB", (96, 96), (120, 160, 200)).save(photo)
        print("sample requests ...", flush=True)
        res["requests"] = request_latency(runs, args.requests, args.dream_requests, photo)
        photo.unlink()
        save()
    res["tour"] = tour_sections(args.tour_dir or runs)
    save()

    print(f"\napp start (spawn -> HTTP 200), {len(res['start_s'])} starts: "
          f"{', '.join(f'{t:.1f}' for t in res['start_s'])} s (median {statistics.median(res['start_s']):.1f} s)")
    print("\n| request | n | p50 | p95 |\n|---|---|---|---|")
    for name, r in res["requests"].items():
        print(f"| {name} | {r['requests']} | {r['p50_s']:.3f} s | {r['p95_s']:.3f} s |")
    print("\n| tour section | status | wall-clock | estimate (quick) |\n|---|---|---|---|")
    for s in res["tour"]:
        sec = f"{s['seconds']:.0f} s" if isinstance(s["seconds"], (int, float)) else "-"
        print(f"| {s['key']} | {s['status']} | {sec} | {s['estimate_s'] or '-'} s |")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
