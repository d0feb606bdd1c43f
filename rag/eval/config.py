"""What a run evaluates (:class:`EvalConfig`) and what it produced (:class:`EvalResult`).

The runner, the summary and the report all import these from here, so they import one way:
runner -> summary, report -> config.

Example:
    >>> EvalConfig(Path("q.jsonl"), k=5).resolved().cutoffs()
    [1, 3, 5]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.retrieval.retriever import MODES

FORMATS = ("jsonl", "squad", "faithfulness", "model-answers")


@dataclass
class EvalConfig:
    """What to evaluate and how.

    Args:
        questions: The question file (JSONL), or a SQuAD-format JSON file with ``fmt="squad"``.
        fmt: ``auto`` (``.json``: squad, else jsonl), ``jsonl``, ``squad`` or ``faithfulness``
            (the claim checker on a detection set: :mod:`rag.eval.faithfulness`) or
            ``model-answers`` (the claim checker against hand labels of the model's real answers:
            :mod:`rag.eval.model_answers`).
        name: Name of the run (default: the file's stem); the default output is ``eval-out/<name>``.
        out_dir: Where the report goes.
        index_dir: Index of a converted SQuAD corpus or of ``corpus`` (default ``<out_dir>/index``).
        corpus: A JSONL corpus the questions are about (``--corpus``): indexed into
            ``index_dir`` before the run, as a SQuAD file's paragraphs are.
        modes: Retrieval modes to compare.
        k: Documents evaluated per mode (hit@1/3/5/k, MRR@k, nDCG@k).
        depth: Chunks retrieved per mode before folding them into documents (default 3*k).
        answers: Run the answer chain too (False: retrieval only).
        no_llm: Extractive answers without the LLM.
        limit: Evaluate only the first ``limit`` questions.
        split: Evaluate only the questions whose ``split`` field has this value.
        sample: Evaluate a fixed, seeded sample of this many questions (after ``split``).
        worst: Rows of the worst-misses table.
        near_misses: Ask every answerable question a second time with its gold documents
            hidden from retrieval: an unanswerable near miss (:mod:`rag.eval.near_miss`).
        resume: Keep the records already in ``<out_dir>/results.jsonl`` (same modes, answers
            if needed) and evaluate only the other questions.
        command: The command line, for the report and the expected-scores snippet.
    """

    questions: Path
    fmt: str = "auto"
    name: str | None = None
    out_dir: Path | None = None
    index_dir: Path | None = None
    corpus: Path | None = None
    modes: Sequence[str] = MODES
    k: int = 10
    depth: int | None = None
    answers: bool = True
    no_llm: bool = False
    limit: int | None = None
    split: str | None = None
    sample: int | None = None
    worst: int = 10
    near_misses: bool = False
    resume: bool = False
    command: str = ""

    def resolved(self) -> EvalConfig:
        """A copy with the defaults filled in (format, name, output dir, depth); validates."""
        from dataclasses import replace

        questions = Path(self.questions)
        fmt = self.fmt
        if fmt == "auto":
            fmt = "squad" if questions.suffix.lower() == ".json" else "jsonl"
        if fmt not in FORMATS:
            raise ValueError(f"format must be auto, {', '.join(FORMATS)}, not {self.fmt!r}")
        if fmt == "squad" and self.corpus is not None:
            raise ValueError("--corpus is for JSONL question files (a SQuAD file has its own)")
        bad = [m for m in self.modes if m not in MODES]
        if bad or not self.modes:
            raise ValueError(
                f"modes must be some of {', '.join(MODES)}, not {','.join(self.modes)!r}"
            )
        if self.k < 1:
            raise ValueError("k must be at least 1")
        name = self.name or questions.stem
        out = Path(self.out_dir) if self.out_dir else Path("eval-out") / name
        return replace(
            self,
            questions=questions,
            fmt=fmt,
            name=name,
            out_dir=out,
            modes=tuple(dict.fromkeys(self.modes)),
            depth=self.depth or 3 * self.k,
        )

    def cutoffs(self) -> list[int]:
        """The hit@/recall@ cutoffs: 1, 3, 5, 10 up to ``k``, and ``k``."""
        return sorted({c for c in (1, 3, 5, 10) if c <= self.k} | {self.k})


@dataclass
class EvalResult:
    """Everything a run produced: per-question records, the aggregate summary, and where it went."""

    config: EvalConfig
    records: list[dict[str, Any]]
    summary: dict[str, Any]
    out_dir: Path
    input_errors: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
