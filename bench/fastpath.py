"""The old default against the new one, in the same run: start-up, no-op ingest, serving, memory.

"Old" is the code of another git ref (default ``main`` before the ONNX default), unpacked with
``git archive`` into ``bench/work/old-<ref>/`` and run from there with its own defaults (torch);
"new" is this checkout. Both use the same Python, the same packages, the same model cache and
the same articles, each on its own index, and are measured one after the other, round by round
(interleaved), so the machine's drift hits both alike. Bytecode is cached for both (a separate
``PYTHONPYCACHEPREFIX`` under bench/work, as a normal install caches it); a first round warms it
and is not counted.

* ``startup``: ``rag search`` (process start -> passages printed and exit), ``rag ask`` (process
  start -> the "found:" line with the passages, then the process is stopped: the LLM is not
  measured here), a no-op ``rag ingest`` and ``rag stats``, plus which heavy modules
  ``rag search`` imported.
* ``serve``: ``rag serve --no-llm`` of each: seconds to ready, resident memory idle after start
  and after the load, then ``POST /v1/search`` from 16 concurrent keep-alive clients.

Example:
    >>> sorted(COMMANDS)
    ['ask', 'ingest', 'search', 'stats']
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, WORK, loadavg, machine, percentiles, say, write_result

QUESTION = "DPO 为什么不需要奖励模型?"
HEAVY = ("torch", "transformers", "sentence_transformers", "onnxruntime", "tokenizers")
COMMANDS = {
    "search": (["search", QUESTION, "--quiet"], None),
    "ask": (["ask", QUESTION], "found:"),
    "ingest": (["ingest", "data/articles", "--quiet"], None),
    "stats": (["stats"], None),
}


def old_code(ref: str = "main") -> Path:
    """The tree of ``ref`` unpacked under bench/work/ (again when ``ref`` has moved since)."""
    dest = WORK / f"old-{ref.replace('/', '-')}"
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", f"{ref}^{{commit}}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    stamp = dest / ".bench-commit"
    fresh = stamp.is_file() and stamp.read_text().strip() == commit
    if not (fresh and (dest / "rag" / "cli" / "__init__.py").is_file()):
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        stamp.write_text(commit + "\n")
    return dest


def old_commit(ref: str = "main") -> str:
    """The commit the old tree was unpacked from."""
    return (old_code(ref) / ".bench-commit").read_text().strip()


def code_env(code: Path, index: Path, threads: int = 2) -> dict[str, str]:
    """Environment of a ``rag`` process of ``code`` on ``index`` (bytecode cached apart)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PYTHONPATH=str(code),
        PYTHONPYCACHEPREFIX=str(WORK / "pycache"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        RAG_INDEX_DIR=str(index),
        RAG_CORPUS_DIR=str(code / "data" / "articles"),
        RAG_THREADS=str(threads),
        OMP_NUM_THREADS=str(threads),
    )
    return env


