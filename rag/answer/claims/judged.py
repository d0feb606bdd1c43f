"""A point the passage files under the opposite judgement: a drawback given as an advantage.

Articles often list a method's merits and faults under labels ("优势: … 不足: …"). Asked "What
are the advantages of FM?", the model listed "…, linear time complexity, and lack of
consideration of higher-order features [1]": the last item is what the FM article lists under
"不足:". Each word of it is in the passage, so the clause passes every other rule, and the reader
is told a drawback is an advantage. A clause answering a question that asks for one judgement
(advantages, or drawbacks) whose evidence sentence comes under the other label (the nearest label
before it, within :data:`_NEAR` characters) is unsupported; one that names the other judgement
itself ("its drawback is…") says where it belongs and is left alone.

A section labelled with a name ("FM:Factorization Machines, 2010 … 优势: …") speaks of that
name too: asked "What is FFM?", the model answered "FFM … can be effective for sparse scenarios
[1]. It has linear time complexity…", the FM section's 优势 given to FFM, which the article only
introduces after it (:func:`filed_under_another_name`).

Example:
    >>> from rag.answer.claims.result import Clause
    >>> text = "FM 优势: 可以有效处理稀疏场景 不足: 没有考虑高阶特征的信息"
    >>> c = Clause("lack of higher-order features", 0, 0, 0, "supported", support=[1])
    >>> c.evidence_passage, c.evidence_start = 1, text.index("没有")
    >>> filed_under_the_other([c], [text], "What are the advantages of FM?")
    >>> c.status, c.reason
    ('unsupported', "[1] lists it under '不足'")
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.claims.names import is_strong_name, name_mentioned
from rag.answer.claims.remnants import pronoun_led
from rag.answer.claims.result import Clause
from rag.answer.claims.words import NORM_DROP

__all__ = ["filed_elsewhere", "filed_under_another_name", "filed_under_the_other"]

_GOOD = (
    r"优点|优势|好处|长处|(?i:\badvantages?\b|\bbenefits?\b|\bstrengths?\b|\bpros\b|\bmerits?\b)"
)
_BAD = (
    r"缺点|不足|弊端|劣势|坏处|缺陷|局限|(?i:\bdisadvantages?\b|\bdrawbacks?\b|\blimitations?\b|"
    r"\bweakness(?:es)?\b|\bshortcomings?\b|\bdownsides?\b|\bcons\b)"
)
# a label: the judgement word, then a colon ("优势:", "不足：", "Drawbacks:")
_LABEL = re.compile(rf"(?:({_GOOD})|({_BAD}))\s*[:：]")
_NEAR = 300  # characters from a label to the evidence it governs


def _asked(question: str) -> int | None:
    """1 when the question asks for advantages, 2 for drawbacks, None for neither or both."""
    good, bad = bool(re.search(_GOOD, question)), bool(re.search(_BAD, question))
    return None if good == bad else (1 if good else 2)


def filed_under_the_other(
    clauses: Sequence[Clause], passages: Sequence[str], question: str
) -> None:
    """Mark the supported clauses whose evidence the passage lists under the opposite label.

    Args:
        clauses: The answer's clauses, as judged.
        passages: The texts of the numbered passages (``[n]`` is ``passages[n-1]``).
        question: The (standalone) question.
    """
    asked = _asked(question)
    if asked is None:
        return
    other = _BAD if asked == 1 else _GOOD
    for clause in clauses:
        p = clause.evidence_passage
        if not clause.supported or not 1 <= p <= len(passages) or re.search(other, clause.text):
            continue
        text, at = passages[p - 1], clause.evidence_start
        labels = [m for m in _LABEL.finditer(text, max(0, at - _NEAR)) if m.start() <= at]
        if labels and labels[-1].lastindex != asked:
            clause.status, clause.support, clause.rule = "unsupported", [], "judgement"
            clause.reason = f"[{p}] lists it under '{labels[-1].group(labels[-1].lastindex)}'"


# a section label: a name, then a colon ("FM:Factorization Machines", "YOLOv3：")
_NAME_LABEL = re.compile(r"(?:^|(?<=[\s。.;；,，!！?？]))([A-Za-z][A-Za-z0-9-]*)\s*[:：]")
_LATIN_NAME = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9-]*")


def _norm(name: str) -> str:
    return NORM_DROP.sub("", name.lower())


def filed_under_another_name(
    clauses: Sequence[Clause], passages: Sequence[str], question: str
) -> None:
    """Mark the supported clauses about one name whose evidence lies in a section labelled with
    another, before the passage first mentions theirs.

    A clause is about the strong names it writes (FFM), or, led by a pronoun, about the
    question's one strong name ("It has linear time complexity" to "What is FFM?"). Its evidence
    sentence must not come after a name label ("FM:", opening the text or a sentence; not the
    title 《HiPPO: …》) within :data:`_NEAR` characters when the passage has not mentioned the
    clause's name by the evidence's end.

    Example:
        >>> text = "FM:Factorization Machines 优势: 具有线性时间复杂度 FFM 引入了 field 概念"
        >>> c = Clause("It has linear time complexity", 0, 0, 0, "supported", support=[1])
        >>> c.evidence_passage, c.evidence_start = 1, text.index("具有")
        >>> c.evidence_end = text.index(" FFM")
        >>> filed_under_another_name([c], [text], "What is FFM?")
        >>> c.status, c.reason
        ('unsupported', "[1] says it of 'FM'")
    """
    asked = [n for n in dict.fromkeys(_LATIN_NAME.findall(question)) if is_strong_name(n)]
    for clause in clauses:
        p = clause.evidence_passage
        if not clause.supported or not 1 <= p <= len(passages):
            continue
        own = [n for n in _LATIN_NAME.findall(clause.text) if is_strong_name(n)]
        names = own or (asked if len(asked) == 1 and pronoun_led(clause.text) else [])
        text, at = passages[p - 1], clause.evidence_start
        labels = [
            m
            for m in _NAME_LABEL.finditer(text, max(0, at - _NEAR))
            if m.start() <= at and is_strong_name(m.group(1))
        ]
        if not names or not labels:
            continue
        label = labels[-1].group(1)
        span = text[: max(clause.evidence_end, at)]  # (the name unmentioned up to here)
        low = span.lower()
        if any(
            _norm(n) == _norm(label) or name_mentioned(_norm(n), _norm(span), low) for n in names
        ):
            continue
        clause.status, clause.support, clause.rule = "unsupported", [], "name"
        clause.reason = f"[{p}] says it of '{label}'"


def filed_elsewhere(clauses: Sequence[Clause], passages: Sequence[str], question: str) -> None:
    """:func:`filed_under_the_other` and :func:`filed_under_another_name`."""
    filed_under_the_other(clauses, passages, question)
    filed_under_another_name(clauses, passages, question)
