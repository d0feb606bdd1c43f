"""The faithfulness benchmark of the claim checker (:mod:`rag.answer.claims`).

    rag eval data/eval/faithfulness.jsonl --format faithfulness --split test
    python -m rag.eval.refit                         # refit claims_model.json on the dev splits

Each case of ``data/eval/faithfulness.jsonl`` is a correct cited answer (``answer_ok``) and the
same answer with one unsupported clause injected (``answer_bad``, the injected text in
``injected``; ``kind``: number, entity, added_claim, negation, comparison). Both are checked
against ONE passage, the gold article's text as the index stores it (``[1]``), with the chain's
tokenizer, the claims glossary and e5 similarity. Per language, per kind and overall:

- ``injected_recall``: corrupted answers whose injected span overlaps a removed clause;
- ``false_removal_rate``: clauses of the correct answers removed;
- ``false_alarm_rate``: correct answers with any clause removed;
- ``bad_other_clause_removal``: clauses of the corrupted answers, outside the injected span,
  removed;
- ``citation_recall`` / ``citation_precision`` (ALCE-style, on the correct answers): a sentence
  counts for recall when every clause of it is supported by a passage it cites; precision is
  the share of a sentence's cited passages that support one of its clauses;
- ``ms_per_answer`` / ``cpu_ms_per_answer`` (+ ``cpu_ms_p95``, ``ms_max``): the check's time
  per answer with the e5 vectors already cached (a first pass fills the cache), i.e. without
  the e5 forward passes; ``similarity_calls_max``: e5 calls per answer (one by design).

With several splits in the file and no ``--split``, the groups are also given per split
(``dev/zh``...). The run writes ``results.jsonl`` (every case, its removed clauses and why),
``report.json``, ``report.md`` and ``expected-scores.yaml`` into ``eval-out/<name>/``.

Example:
    >>> case = Case("f1", "ddim", "zh", "快 [1]。", "快，贵 [1]。", "，贵", "added_claim", "test")
    >>> case.injected_span
    (1, 3)
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.answer.claims import CheckedAnswer, ClaimModel, check_answer
from rag.config import Settings
from rag.eval.config import EvalConfig, EvalResult
from rag.eval.metrics import citation_counts, percentile
from rag.schema import Passage

if TYPE_CHECKING:
    from rag.embed.embedder import Embedder

KINDS = ("number", "entity", "added_claim", "negation", "comparison")
REQUIRED = ("id", "doc_id", "lang", "answer_ok", "answer_bad", "injected", "kind", "split")


@dataclass(frozen=True)
class Case:
    """One case of the detection set (see the module docstring)."""

    cid: str
    doc_id: str
    lang: str
    ok: str
    bad: str
    injected: str
    kind: str
    split: str
    question: str = ""
    line: int = 0

    @property
    def injected_span(self) -> tuple[int, int]:
        """Offsets of the injected text in the corrupted answer."""
        s = self.bad.index(self.injected)
        return s, s + len(self.injected)


def load_cases(path: Path, split: str | None = None) -> tuple[list[Case], list[str]]:
    """The cases of a faithfulness file (of one ``split``); one message per skipped line."""
    from ingest.loaders.jsonl import json_objects

    errors: list[str] = []
    cases: list[Case] = []
    text = Path(path).read_text(encoding="utf-8-sig")
    for line_no, r in json_objects(text, str(path), errors):
        where = f"{path}:{line_no}"
        missing = [k for k in REQUIRED if not isinstance(r.get(k), str) or not r[k]]
        if missing:
            errors.append(f"{where}: missing or empty {', '.join(missing)}")
        elif r["injected"] not in r["answer_bad"]:
            errors.append(f'{where}: "injected" is not part of "answer_bad"')
        elif r["lang"] not in ("zh", "en"):
            errors.append(f'{where}: "lang" must be zh or en')
        elif split in (None, "all") or r["split"] == split:
            cases.append(
                Case(
                    *(r[k] for k in REQUIRED),
                    question=str(r.get("question") or ""),
                    line=line_no,
                )
            )
    return cases, errors


class CachedSimilarity:
    """``(clauses, sentences) -> cosine matrix`` with e5 vectors cached by text (clauses as
    queries, sentences as passages, as the chain does); counts its calls and the seconds spent
    embedding."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.queries: dict[str, np.ndarray] = {}
        self.passages: dict[str, np.ndarray] = {}
        self.calls = 0
        self.embed_seconds = 0.0

    def _vectors(
        self, cache: dict[str, np.ndarray], texts: list[str], embed: Callable[[list[str]], Any]
    ) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            t0 = time.perf_counter()
            for t, v in zip(missing, embed(missing), strict=True):
                cache[t] = v
            self.embed_seconds += time.perf_counter() - t0
        return np.stack([cache[t] for t in texts])

    def __call__(self, clauses: list[str], sentences: list[str]) -> np.ndarray:
        self.calls += 1
        a = self._vectors(self.queries, clauses, self.embedder.embed_queries)
        b = self._vectors(self.passages, sentences, self.embedder.embed_passages)
        return a @ b.T


