"""Benchmark: requests/s and latency of ``POST /v1/search`` on ``rag serve`` over loopback.

Starts ``rag serve --no-llm`` on a free loopback port over the real articles index, sends a
bounded number of search requests from a few client threads (keep-alive connections, the
questions of data/eval/questions.jsonl in turn), then stops the server. Client and server
share the machine's cores, so this is what one box does end to end, not the server alone.

Usage::

    .venv/bin/python bench/serve_load.py                      # 500 requests, 8 at a time
    .venv/bin/python bench/serve_load.py --requests 1000 --concurrency 4 --mode bm25

Writes bench/results/serve_search.json and prints a line for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "serve_search.json"
QUESTIONS = ROOT / "data" / "eval" / "questions.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, index: str | None) -> subprocess.Popen[bytes]:
    """``rag serve --no-llm`` on 127.0.0.1:port (quiet: no access log)."""
    cmd = [
        sys.executable,
        "-m",
        "rag.cli",
        "serve",
        "--no-llm",
        "--port",
        str(port),
        "--quiet",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if index:
        cmd += ["--index", index]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("RAG_SERVE_API_KEY", None)
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"rag serve exited with code {proc.returncode}")
        try:
            r = httpx.get(url + "/health", timeout=2.0)
            if r.status_code == 200:
                return r.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("rag serve did not become ready in time")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def run_load(url: str, queries: list[str], n: int, concurrency: int, k: int, mode: str) -> dict:
    """Send ``n`` searches from ``concurrency`` threads; latencies in ms, errors counted."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(n))

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=60.0) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                body = {"query": queries[i % len(queries)], "k": k, "mode": mode}
                t = time.perf_counter()
                try:
                    r = client.post("/v1/search", json=body)
                    ok = r.status_code == 200 and len(r.json()["data"]) > 0
                    what = "ok" if ok else f"HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    what = type(exc).__name__
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    if what == "ok":
                        latencies.append(ms)
                    else:
                        errors[what] = errors.get(what, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    return {
        "requests": n,
        "ok": len(latencies),
        "errors": errors,
        "seconds": round(seconds, 3),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "p99": round(percentile(latencies, 0.99), 1),
            "mean": round(statistics.fmean(latencies), 1),
            "max": round(max(latencies), 1),
        }
        if latencies
        else {},
    }


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = { %s }
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%.1f %%.1f %%.1f %%.1f\\n", summary.requests,
    e.status, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
"""


def run_wrk(
    url: str, queries: list[str], seconds: int, concurrency: int, k: int, mode: str
) -> dict | None:
    """The same load with ``wrk`` (C, little client CPU), for ``seconds``; None without wrk."""
    import shutil
    import tempfile

    if not shutil.which("wrk"):
        return None
    bodies = ", ".join(
        "[==[" + json.dumps({"query": q, "k": k, "mode": mode}, ensure_ascii=False) + "]==]"
        for q in queries
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="utf-8", delete=False) as f:
        f.write(WRK_SCRIPT % bodies)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{concurrency}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "-s",
                f.name,
                url + "/v1/search",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        ).stdout
    finally:
        os.unlink(f.name)
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        return {"error": out[-500:]}
    n, status_errors, io_errors, duration_us, p50, p95, p99, mean = line.split()[1:]
    ok = int(n) - int(status_errors)
    return {
        "tool": f"wrk -t2 -c{concurrency} -d{seconds}s",
        "requests": int(n),
        "errors": {"http": int(status_errors), "socket": int(io_errors)},
        "seconds": round(int(duration_us) / 1e6, 3),
        "requests_per_s": round(ok / (int(duration_us) / 1e6), 1),
        "latency_ms": {
            "p50": round(float(p50) / 1000, 1),
            "p95": round(float(p95) / 1000, 1),
            "p99": round(float(p99) / 1000, 1),
            "mean": round(float(mean) / 1000, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--mode", default="hybrid", choices=["hybrid", "dense", "bm25"])
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--index", help="index directory (default data/index)")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument(
        "--wrk-seconds",
        type=int,
        default=30,
        help="also load the server with wrk for this long when installed (0: skip)",
    )
    args = ap.parse_args(argv)

    queries = [
        json.loads(line)["question"]
        for line in QUESTIONS.read_text("utf-8").splitlines()
        if line.strip()
    ]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t = time.perf_counter()
    proc = start_server(port, args.index)
    try:
        health = wait_ready(url, proc)
        startup = time.perf_counter() - t
        run_load(url, queries, args.warmup, min(args.concurrency, args.warmup), args.k, args.mode)
        load_before = os.getloadavg()[0]
        result = run_load(url, queries, args.requests, args.concurrency, args.k, args.mode)
        load_after = os.getloadavg()[0]
        wrk = (
            run_wrk(url, queries, args.wrk_seconds, args.concurrency, args.k, args.mode)
            if args.wrk_seconds > 0
            else None
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    report = {
        "benchmark": "POST /v1/search on rag serve --no-llm, loopback",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "client": f"{args.concurrency} Python threads (httpx, keep-alive), same machine",
        "mode": args.mode,
        "k": args.k,
        "concurrency": args.concurrency,
        "warmup_requests": args.warmup,
        **result,
        "wrk": wrk,
        "server_startup_s": round(startup, 1),
        "index": {
            "documents": health.get("documents"),
            "chunks": health.get("chunks"),
            "embedder": health.get("embedder"),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # other work on the machine skews the numbers: the 1-minute load average
            "load_average_before_after": [round(load_before, 2), round(load_after, 2)],
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    lat = result["latency_ms"]
    print(json.dumps(report, ensure_ascii=False, indent=1))
    print(
        f"\nREADME: `/v1/search` ({args.mode}, k={args.k}) on loopback: "
        f"{result['requests_per_s']} requests/s, p50 {lat.get('p50')} ms, p95 {lat.get('p95')} ms "
        f"({args.requests} requests, {args.concurrency} concurrent, client and server on "
        f"{os.cpu_count()} cores; `python bench/serve_load.py`)"
    )
    if wrk and "latency_ms" in wrk:
        print(
            f"README (wrk): {wrk['requests_per_s']} requests/s, p50 {wrk['latency_ms']['p50']} ms, "
            f"p95 {wrk['latency_ms']['p95']} ms ({wrk['tool']})"
        )
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