def timed(
    cmd: list[str], env: dict[str, str], until: str | None = None, cwd: Path = ROOT
) -> dict[str, Any]:
    """Run ``cmd``: seconds to exit, or to the first stderr line containing ``until`` (then the
    process is stopped); also seconds to the first stdout line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(  # cwd: `python -m` puts it first on sys.path
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    marks: dict[str, float] = {}
    seen = threading.Event()

    def read(stream: Any, name: str) -> None:
        for line in stream:
            marks.setdefault(f"first_{name}_s", time.perf_counter() - t0)
            if until and name == "stderr" and until in line and "until_s" not in marks:
                marks["until_s"] = time.perf_counter() - t0
                seen.set()

    readers = [
        threading.Thread(target=read, args=(proc.stdout, "stdout"), daemon=True),
        threading.Thread(target=read, args=(proc.stderr, "stderr"), daemon=True),
    ]
    for r in readers:
        r.start()
    if until:
        seen.wait(timeout=600)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)  # our own child: the LLM is not part of this
    code = proc.wait(timeout=600)
    wall = time.perf_counter() - t0
    for r in readers:
        r.join(timeout=5)
    if until and "until_s" not in marks:
        raise RuntimeError(f"{' '.join(cmd)}: never printed {until!r} (exit {code})")
    if not until and code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {code}")
    return {"wall_s": wall, **marks}


def _variants(ref: str) -> dict[str, tuple[Path, Path]]:
    return {
        "old": (old_code(ref), WORK / "idx" / f"small-old-{ref.replace('/', '-')}"),
        "new": (ROOT, WORK / "idx" / "small-new"),
    }


def _rag(*args: str) -> list[str]:
    return [sys.executable, "-m", "rag.cli", *args]


def _modules(code: Path, index: Path) -> list[str]:
    probe = (
        "import json, sys, contextlib, io\n"
        "from rag.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['search', {QUESTION!r}, '--quiet'])\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=code,
        env=code_env(code, index),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def startup(ref: str = "main", rounds: int = 5) -> dict[str, Any]:
    """Old vs new: search / ask-to-passages / no-op ingest / stats, interleaved rounds."""
    start = machine()  # its loadavg_start is the load before the run, not at the write
    variants = _variants(ref)
    for name, (code, index) in variants.items():
        say(f"startup: {name} index at {index}")
        timed(_rag("ingest", "data/articles", "--quiet"), code_env(code, index), cwd=code)
    times: dict[str, dict[str, list[float]]] = {v: {c: [] for c in COMMANDS} for v in variants}
    loads: list[list[float]] = []
    for r in range(rounds + 1):
        if r:
            loads.append(loadavg())
        for name, (code, index) in variants.items():
            env = code_env(code, index)
            for cmd, (args, until) in COMMANDS.items():
                res = timed(_rag(*args), env, until, cwd=code)
                if r:  # round 0 warms the bytecode and page caches
                    times[name][cmd].append(res["until_s"] if until else res["wall_s"])
            if r:
                say(f"startup round {r}/{rounds} {name}: " + ", ".join(
                    f"{c} {v[-1]:.2f}s" for c, v in times[name].items()
                ))  # fmt: skip
    payload: dict[str, Any] = {
        "ref_old": ref,
        "commit_old": old_commit(ref),
        "rounds": rounds,
        "question": QUESTION,
        "machine": start,
        "loadavg_per_round": loads,
    }
    for name, (code, index) in variants.items():
        payload[name] = {c: percentiles(v) for c, v in times[name].items()}
        payload[name]["search_imports"] = _modules(code, index)
    payload["speedup_p50"] = {
        c: payload["old"][c]["p50"] / payload["new"][c]["p50"] for c in COMMANDS
    }
    write_result("startup", payload)
    return payload


def _worker(code: Path, index: Path, task: str, args: dict[str, Any]) -> dict[str, Any]:
    """``python -m bench.workers TASK`` of ``code``'s own tree (its bench and its rag)."""
    out = WORK / "tmp" / f"{task}-{os.getpid()}-{time.monotonic_ns()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.workers", task, json.dumps(args), str(out)],
        cwd=code,
        env=code_env(code, index),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{task} of {code} failed:\n{proc.stderr[-2000:]}")
    result = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return result