@dataclass
class Checker:
    """What a case is checked with: the passage of a document, the tokenizer, the glossary,
    the similarity and the model (None: the packaged one)."""

    passage: Callable[[str], Passage]
    terms: Callable[[str], list[str]]
    glossary: Any
    similarity: CachedSimilarity
    model: ClaimModel | None = None

    def check(self, case: Case, key: str) -> CheckedAnswer:
        return check_answer(
            case.ok if key == "ok" else case.bad,
            [self.passage(case.doc_id)],
            question=case.question,
            lang=case.lang,
            terms=self.terms,
            glossary=self.glossary,
            similarity=self.similarity,
            model=self.model,
        )


@dataclass
class Checked:
    """A case with both answers checked and what each check cost."""

    case: Case
    ok: CheckedAnswer
    bad: CheckedAnswer
    ms: tuple[float, float]  # wall-clock, ok and bad
    cpu_ms: tuple[float, float]
    calls: tuple[int, int]  # similarity calls


def check_cases(cases: Sequence[Case], checker: Checker, warm: bool = True) -> list[Checked]:
    """Check every case; with ``warm``, a first pass fills the e5 caches so that the timed pass
    measures the check alone."""
    if warm:
        for case in cases:
            checker.check(case, "ok")
            checker.check(case, "bad")
    out = []
    for case in cases:
        got: dict[str, tuple[CheckedAnswer, float, float, int]] = {}
        for key in ("ok", "bad"):
            calls = checker.similarity.calls
            t0, c0 = time.perf_counter(), time.process_time()
            res = checker.check(case, key)
            wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
            got[key] = (res, wall, cpu, checker.similarity.calls - calls)
        (ok, okw, okc, okn), (bad, bw, bc, bn) = got["ok"], got["bad"]
        out.append(Checked(case, ok, bad, (okw, bw), (okc, bc), (okn, bn)))
    return out


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _counts(rec: Checked) -> dict[str, float]:
    """The countable outcomes of one case (summed per group by :func:`score`)."""
    inj = rec.case.injected_span
    ok, bad = rec.ok, rec.bad
    return {
        "cases": 1,
        "injected_caught": any(_overlaps((c.start, c.end), inj) for c in bad.removed),
        "ok_clauses": len(ok.clauses),
        "ok_clauses_removed": len(ok.removed),
        "ok_answers_flagged": len(ok.removed) > 0,
        "bad_other_removed": sum(1 for c in bad.removed if not _overlaps((c.start, c.end), inj)),
        "bad_other_clauses": sum(1 for c in bad.clauses if not _overlaps((c.start, c.end), inj)),
        **citation_counts(c.__dict__ for c in ok.clauses),
    }


def _groups(case: Case, by_split: bool) -> list[str]:
    keys = ["all", case.lang, f"{case.lang}/{case.kind}"]
    if by_split:
        keys += [f"{case.split}/{case.lang}", f"{case.split}/{case.lang}/{case.kind}"]
    return keys


def score(records: Sequence[Checked]) -> dict[str, dict[str, Any]]:
    """The metrics of the module docstring per group (``all``, ``zh``, ``zh/number``...)."""
    by_split = len({r.case.split for r in records}) > 1
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    times: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for rec in records:
        counts = _counts(rec)
        for key in _groups(rec.case, by_split):
            for name, value in counts.items():
                sums[key][name] += value
            times[key] += list(zip(rec.ms, rec.cpu_ms, rec.calls, strict=True))
    result = {}
    for key in sorted(sums, key=lambda k: (k != "all", k.count("/"), k)):
        a, t = sums[key], times[key]
        result[key] = {
            "cases": int(a["cases"]),
            "injected_recall": round(a["injected_caught"] / a["cases"], 4),
            "false_removal_rate": round(a["ok_clauses_removed"] / max(1, a["ok_clauses"]), 4),
            "false_alarm_rate": round(a["ok_answers_flagged"] / a["cases"], 4),
            "bad_other_clause_removal": round(
                a["bad_other_removed"] / max(1, a["bad_other_clauses"]), 4
            ),
            "citation_recall": round(a["sentences_cit_supported"] / max(1, a["sentences"]), 4),
            "citation_precision": round(a["citations_needed"] / max(1, a["citations"]), 4),
            "ms_per_answer": round(float(np.mean([w for w, _, _ in t])), 2),
            "cpu_ms_per_answer": round(float(np.mean([c for _, c, _ in t])), 2),
            "cpu_ms_p95": round(percentile([c for _, c, _ in t], 95) or 0.0, 2),
            "ms_max": round(max(w for w, _, _ in t), 2),
            "similarity_calls_max": max(n for _, _, n in t),
        }
    return result


