"""``rag eval``: batch evaluation of retrieval and answers (and ``python -m rag.eval``).

Examples::

    rag eval data/eval/questions.jsonl --no-llm          # retrieval (3 modes) + extractive answers
    rag eval data/eval/questions.jsonl                   # answers from the embedded LLM (slow)
    rag eval --format squad ../shared/datasets/cmrc2018/cmrc2018_trial.json --no-llm
    rag eval data/eval/faithfulness.jsonl --format faithfulness --split test   # the claim checker
    rag eval --check                                     # rerun data/eval/expected.yaml: OK/FAIL
    rag convert-squad FILE.json --out DIR                # corpus.jsonl + questions.jsonl

The same works as ``python -m rag.eval ...``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.cli.common import common_parser, progress_enabled, run, say, settings_from_args
from rag.cli.convert_squad import convert_parser

DEFAULT_MODES = "bm25,dense,hybrid"


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``rag eval`` (shared by ``rag eval`` and ``python -m rag.eval``)."""
    from rag.eval.check import DEFAULT_EXPECTED

    p.add_argument(
        "questions", nargs="?", help="question file (JSONL), or a SQuAD-format JSON file"
    )
    p.add_argument(
        "--format",
        default="auto",
        choices=["auto", "jsonl", "squad", "faithfulness", "model-answers"],
        help="auto (default): .json is SQuAD, anything else JSONL questions; faithfulness: the "
        "claim checker on a detection set (data/eval/faithfulness.jsonl); model-answers: the "
        "claim checker against hand labels of real model answers (data/eval/model_answers.jsonl)",
    )
    p.add_argument(
        "--corpus",
        metavar="FILE",
        help="a JSONL corpus the questions are about: indexed into --index "
        "(default <out>/index) before the run",
    )
    p.add_argument("--name", help="name of the run (default: the file name without extension)")
    p.add_argument("--out", metavar="DIR", help="report folder (default eval-out/<name>/)")
    p.add_argument(
        "--modes",
        default=DEFAULT_MODES,
        help=f"retrieval modes to compare, comma-separated (default {DEFAULT_MODES})",
    )
    p.add_argument(
        "--k",
        dest="cutoff",
        type=int,
        default=10,
        metavar="K",
        help="documents evaluated per mode: hit@1/3/5/k, MRR@k, nDCG@k (default 10)",
    )
    p.add_argument(
        "--depth",
        type=int,
        help="chunks retrieved per mode before folding them into documents (default 3*k)",
    )
    p.add_argument(
        "--no-llm",
        action="store_true",
        help="extractive answers without the LLM (fast; abstention from the evidence check)",
    )
    p.add_argument("--retrieval-only", action="store_true", help="skip the answers altogether")
    p.add_argument(
        "--llm-base-url",
        metavar="URL",
        help="OpenAI-compatible endpoint (default: RAG_LLM_BASE_URL, else the embedded model)",
    )
    p.add_argument("--llm-model", metavar="NAME", help="model name at that endpoint")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    p.add_argument(
        "--split", metavar="NAME", help="only questions whose `split` field is NAME (e.g. test)"
    )
    p.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="a fixed sample of N questions (the same N questions on every run: seeded)",
    )
    p.add_argument(
        "--near-misses",
        action="store_true",
        help="ask every answerable question again with its gold documents hidden: an "
        "unanswerable near miss (abstention per language in the report)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in the same --out: questions already in its "
        "results.jsonl are not asked again",
    )
    p.add_argument(
        "--worst", type=int, default=10, metavar="N", help="rows of the worst-misses tables"
    )
    p.add_argument(
        "--check",
        nargs="?",
        const=str(DEFAULT_EXPECTED),
        metavar="FILE",
        help="rerun the runs of an expected-scores file (default data/eval/expected.yaml) "
        "and print OK/FAIL per score; exit 1 on any FAIL",
    )
    p.add_argument(
        "--only", action="append", metavar="NAME", help="with --check: only this run (repeatable)"
    )


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``eval`` to the ``rag`` command."""
    p = sub.add_parser(
        "eval",
        parents=[common],
        help="evaluate retrieval and answers on a question set",
        description="Run every question through the retriever (bm25, dense, hybrid side by side) "
        "and the answer chain, and write report.json, report.md and plots to eval-out/<name>/.",
    )
    add_eval_arguments(p)
    p.set_defaults(func=cmd_eval)


def build_parser() -> argparse.ArgumentParser:
    """The standalone parser of ``python -m rag.eval``."""
    p = argparse.ArgumentParser(
        prog="python -m rag.eval",
        parents=[common_parser()],
        description="Evaluate retrieval and answers on a question set (same as `rag eval`). "
        "`python -m rag.eval convert-squad FILE --out DIR` converts a SQuAD file.",
    )
    add_eval_arguments(p)
    p.set_defaults(func=cmd_eval)
    return p


def main(argv: Sequence[str] | None = None, *, embedder: Any = None) -> int:
    """Entry point of ``python -m rag.eval`` (``embedder``: share an already loaded one)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["convert-squad"]:
        return run(convert_parser().parse_args(argv[1:]))
    args = build_parser().parse_args(argv)
    args.shared_embedder = embedder
    return run(args)


