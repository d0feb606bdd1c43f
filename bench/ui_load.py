"""Load on the chat page: concurrent searches and answers through ``gradio_client``.

Starts ``rag ui`` (the embedded model by default) on a free loopback port over ``data/index``,
then sends ``--searches`` retrieval requests and ``--answers`` answer requests, all at once
(bounded by ``--timeout``), and records errors and latency percentiles in
``bench/results/ui_load.json``. A benchmark, not a test: run it on demand::

    python bench/ui_load.py                       # 50 searches + 5 answers, embedded model
    python bench/ui_load.py --no-llm --answers 20 # extractive answers

Example:
    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "DPO 为什么不需要单独训练奖励模型?",
    "FlashAttention 为什么能加速注意力计算?",
    "How many parameters does DeepSeek-V3 activate for each token?",
    "YOLO 把检测当作什么问题?",
    "DDIM 采样需要多少步?",
]


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile."""
    if not values:
        return float("nan")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not come up in {seconds:.0f}s")


def _search(url: str, question: str) -> float:
    from gradio_client import Client

    client = Client(url, verbose=False)
    t = time.perf_counter()
    passages = client.predict(question, "hybrid", 5, api_name="/search")
    if not passages:
        raise RuntimeError("no passages")
    return time.perf_counter() - t


def _answer(url: str, question: str, llm_kind: str) -> float:
    from gradio_client import Client

    client = Client(url, verbose=False)
    t = time.perf_counter()
    result = client.predict(question, [], "hybrid", 5, llm_kind, "", "", "", 0.1, api_name="/ask")
    chat = result[0]
    if not chat or chat[-1]["role"] != "assistant":
        raise RuntimeError("no answer in the chat")
    return time.perf_counter() - t


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the page, send the load, return the results."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, "-m", "rag.cli", "ui", "--port", str(port)]
    if args.no_llm:
        cmd.append("--no-llm")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(url, 300)
        _search(url, QUESTIONS[0])  # warm up retrieval
        started = time.perf_counter()
        results: dict[str, list[float]] = {"search": [], "answer": []}
        errors: list[str] = []
        llm_kind = "extractive" if args.no_llm else "default"
        with ThreadPoolExecutor(max_workers=args.searches + args.answers) as pool:
            futures = {}
            for i in range(args.searches):
                futures[pool.submit(_search, url, QUESTIONS[i % len(QUESTIONS)])] = "search"
            for i in range(args.answers):
                futures[pool.submit(_answer, url, QUESTIONS[i % len(QUESTIONS)], llm_kind)] = (
                    "answer"
                )
            for future in as_completed(futures, timeout=args.timeout):
                kind = futures[future]
                try:
                    results[kind].append(future.result())
                except Exception as exc:  # every failure is counted and named
                    errors.append(f"{kind}: {type(exc).__name__}: {exc}")
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {
        "searches": args.searches,
        "answers": args.answers,
        "llm": "extractive" if args.no_llm else "embedded",
        "errors": errors,
        "wall_seconds": round(wall, 1),
        "search_p50_s": round(percentile(results["search"], 50), 3),
        "search_p95_s": round(percentile(results["search"], 95), 3),
        "answer_p50_s": round(percentile(results["answer"], 50), 2),
        "answer_p95_s": round(percentile(results["answer"], 95), 2),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--searches", type=int, default=50)
    parser.add_argument("--answers", type=int, default=5)
    parser.add_argument("--no-llm", action="store_true", help="extractive answers")
    parser.add_argument("--timeout", type=float, default=1200, help="bound on the whole run (s)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ui_load.json")
    args = parser.parse_args(argv)
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
