"""What a clause says beyond its question: the question's own words, names and negations are
not the answer's claims (:func:`given_by_question`, used by :mod:`rag.answer.claims.check`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection

from rag.answer.claims.negation import en_negations
from rag.answer.claims.units import ClauseInfo
from rag.answer.claims.words import stems_of

__all__ = ["given_by_question"]


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
    a figure must come from the passages whoever wrote it first.

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
    units = [
        u
        for u in info.units
        if u.surface.lower() not in low
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
    return dataclasses.replace(info, units=units, names=names, neg_preds=preds, negated=negated)