def case_record(rec: Checked) -> dict[str, Any]:
    """One line of ``results.jsonl``: the case, what was removed and why, every clause."""
    c = rec.case

    def clauses(answer: CheckedAnswer) -> list[dict[str, Any]]:
        return [
            {
                "text": cl.text,
                "status": cl.status,
                "reason": cl.reason,
                "rule": cl.rule,
                "score": round(cl.score, 4),
                "features": {k: round(v, 4) for k, v in cl.features.items()},
            }
            for cl in answer.clauses
        ]

    return {
        "id": c.cid,
        "doc_id": c.doc_id,
        "lang": c.lang,
        "kind": c.kind,
        "split": c.split,
        "injected": c.injected,
        "caught": any(_overlaps((x.start, x.end), c.injected_span) for x in rec.bad.removed),
        "injected_clauses": [
            {"text": x.text, "status": x.status, "score": round(x.score, 4), "reason": x.reason}
            for x in rec.bad.clauses
            if _overlaps((x.start, x.end), c.injected_span)
        ],
        "ok": c.ok,
        "ok_checked": rec.ok.text,
        "ok_removed": [[x.text, x.reason] for x in rec.ok.removed],
        "bad": c.bad,
        "bad_checked": rec.bad.text,
        "bad_removed": [[x.text, x.reason] for x in rec.bad.removed],
        "ok_clauses": clauses(rec.ok),
        "bad_clauses": clauses(rec.bad),
        "ms": [round(x, 3) for x in rec.ms],
        "cpu_ms": [round(x, 3) for x in rec.cpu_ms],
    }


# ---------------------------------------------------------------------------- the run
def open_checker(
    settings: Settings, embedder: Embedder | None, say: Callable[[str], None]
) -> tuple[Any, Checker]:
    """The assistant over ``settings.index_dir`` and a :class:`Checker` reading its documents
    (``embedder`` None: the configured one is loaded)."""
    from rag.eval.runner import open_assistant

    if embedder is None:
        from rag.embed.embedder import Embedder

        embedder = Embedder.load(settings)

    assistant = open_assistant(settings, embedder, "none", say)
    cache: dict[str, Passage] = {}
    titles = {d["doc_id"]: d["title"] for d in assistant.store.documents()}

    def passage(doc_id: str) -> Passage:
        if doc_id not in cache:
            text = assistant.store.document_text(doc_id)
            if text is None:
                raise ValueError(f"document {doc_id!r} is not in the index at {settings.index_dir}")
            title = titles.get(doc_id) or doc_id  # as the prompt shows it
            cache[doc_id] = Passage(text, doc_id, title, f"{doc_id}.md", f"{doc_id}#0", 1.0)
        return cache[doc_id]

    tools = assistant.answer_tools
    checker = Checker(
        passage, assistant.tokenizer, tools.claims_glossary, CachedSimilarity(embedder)
    )
    return assistant, checker


def run_faithfulness(
    config: EvalConfig,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    log: Callable[[str], None] | None = None,
    write: bool = True,
) -> EvalResult:
    """Check every case of ``config.questions`` (of ``config.split``) and write the report.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a case's document is not in the index.
    """
    from rag.eval.faithfulness_report import summarize_run, write_faithfulness_report

    say = log or (lambda msg: print(msg, file=sys.stderr))
    config = config.resolved()
    assert config.out_dir is not None
    cases, errors = load_cases(Path(config.questions), config.split)
    for err in errors:
        say(f"error: {err} (line skipped)")
    if config.limit is not None:
        cases = cases[: config.limit]
    started = time.time()
    assistant, checker = open_checker(settings, embedder, say)
    try:
        checked = check_cases(cases, checker)
        context = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": time.time() - started,
            "embed_seconds": checker.similarity.embed_seconds,
            "index_dir": str(settings.index_dir),
            "manifest": assistant.store.manifest,
            "settings": settings.public_dict(),
        }
    finally:
        assistant.close()
    records = [case_record(r) for r in checked]
    summary = summarize_run(config, score(checked), records, errors, context)
    config.out_dir.mkdir(parents=True, exist_ok=True)
    with (config.out_dir / "results.jsonl").open("w", encoding="utf-8") as sink:
        for record in records:
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    result = EvalResult(config, records, summary, config.out_dir, errors)
    if write:
        result.files = write_faithfulness_report(result)
    return result


if __name__ == "__main__":
    sys.exit("refitting the clause model moved: python -m rag.eval.refit --help")
