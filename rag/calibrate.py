"""Fit the coverage (abstention) model: ``python -m rag.calibrate``.

Retrieves every calibration question (our questions over the articles; the CMRC 2018 trial
questions in Chinese and in English on an index of its paragraphs, built on first use), adds a
leave-one-out near miss for each answerable one, fits :mod:`rag.answer.calibrate` on the dev
split, reports both splits, and writes ``rag/answer/coverage_model.json`` (weights, thresholds,
the data it used and its scores). The features are kept in ``eval-out/calibrate/`` so
``--refit`` can fit again without retrieving. About 15 minutes on 2 cores (the CMRC index is
built once: ~3 minutes).

    python -m rag.calibrate                      # collect, fit, write the model file
    python -m rag.calibrate --refit              # fit again from eval-out/calibrate/cases.jsonl
    python -m rag.calibrate --dry-run            # report only; the model file is not touched
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from rag.config import PROJECT_ROOT


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _cmrc_trial() -> Path:
    env = os.environ.get("RAG_CMRC_TRIAL")
    path = (
        Path(env) if env else PROJECT_ROOT.parent / "shared/datasets/cmrc2018/cmrc2018_trial.json"
    )
    if not path.is_file():
        raise SystemExit(f"error: the CMRC 2018 trial split is not at {path}; set RAG_CMRC_TRIAL")
    return path


def _cmrc_assistant(base: Any, out: Path, say: Any) -> tuple[Any, list[dict[str, Any]]]:
    """An assistant over the CMRC trial paragraphs (indexed on first use) and its questions."""
    from ingest.pipeline import ingest
    from rag.api import Assistant
    from rag.eval.squad import write_squad
    from rag.store.factory import open_store

    conv = write_squad(_cmrc_trial(), out)
    settings = base.settings.replace(index_dir=out / "index")
    # built on first use; rebuilt when it is stale (e.g. from before sentence vectors); else a no-op
    report = ingest(
        [conv.corpus_path], settings, fmt="jsonl", progress=True, embedder=base.embedder
    )
    say(report.summary())
    store = open_store(settings)
    questions = _load(conv.questions_path)
    order: dict[str, int] = {}
    for q in questions:
        order.setdefault(q["gold_doc_ids"][0], len(order))
    for q in questions:
        q["split"] = "dev" if order[q["gold_doc_ids"][0]] % 2 == 0 else "test"
        q["lang"] = "zh"
    return Assistant(settings, store, base.embedder, llm="none"), questions


def collect_all(out: Path, say: Any) -> list[Any]:
    """Retrieve and featurise every calibration question (see the module docstring)."""
    from rag.answer.calibrate import collect
    from rag.api import Assistant
    from rag.text.glossary import Glossary

    articles = Assistant.open(llm="none", progress=True)
    cmrc, cmrc_zh = _cmrc_assistant(articles, out / "cmrc", say)
    glossary = Glossary.load()
    data = PROJECT_ROOT / "data" / "eval"
    cmrc_en = [
        dict(q, gold_doc_ids=[q["paragraph_id"]]) for q in _load(data / "cmrc_trial_en.jsonl")
    ]
    plan = [
        (
            "articles",
            articles,
            _load(data / "questions.jsonl") + _load(data / "questions_more.jsonl"),
        ),
        ("cmrc_zh", cmrc, cmrc_zh),
        ("cmrc_en", cmrc, cmrc_en),
    ]
    cases = []
    for name, assistant, questions in plan:
        t = time.perf_counter()

        def retrieve(text: str, a: Any = assistant) -> tuple[list[Any], Any]:
            r = a.retriever.run(text, k=40)
            return r.passages, r.query_vector

        tools = assistant.answer_tools
        part = collect(
            name,
            questions,
            retrieve,
            tools.selector,
            assistant.tokenizer,
            glossary,
            sounds=assistant.retriever.sounds,
        )
        say(
            f"{name}: {len(questions)} questions, {len(part)} cases in {time.perf_counter() - t:.0f} s"
        )
        cases += part
    return cases


def main(argv: list[str] | None = None) -> int:
    """Collect (or reload), fit on dev, report dev and test, write the model file."""
    from rag.answer.calibrate import Case, cases_to_jsonl, fit, report
    from rag.answer.coverage import MODEL_FILE

    parser = argparse.ArgumentParser(
        prog="python -m rag.calibrate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval-out" / "calibrate")
    parser.add_argument("--refit", action="store_true", help="reuse the collected features")
    parser.add_argument("--dry-run", action="store_true", help="do not write the model file")
    parser.add_argument("--max-refused", type=float, default=0.02)
    parser.add_argument("--band-negatives", type=float, default=0.9)
    args = parser.parse_args(argv)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr)

    args.out.mkdir(parents=True, exist_ok=True)
    features = args.out / "cases.jsonl"
    if args.refit:
        cases = [Case(**c) for c in _load(features)]
    else:
        cases = collect_all(args.out, say)
        features.write_text(cases_to_jsonl(cases), encoding="utf-8")
    model = fit(cases, args.max_refused, args.band_negatives)
    scores = report(model, cases)
    model.meta = {
        "command": "python -m rag.calibrate",
        "fitted": time.strftime("%Y-%m-%d"),
        "data": "data/eval/questions.jsonl + questions_more.jsonl (articles), CMRC 2018 trial "
        "zh + data/eval/cmrc_trial_en.jsonl; each answerable question also leave-one-out",
        "cases": {split: sum(1 for c in cases if c.split == split) for split in ("dev", "test")},
        "max_refused": args.max_refused,
        "band_negatives": args.band_negatives,
        "scores": scores,
    }
    print(
        json.dumps(
            {
                "abstain_below": model.abstain_below,
                "confident_above": model.confident_above,
                "scores": scores,
            },
            indent=1,
        )
    )
    if not args.dry_run:
        MODEL_FILE.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
        say(f"wrote {MODEL_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
