"""Yes/no questions and the answers that only say yes or no.

A yes/no question ("FM 还能给出合理的估计吗?", "Does DDIM need retraining?") is answered by a clause
that repeats it, so such an answer is not a mere restatement; a bare "不是 [1]。" says the question's
proposition and is judged on the question's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.claims.clauses import Parsed, is_polarity_only
from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.negation import EN_NEG, neg_mismatch, zh_negations
from rag.answer.claims.result import Clause
from rag.answer.claims.support import negated_yes
from rag.answer.claims.units import Candidate, ClauseInfo

__all__ = [
    "YES_NO",
    "asked_not_said",
    "bare_yes_no",
    "denied_unsaid",
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


# what may say no, or only: a negation, a restriction (只能处理数值数据), a replacement (而是)
_SAYS_NO = re.compile(
    EN_NEG.pattern + r"|\b(?:only|instead|rather|replace[sd]?|unnecessary)\b"
    r"|只|仅|唯一|而是|取代|替代|代替|代之|免去|省去|去掉|摆脱|跳过|避免|放弃",
    re.IGNORECASE,
)


_ABOUT = 0.6  # share of a clause's words a sentence holds to be about it


def denied_unsaid(
    lex: Lexicon,
    clauses: Sequence[Clause],
    infos: Sequence[ClauseInfo],
    full: Sequence[ClauseInfo],
    question: str,
) -> None:
    """Remove a no to a yes/no question that claims nothing but the no, over evidence that
    says no in no way, when a passage says yes.

    "Does the image pyramid approach require extracting features several times?" was answered
    "No, the image pyramid approach does not require extracting features several times [1]."
    from "这一类方法的思想是直接在feature层面上来近似image pyramid" (of the feature pyramid),
    while the image pyramid's passage says "但仍需要做多个特征提取". Every word of the clause is
    the question's: its only claim is the negation. Evidence with a negation, a restriction (只,
    only) or a replacement (而是, instead) may make it; evidence that only implies it ("No, DDIM
    doesn't need to retrain the model" over "DDPM模型中,也隐含了一个确定性的采样过程DDIM") stands
    unless a passage states what the clause denies (the negation rule's test, :func:`neg_mismatch`).
    A clause with a word of its own ("No, DDP uses processes") is judged on that word as before.

    Example:
        >>> from rag.answer.claims.units import Candidate, ClauseInfo
        >>> c = Clause("it does not require it", 0, 0, 0, "supported", support=[1])
        >>> c.evidence, c.evidence_passage = "直接在feature层面上来近似", 1
        >>> info = ClauseInfo(c.text, True, [], [], [], True, [])
        >>> denied_unsaid(None, [c], [info], [info], "What is it?")  # no yes/no question: no rule
        >>> c.status
        'supported'
    """
    if not is_polar(question):
        return
    for i, (c, info) in enumerate(zip(clauses, infos, strict=False)):
        if not c.supported or not info.negated or info.denied or not c.evidence.strip():
            continue
        if info.units or info.names or info.numbers:
            continue
        if zh_negations(c.evidence) or _SAYS_NO.search(c.evidence):
            continue
        # a sentence about the clause (most of its words) that states what it denies
        about = [(o, _held(lex, full[i], o)) for o in lex.cands]
        said = max(
            (
                x
                for x in about
                if x[1] >= _ABOUT and neg_mismatch(info, x[0], lex.renderings, lex.tok)
            ),
            key=lambda x: x[1],
            default=(None, 0.0),
        )[0]
        if said is not None:
            # (rule "affirmed": the chain shows the sentence that says what the clause denies)
            c.status, c.support, c.rule = "unsupported", [], "affirmed"
            c.reason = f"negation not in the source [{said.passage + 1}]"
            c.evidence_passage, c.evidence = said.passage + 1, said.text
            c.evidence_start, c.evidence_end = said.start, said.end


def _held(lex: Lexicon, info: ClauseInfo, c: Candidate) -> float:
    """Share (by weight) of the clause's content words that candidate ``c`` holds."""
    total = sum(u.weight for u in info.units)
    if not total:
        return 0.0
    return sum(u.weight for u in info.units if lex.unit_score(u, c) >= 0.5) / total


def polar_answers(
    lex: Lexicon,
    clauses: Sequence[Clause],
    infos: Sequence[ClauseInfo],
    full: Sequence[ClauseInfo],
    negated: dict[int, Clause],
    bare: Sequence[int],
    question: str,
) -> None:
    """The yes/no rules of a checked answer: a yes the passages negate (``negated``: clause ->
    its question judged again, :func:`negated_yes`), a bare yes or no (indices ``bare``) to a
    question that asks none (:func:`yes_no_to_no_yes_no_question`), a yes only a passage's
    question holds (:func:`asked_not_said`), a no that claims nothing else and no evidence says
    (:func:`denied_unsaid`; ``infos``: what each clause claims beyond its question, ``full``:
    on all its words)."""
    for i, again in negated.items():
        negated_yes(clauses[i], again)
    yes_no_to_no_yes_no_question([clauses[i] for i in bare], question)
    asked_not_said(clauses, question)
    denied_unsaid(lex, clauses, infos, full, question)