def query(ref: str = "main", rounds: int = 2, n: int = 20, repeats: int = 3) -> dict[str, Any]:
    """Old vs new ``Retriever.run`` on the articles: cold start and warm p50/p95 per step."""
    start = machine()
    variants = _variants(ref)
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for r in range(rounds):
        for name, (code, index) in variants.items():
            args = {"corpus": "small", "index_dir": str(index), "n": n, "repeats": repeats}
            res = _worker(code, index, "query_ours", args)
            runs[name].append(res)
            h = res["warm"]["hybrid"]
            say(
                f"query {name} round {r + 1}: hybrid p50 {h['total']['p50'] * 1000:.1f} ms "
                f"(embed {h['embed_query']['p50'] * 1000:.1f}), cold "
                f"{res['cold']['interpreter_to_ready_s']:.2f} s"
            )
    best = {v: min(rs, key=lambda x: x["warm"]["hybrid"]["total"]["p50"]) for v, rs in runs.items()}
    payload = {
        "ref_old": ref,
        "commit_old": old_commit(ref),
        "machine": start,
        "runs": runs,
        "best": best,
        "warm_hybrid_p50_ratio_old_over_new": best["old"]["warm"]["hybrid"]["total"]["p50"]
        / best["new"]["warm"]["hybrid"]["total"]["p50"],
    }
    write_result("query-fastpath", payload)
    return payload


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (MB)."""
    total = 0.0
    pids = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(k) for k in kids]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def serve(
    ref: str = "main", requests: int = 400, concurrency: int = 16, rounds: int = 1
) -> dict[str, Any]:
    """Old vs new ``rag serve --no-llm``: ready time, idle RSS, /v1/search under load.

    The load comes from ``concurrency`` Python client threads (httpx) and, when ``wrk`` is
    installed (``apt install wrk``), also from ``wrk`` for 10 s: a C client that leaves the two
    cores to the server, so its ratio shows the servers rather than the client's own cost.
    """
    from bench.serve_load import QUESTIONS, free_port, run_load, run_wrk, wait_ready

    queries = [
        json.loads(line)["question"]
        for line in QUESTIONS.read_text("utf-8").splitlines()
        if line.strip()
    ]
    variants = _variants(ref)
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for r in range(rounds):
        for name, (code, index) in variants.items():
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = code_env(code, index)
            t = time.perf_counter()
            proc = subprocess.Popen(
                _rag("serve", "--no-llm", "--port", str(port), "--quiet", "--no-access-log",
                     "--log-level", "warning"),
                cwd=code, env=env,
            )  # fmt: skip
            try:
                wait_ready(url, proc)
                ready = time.perf_counter() - t
                time.sleep(3)
                idle = _rss_mb(proc.pid)
                run_load(url, queries, 20, 4, 5, "hybrid")  # warm-up
                warm_idle = _rss_mb(proc.pid)
                la = loadavg()
                result = run_load(url, queries, requests, concurrency, 5, "hybrid")
                wrk = run_wrk(url, queries, 10, concurrency, 5, "hybrid")
                after = _rss_mb(proc.pid)
            finally:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            row = {
                "ready_s": ready,
                "rss_idle_mb": idle,
                "rss_after_warmup_mb": warm_idle,
                "rss_after_load_mb": after,
                "loadavg_before": la,
                "loadavg_after": loadavg(),
                **result,
                "wrk": wrk,
            }
            runs[name].append(row)
            say(
                f"serve {name} round {r + 1}: {row['requests_per_s']} req/s, p95 "
                f"{row['latency_ms'].get('p95')} ms, idle RSS {idle:.0f} MB"
                + (f"; wrk {wrk.get('requests_per_s')} req/s" if wrk else "")
            )
    best = {v: max(rs, key=lambda x: x["requests_per_s"]) for v, rs in runs.items()}
    payload = {
        "ref_old": ref,
        "commit_old": old_commit(ref),
        "concurrency": concurrency,
        "requests": requests,
        "mode": "hybrid",
        "k": 5,
        "runs": runs,
        "throughput_ratio_new_over_old": best["new"]["requests_per_s"]
        / max(best["old"]["requests_per_s"], 1e-9),
    }
    wrk_best = {
        v: max((x["wrk"].get("requests_per_s") or 0.0) for x in rs if x.get("wrk"))
        for v, rs in runs.items()
        if any(x.get("wrk") for x in rs)
    }
    if len(wrk_best) == 2:
        payload["throughput_ratio_wrk_new_over_old"] = wrk_best["new"] / max(wrk_best["old"], 1e-9)
    write_result("serve-fastpath", payload)
    return payload