# ---------------------------------------------------------------------------- commands
def _modes(text: str) -> list[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


def _resolve(path: str) -> Path:
    """A path as given, else relative to the project (so expected-score commands run anywhere)."""
    from rag.config import PROJECT_ROOT

    p = Path(path)
    if not p.exists() and not p.is_absolute() and (PROJECT_ROOT / p).exists():
        return PROJECT_ROOT / p
    return p


def canonical_command(args: argparse.Namespace) -> str:
    """The command that reproduces a run (without ``--out``), for the report and expected scores.

    >>> args = build_parser().parse_args(["q.jsonl", "--no-llm", "--k", "5"])
    >>> canonical_command(args)
    'rag eval q.jsonl --no-llm --k 5'
    """
    words = ["rag", "eval"]
    if args.format != "auto":
        words += ["--format", args.format]
    words.append(args.questions)
    for flag, on in (
        ("--no-llm", args.no_llm),
        ("--retrieval-only", args.retrieval_only),
        ("--near-misses", args.near_misses),
    ):
        if on:
            words.append(flag)
    if _modes(args.modes) != _modes(DEFAULT_MODES):
        words += ["--modes", ",".join(_modes(args.modes))]
    if args.cutoff != 10:
        words += ["--k", str(args.cutoff)]
    for flag, value in (
        ("--depth", args.depth),
        ("--limit", args.limit),
        ("--split", args.split),
        ("--sample", args.sample),
        ("--corpus", args.corpus),
        ("--name", args.name),
        ("--llm-base-url", args.llm_base_url),
        ("--llm-model", args.llm_model),
        ("--index", args.index),
        ("--store", args.store),
        ("--embedder", args.embedder),
        ("--embed-backend", getattr(args, "embed_backend", None)),
    ):
        if value is not None:
            words += [flag, str(value)]
    return shlex.join(words)


def _config(args: argparse.Namespace) -> Any:
    from rag.eval.config import EvalConfig

    questions = _resolve(args.questions)
    return EvalConfig(
        questions=questions,
        fmt=args.format,
        name=args.name,
        out_dir=Path(args.out) if args.out else None,
        index_dir=Path(args.index) if args.index else None,
        corpus=_resolve(args.corpus) if args.corpus else None,
        modes=_modes(args.modes),
        k=args.cutoff,
        depth=args.depth,
        answers=not args.retrieval_only,
        no_llm=args.no_llm,
        limit=args.limit,
        split=args.split,
        sample=args.sample,
        worst=args.worst,
        near_misses=args.near_misses,
        resume=args.resume,
        command=canonical_command(args),
    )


def _load_embedder(settings: Any, args: argparse.Namespace, cache: dict[str, Any]) -> Any:
    shared = getattr(args, "shared_embedder", None)
    if shared is not None:
        return shared
    key = f"{settings.embedder} ({settings.embed_backend})"  # a backend is another embedder
    if key not in cache:
        from rag.embed.embedder import Embedder

        cache[key] = Embedder.load(settings, progress=progress_enabled(args))
    return cache[key]


def _evaluate(config: Any, settings: Any, embedder: Any, log: Any, progress: bool = False) -> Any:
    """Run one evaluation: the question set (:func:`run_eval`) or the faithfulness benchmark."""
    if config.fmt == "faithfulness":
        from rag.eval.faithfulness import run_faithfulness

        return run_faithfulness(config, settings, embedder=embedder, log=log)
    if config.fmt == "model-answers":
        from rag.eval.model_answers import run_model_answers

        return run_model_answers(config, settings, embedder=embedder, log=log)
    from rag.eval.runner import run_eval

    return run_eval(config, settings, embedder=embedder, log=log, progress=progress)


def _print_faithfulness(summary: dict[str, Any]) -> None:
    for group, m in summary["faithfulness"].items():
        if "/" in group:
            continue
        print(
            f"{group:<4} cases {m['cases']:<4} injected removed {m['injected_recall']:.3f}  "
            f"correct clauses removed {m['false_removal_rate']:.3f}  flagged "
            f"{m['false_alarm_rate']:.3f}  citation recall {m['citation_recall']:.3f} / "
            f"precision {m['citation_precision']:.3f}  {m['cpu_ms_per_answer']:.1f} ms CPU/answer"
        )


def _print_model_answers(summary: dict[str, Any]) -> None:
    for group, m in summary["faithfulness"].items():
        print(
            f"{group:<4} answers {m['answers']:<3} clauses {m['clauses']:<4} unsupported removed "
            f"{_rate(m['unsupported_removed'])} (of {m['labelled_unsupported']})  supported removed "
            f"{_rate(m['false_removal_rate'])}  citation recall / precision: the model's "
            f"{_rate(m['model_citation_recall'])} / {_rate(m['model_citation_precision'])}, "
            f"checked {_rate(m['checked_citation_recall'])} / "
            f"{_rate(m['checked_citation_precision'])}"
        )


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _print_summary(summary: dict[str, Any]) -> None:
    if summary.get("format") == "faithfulness":
        _print_faithfulness(summary)
        return
    if summary.get("format") == "model-answers":
        _print_model_answers(summary)
        return
    k = summary["config"]["k"]
    for mode, b in summary["retrieval"].items():
        keys = [
            key for key in ("hit@1", "hit@5", f"mrr@{k}", f"ndcg@{k}") if b.get(key) is not None
        ]
        scores = "  ".join(f"{key} {b[key]:.3f}" for key in keys)
        print(f"{mode:<7} {scores}  (n={b['n']}, p50 {b['latency']['p50'] or 0:.3f} s)")
    a = summary.get("answers")
    if a:
        ab = a["abstention"]
        acc = f"{ab['accuracy']:.3f}" if ab["accuracy"] is not None else "–"
        print(
            f"answers: abstention accuracy {acc} (abstained on {ab['abstained_unanswerable']} of "
            f"{ab['abstained_unanswerable'] + ab['answered_unanswerable']} unanswerable, on "
            f"{ab['abstained_answerable']} of {ab['abstained_answerable'] + ab['answered_answerable']} "
            f"answerable); gold answer contained {a['containment'] if a['containment'] is None else round(a['containment'], 3)}"
        )


def cmd_eval(args: argparse.Namespace) -> int:
    """``rag eval``."""
    from rag.eval.check import ExpectedError
    from rag.eval.squad import SquadError

    try:
        if args.check is not None:
            return _check(args)
        if not args.questions:
            say("error: give a question file (or --check)")
            return 2
        config = _config(args)
        settings = settings_from_args(args)
        result = _evaluate(
            config,
            settings,
            _load_embedder(settings, args, {}),
            say,
            progress=progress_enabled(args),
        )
    except (SquadError, ExpectedError, ValueError) as exc:
        say(f"error: {exc}")
        return 1
    _print_summary(result.summary)
    plots = f", {len(result.files) - 4} plots" if len(result.files) > 4 else ""
    print(f"report: {result.out_dir / 'report.md'} (+ report.json{plots})")
    if result.input_errors:
        say(f"{len(result.input_errors)} input line(s) skipped (see the errors above)")
        return 1
    return 0


def _check(args: argparse.Namespace) -> int:
    import subprocess

    from rag.config import PROJECT_ROOT
    from rag.eval.check import ExpectedRun, load_expected, run_check

    path = _resolve(args.check)
    runs = load_expected(path)
    if args.only:
        unknown = sorted(set(args.only) - {r.name for r in runs})
        if unknown:
            say(f"error: no run named {', '.join(unknown)} in {path}")
            return 2
        runs = [r for r in runs if r.name in args.only]
    out_base = Path(args.out) if args.out else Path("eval-out") / "check"
    embedders: dict[str, Any] = {}
    parser = build_parser()

    def evaluate(run: ExpectedRun) -> dict[str, Any]:
        if run.prepare:
            say(f"# prepare: {run.prepare}")
            done = subprocess.run(run.prepare_args(), cwd=PROJECT_ROOT, check=False)
            if done.returncode != 0:
                say(f"error: `{run.prepare}` failed (exit {done.returncode}): not measured")
                return {}
        sub = parser.parse_args(run.eval_args())
        sub.out = str(out_base / run.name)
        sub.shared_embedder = getattr(args, "shared_embedder", None)
        settings = settings_from_args(sub)
        result = _evaluate(_config(sub), settings, _load_embedder(settings, sub, embedders), say)
        return result.summary

    lines = run_check(runs, evaluate, say=print)
    failed = sum(1 for line in lines if line.status == "FAIL")
    print(f"check {path}: {len(lines) - failed} OK, {failed} FAIL")
    return 1 if failed else 0
