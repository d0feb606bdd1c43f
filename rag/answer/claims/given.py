"""What a clause says beyond its question: the question's own words, names and negations are
not the answer's claims (:func:`given_by_question`, used by :mod:`rag.answer.claims.check`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection

from rag.answer.claims.names import expansion_of
from rag.answer.claims.negation import en_negations
from rag.answer.claims.numbers import Number
from rag.answer.claims.polar import YES_NO
from rag.answer.claims.result import Clause
from rag.answer.claims.units import ClauseInfo
from rag.answer.claims.words import CITE, CJK, stems_of

__all__ = ["fills_asked_figure", "given_by_question", "restates_question"]


def given_by_question(
    info: ClauseInfo,
    question: str,
    in_passages: Callable[[str], bool] | None = None,
    question_zh: Collection[str] = (),
) -> ClauseInfo:
    """``info`` without the content words and names the question already has.

    ``question_zh`` are the Chinese renderings of an English question's words: a Chinese word
    of the clause inside one of them is the question's word too ('It is the receptive field
    ("感受野")' after "What is the receptive field?" adds nothing).

    A name of the question that no passage has (``in_passages`` False for its normalised
    form) stays a claim: "PPO 的 epsilon 一般取 …" over passages that never mention PPO is not
    about what they say, whoever named PPO first.

    A clause's claims are what it adds to the question: "DDIM 是靠放弃马尔可夫假设来加快采样的" only
    claims 马尔可夫假设 when the question was "DDIM 是靠放弃什么假设来加快采样的?". Numbers stay:
    a figure must come from the passages whoever wrote it first, but for a numeral that opens a
    name the question has (五月艾: no figure 5).

    Example:
        >>> from rag.answer.claims.units import Unit
        >>> info = ClauseInfo("靠放弃马尔可夫假设来加快", False, [], [], [
        ...     Unit("zh", "放弃", 1.0, "放弃"), Unit("zh", "马尔可夫", 1.0, "马尔可夫")], False, [])
        >>> [u.key for u in given_by_question(info, "DDIM 是靠放弃什么假设来加快采样的?").units]
        ['马尔可夫']
    """
    if not question:
        return info
    low = question.lower()
    forms = stems_of(question)  # every form of the question's English words (run ~ runs)
    spelled = _spelled_out(question, info.text)
    units = [
        u
        for u in info.units
        if u.surface.lower() not in low
        and u.surface.lower() not in spelled
        and u.key.lower() not in low
        and not (u.kind == "en" and forms.intersection(u.subterms))
        and not (u.kind == "zh" and any(u.surface in z for z in question_zh))
    ]
    names = [
        n
        for n in info.names
        if n[0].lower() not in low or (in_passages is not None and not in_passages(n[1]))
    ]
    # a negation the question already makes ("不使用锚框的检测方法...") is not the answer's claim
    preds = [
        p
        for p in info.neg_preds
        if not re.search(
            f"(?:不|没有|没|无需|无法|未|非)[^，。,.?？!！]{{0,4}}{re.escape(p)}", question
        )
    ]
    negated = info.negated and (bool(preds) or not info.neg_preds)
    if negated and info.english:
        # the same for English: each of the clause's negations is the question's, and so are
        # the words they negate ("Because DDP uses processes instead of threads" after "Why
        # does DDP use processes instead of threads?")
        asked = {m.group(0).lower() for m in en_negations(question)}
        negated = not (
            all(m.group(0).lower() in asked for m in en_negations(info.text))
            and all(u.surface.lower() in low or u.key.lower() in low for u in info.neg_scope)
        )
    numbers = [n for n in info.numbers if not _in_a_name_of(question, n, info.text)]
    return dataclasses.replace(
        info, units=units, names=names, neg_preds=preds, negated=negated, numbers=numbers
    )


_ACRONYM = re.compile(r"(?<![A-Za-z])[A-Z]{2,6}(?![A-Za-z])")
# a question asking what an acronym stands for is answered by its expansion
_ASKS_EXPANSION = re.compile(
    r"全称|全名|缩写|代表什么|\bstand(?:s)? for\b|\bfull (?:name|form)\b|\bshort for\b|\babbreviat",
    re.IGNORECASE,
)


def _spelled_out(question: str, text: str) -> set[str]:
    """The words of ``text`` that spell out an acronym of the question ("direct preference
    optimization" for DPO): the question's name again, unless it asks what the name stands for.

    >>> sorted(_spelled_out("What optimizer does DPO use?", "DPO uses a direct preference optimization optimizer"))
    ['direct', 'optimization', 'preference']
    >>> _spelled_out("What does DPO stand for?", "DPO stands for Direct Preference Optimization")
    set()
    """
    if _ASKS_EXPANSION.search(question):
        return set()
    return {w.lower() for a in _ACRONYM.findall(question) for w in expansion_of(a, text)}


def _in_a_name_of(question: str, number: Number, text: str) -> bool:
    """A lone numeral opening a word of the question's (五月艾, 四加亭, 三板斧): part of a name
    the question gives, not a figure of the answer.

    >>> from rag.answer.claims.numbers import numbers_in
    >>> n = numbers_in("五月艾分布于越南")[0]
    >>> _in_a_name_of("五月艾分布在哪些地区?", n, "五月艾分布于越南")
    True
    >>> _in_a_name_of("这种植物分布在哪些地区?", n, "五月艾分布于越南")
    False
    """
    if len(number.surface) != 1 or number.counter:
        return False
    for m in re.finditer(re.escape(number.surface), text):
        word = text[m.start() : m.start() + 3]
        if len(word) == 3 and CJK.match(word[1]) and word in question:
            return True
    return False


def restates_question(clause: Clause, given: ClauseInfo) -> bool:
    """The clause adds nothing to the question: no figure, name, word or negation of its own.

    Example:
        >>> from rag.answer.claims.units import ClauseInfo
        >>> restates_question(Clause("DPO 不需要单独训练奖励模型", 0, 15, 0),
        ...           ClauseInfo("DPO 不需要单独训练奖励模型", False, [], [], [], False, []))
        True
        >>> restates_question(Clause("Yes, it does", 0, 12, 0),
        ...           ClauseInfo("Yes, it does", True, [], [], [], False, []))
        False
    """
    if given.units or given.names or given.numbers or given.negated:
        return False
    return not YES_NO.match(clause.text)


# a question asking for a figure, and a figure: digits, or a lone capital (N of "N 张显卡")
_ASKS_FIGURE = re.compile(
    r"多少|几[个位种步次年天层倍块台份张条项名家所座]|(?i:\bhow (?:many|much)\b)"
)
_FIGURE = re.compile(r"\d+(?:\.\d+)?|(?<![A-Za-z0-9_\-/])[A-Z](?![A-Za-z0-9_'\-/])")


def fills_asked_figure(question: str, text: str) -> bool:
    """The question asks for a figure and ``text`` says more figures than the question: the
    question's own figure given as its answer is no restatement.

    Example:
        >>> q = "在 DDP 模式下,有 N 张显卡时会启动多少个进程?"
        >>> fills_asked_figure(q, "有 N 张显卡时会启动 N 个进程 [1]。")
        True
        >>> fills_asked_figure(q, "有 N 张显卡时会启动多少个进程 [1]。")
        False
    """
    if not _ASKS_FIGURE.search(question):
        return False
    said = CITE.sub("", text)  # not the citations
    return len(_FIGURE.findall(said)) > len(_FIGURE.findall(question))
