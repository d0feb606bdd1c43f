"""Yes/no questions and the answers that only say yes or no.

A yes/no question ("FM 还能给出合理的估计吗?", "Does DDIM need retraining?") is answered by a clause
that repeats it, so such an answer is not a mere restatement; a bare "不是 [1]。" says the question's
proposition and is judged on the question's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.claims.clauses import Parsed, is_polarity_only
from rag.answer.claims.result import Clause

__all__ = [
    "YES_NO",
    "asked_not_said",
    "bare_yes_no",
    "is_denial",
    "is_polar",
    "polar_answers",
    "yes_no_to_no_yes_no_question",
]

YES_NO = re.compile(
    r"^\W*(?:是|不是|对|不对|不|否|可以|能|不能|会|不会|(?:yes|no)\b)", re.IGNORECASE
)
_POLAR_ZH = re.compile(
    r"(?:吗|(?<![什怎多])么)\s*[?？]?\s*$|是否|是不是|能不能|会不会|有没有|可不可以|对不对|要不要|"
    r"([\u4e00-\u9fff])不\1"  # A-not-A: 需不需要, 用不用
)
_POLAR_EN = re.compile(
    r"^\W*(?:is|are|was|were|do|does|did|can|could|should|will|would|has|have|had|may|might|must)\b",
    re.IGNORECASE,
)


def is_polar(question: str) -> bool:
    """A yes/no question: an answer that repeats it ("FM 能给出合理的估计") does answer it.

    Example:
        >>> is_polar("FM 还能给出合理的估计吗?"), is_polar("Does DDIM need retraining?")
        (True, True)
        >>> is_polar("DPO 为什么不需要奖励模型?"), is_polar("这是为什么?"), is_polar("Why is it?")
        (False, False, False)
        >>> is_polar("DDIM 需不需要重新训练?"), is_polar("它比标准 attention 快多少?")
        (True, False)
    """
    return bool(_POLAR_ZH.search(question) or _POLAR_EN.match(question))


_DENIAL = re.compile(r"^\W*(?:不|否|没|no\b)", re.IGNORECASE)


def is_denial(clause: str) -> bool:
    """A bare yes/no clause that says no.

    Example:
        >>> is_denial("不是 [1]"), is_denial("No, it doesn't."), is_denial("是的"), is_denial("Not")
        (True, True, False, False)
    """
    return bool(_DENIAL.match(clause))


def bare_yes_no(parsed: Parsed, question: str) -> list[int]:
    """Clauses that are a whole sentence saying only yes or no, when there is a question.

    Example:
        >>> from rag.answer.claims.clauses import parse_answer
        >>> [i for i in bare_yes_no(parse_answer("不是 [1]。", 1), "要重新训练吗?")]
        [0]
        >>> bare_yes_no(parse_answer("不是。它复用 DDPM 的模型 [1]。", 1), "要重新训练吗?")
        []
    """
    if not question.strip():
        return []
    return [
        lay.clauses[0]
        for lay in parsed.sentences
        if len(lay.clauses) == 1 and is_polarity_only(parsed.clauses[lay.clauses[0]].text)
    ]


def yes_no_to_no_yes_no_question(bare: list[Clause], question: str) -> None:
    """Remove the bare yes/no clauses (:func:`bare_yes_no`) when the question asks no yes or
    no: "是 [1]。" to "它比标准 attention 快多少?" answers nothing."""
    if is_polar(question):
        return
    for clause in bare:
        clause.status, clause.support = "unsupported", []
        clause.reason = "a yes or no, and the question asks no yes/no"


# a clause that says no, or negates: what a passage's question presupposes may answer it
_NEGATES = re.compile(r"\b(?:not|no|never|neither|nor)\b|n't\b|不|没|无|非|未", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[。！!？?])\s*")


def asked_not_said(clauses: Sequence[Clause], question: str) -> None:
    """Remove a yes to a yes/no question whose only evidence is a question of the passage.

    "Is ReLU still used in the latest LLMs?" was answered "Yes, ReLU is still used in the
    latest LLMs ("曾经优秀的 ReLUs 怎么了") [1]." over an article that asks "曾经优秀的 ReLUs
    怎么了,以及是什么促使最新的大型语言模型(LLMs)的创造者们开始使用不同的(更高级的)激活函数?":
    every word of the clause is the question's, and the sentence that holds them asks, it does
    not say. A clause that says no or negates is left alone (what the passage's question takes
    for granted may answer it: "…开始使用不同的激活函数?").

    Example:
        >>> c = Clause("Yes, ReLU is still used", 0, 0, 0, "supported", support=[1])
        >>> c.evidence, c.evidence_passage = "曾经优秀的 ReLUs 怎么了?", 1
        >>> asked_not_said([c], "Is ReLU still used?")
        >>> c.status, c.reason
        ('unsupported', '[1] only asks it')
    """
    if not is_polar(question):
        return
    for c in clauses:
        if not c.supported or not c.evidence.strip() or _NEGATES.search(c.text):
            continue
        pieces = [x for x in _SENTENCE_END.split(c.evidence.strip()) if x.strip()]
        if pieces and all(x.rstrip().endswith(("?", "？")) for x in pieces):
            c.status, c.support = "unsupported", []
            c.reason = f"[{c.evidence_passage}] only asks it"


def polar_answers(clauses: Sequence[Clause], bare: Sequence[int], question: str) -> None:
    """The yes/no rules of a checked answer: :func:`yes_no_to_no_yes_no_question` on the bare
    yes/no clauses (indices ``bare``), :func:`asked_not_said` on every clause."""
    yes_no_to_no_yes_no_question([clauses[i] for i in bare], question)
    asked_not_said(clauses, question)
