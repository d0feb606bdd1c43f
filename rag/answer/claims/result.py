"""What the check returns: every clause with its verdict, and the cleaned answer.

:meth:`CheckedAnswer.to_dict` is what ``rag ask --json`` and the eval records show; the chain
reads :attr:`CheckedAnswer.text`, :attr:`~CheckedAnswer.cited`, :attr:`~CheckedAnswer.notice`
and :attr:`~CheckedAnswer.empty`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CheckedAnswer", "Clause"]


@dataclass
class Clause:
    """One clause of the answer and its verdict.

    Attributes:
        text: The clause as written (citations removed).
        start, end: Offsets into the answer.
        sentence: Index of the answer sentence it belongs to.
        status: ``"supported"`` or ``"unsupported"``.
        cited: Passage numbers the answer gave it.
        support: Passage numbers that support it (after repair; empty when unsupported).
        evidence_passage: 1-based number of the best evidence passage (0 when none).
        evidence_start, evidence_end: Offsets of the evidence sentence in that passage's text.
        evidence: The evidence sentence.
        score: Probability of support from the calibrated model (0 when a rule failed).
        similarity: e5 similarity with the evidence sentence (None when not computed).
        reason: Why it is unsupported (empty when supported).
        rule: The rule that decided it (``number``, ``name``, ``negation``, ``comparison``,
            ``antonym``, ``without``…); of a supported clause, ``without`` when its evidence is
            the sentence saying its name does without what it denies.
        lang: ``zh`` or ``en``: which half of the model scored it (the sentence's language).
        features: The model's inputs for the best evidence sentence.
    """

    text: str
    start: int
    end: int
    sentence: int
    status: str = "supported"
    cited: list[int] = field(default_factory=list)
    support: list[int] = field(default_factory=list)
    evidence_passage: int = 0
    evidence_start: int = 0
    evidence_end: int = 0
    evidence: str = ""
    score: float = 0.0
    similarity: float | None = None
    reason: str = ""
    rule: str = ""
    lang: str = ""
    features: dict[str, float] = field(default_factory=dict)

    @property
    def supported(self) -> bool:
        return self.status == "supported"

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["features"] = {k: round(v, 4) for k, v in self.features.items()}
        return d

    def verdict(self) -> dict[str, Any]:
        """The clause's verdict as :attr:`rag.schema.Answer.claims` lists it."""
        return {
            "text": self.text,
            "sentence": self.sentence,
            "status": self.status,
            "cited": list(self.cited),
            "support": list(self.support),
            "reason": self.reason,
        }


@dataclass
class CheckedAnswer:
    """The verified answer.

    Attributes:
        text: Cleaned answer: unsupported clauses removed, citations repaired. ``""`` when
            nothing supported is left (see :attr:`empty`): fall back to the extractive answer.
        clauses: Every clause with its verdict.
        removed: The unsupported clauses.
        cited: Passage numbers cited in ``text``, in order of first citation.
        dropped_numbers: Citation numbers that name no passage.
        abstained: The model said the passages do not answer the question.
        notice: One line naming what was dropped, or None.
        support: Share of clauses supported (1.0 for an abstention).
        restated: Every clause kept only repeats the question (no figure, name, word or
            negation of its own, no yes/no): the model did not answer.
    """

    text: str
    clauses: list[Clause] = field(default_factory=list)
    removed: list[Clause] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    dropped_numbers: list[int] = field(default_factory=list)
    abstained: bool = False
    notice: str | None = None
    support: float = 1.0
    restated: bool = False

    @property
    def empty(self) -> bool:
        """True when no supported content is left (the chain should answer extractively)."""
        return not self.abstained and not self.text.strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "clauses": [c.to_dict() for c in self.clauses],
            "unsupported": [{"text": c.text, "reason": c.reason} for c in self.removed],
            "cited": self.cited,
            "dropped_numbers": self.dropped_numbers,
            "abstained": self.abstained,
            "notice": self.notice,
            "support": self.support,
        }
