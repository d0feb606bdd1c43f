"""A name given what the evidence says of another name: "S4 是 SSM 的最新最火的变体" over
"一般认为其开篇之作是2021年的 S4,而SSM最新最火的变体大概是Mamba".

Every word of such a clause is in its evidence sentence (S4, SSM, 最新最火的变体), so the words
and the e5 similarity both pass it; only who the predicate belongs to is swapped. The evidence
clause that holds the predicate names someone else across its copula (Mamba) and not the
clause's subject, which the sentence mentions elsewhere (S4, the first work).

Example:
    >>> ev = "一般认为其开篇之作是2021年的 S4,而SSM最新最火的变体大概是Mamba。"
    >>> attributed_to_another("S4 是 SSM 的最新最火的变体", ev)
    ('S4', 'Mamba')
    >>> attributed_to_another("Mamba 是 SSM 最新最火的变体", ev) is None
    True
    >>> attributed_to_another("S4 是 SSM 的开篇之作", ev) is None
    True
"""

from __future__ import annotations

import re

from rag.answer.claims.names import CLAUSE_SEGMENT, latin_names
from rag.answer.claims.words import CJK, CJK_RUN, NORM_DROP

__all__ = ["attributed_to_another"]

_COPULA = re.compile(r"是|即")
_FILLER = re.compile(r"的|一个|一种|之一")
_MIN_PREDICATE = 4  # CJK characters of the predicate (not "DDPM 的加速")
_SHARE = 0.75  # of the predicate's character pairs in one evidence clause


def _norm(name: str) -> str:
    return NORM_DROP.sub("", name.lower())


def _pairs(text: str) -> set[str]:
    runs = CJK_RUN.findall(_FILLER.sub(" ", text))
    return {r[i : i + 2] for r in runs for i in range(len(r) - 1)}


def attributed_to_another(clause: str, evidence: str) -> tuple[str, str] | None:
    """(A, C) when a Chinese ``clause`` says name A is something that ``evidence`` says name C
    is, in an evidence clause that does not name A (A is elsewhere in the evidence); else None.

    Args:
        clause: One clause of the answer ("S4 是 SSM 的最新最火的变体").
        evidence: The evidence sentence(s) it rests on.

    Returns:
        The clause's name and the evidence's name for the predicate, or None.
    """
    if not CJK.search(clause):
        return None
    cut = _COPULA.search(clause)
    if cut is None:
        return None
    subjects = latin_names(clause[: cut.start()])
    predicate = clause[cut.end() :]
    pairs = _pairs(predicate)
    if not subjects or sum(len(p) for p in pairs) < 2 * (_MIN_PREDICATE - 1):
        return None
    a = subjects[-1]
    in_clause = {_norm(n) for n in latin_names(clause)}
    segments = [s for s in CLAUSE_SEGMENT.split(evidence) if s.strip()]
    if not any(_norm(a) in _norm(s) for s in segments):
        return None  # not mentioned at all: the name checks speak of that
    for seg in segments:
        if len(pairs & _pairs(seg)) < _SHARE * len(pairs) or _norm(a) in _norm(seg):
            continue
        link = _COPULA.search(seg)
        if link is None:
            continue
        before, after = seg[: link.start()], seg[link.end() :]
        # the predicate on one side of the copula, another name on the other
        for side, other in ((before, after), (after, before)):
            if len(pairs & _pairs(side)) >= _SHARE * len(pairs):
                others = [n for n in latin_names(other) if _norm(n) not in in_clause]
                if others:
                    return a, others[0]
    return None
