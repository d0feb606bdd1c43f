"""A list answer with one item swapped: the passage lists the same number of items, all but one.

Asked "重排的一般方法分为哪三个方面?", the model answered "精排、关注序和上下文、特殊需求重排 [1]"
over "本文从“更加精准打分”、“关注序和上下文”、“特殊需求重排”三方面梳理重排的一般方法". Every word of
the clause is in the passage (精排 is the article's subject), so the clause passes every other rule,
and the reader is told the first aspect is 精排. A Chinese clause that enumerates three or more
items (``、``) over an evidence sentence enumerating as many, all of them but one found in that
list, is unsupported when its odd item shares no two characters with the list's odd item (a
rewording, "更精准的打分", shares 精准; a different thing, 精排, shares nothing).

Example:
    >>> from rag.answer.claims.result import Clause
    >>> ev = "本文从“更加精准打分”、“关注序和上下文”、“特殊需求重排”三方面梳理重排的一般方法"
    >>> c = Clause("精排、关注序和上下文、特殊需求重排", 0, 0, 0, "supported", support=[1])
    >>> c.evidence_passage, c.evidence = 1, ev
    >>> item_swapped([c])
    >>> c.status, c.reason
    ('unsupported', "'精排' where [1] lists '更加精准打分'")
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.claims.result import Clause
from rag.answer.claims.words import CJK

__all__ = ["item_swapped", "swapped_item"]

_SEGMENT = re.compile(r"[，,。；;：:！？!?\n()（）]")
_QUOTED = re.compile(r"[“\"「『]([^”\"」』]+)[”\"」』]")
_EDGE = re.compile(r"^\W+|\W+$")


def _items(segment: str) -> list[str]:
    """The items of one enumeration (``、``), each its quoted words when it quotes them."""
    out = []
    for raw in segment.split("、"):
        quoted = _QUOTED.search(raw)
        item = quoted.group(1) if quoted else raw
        out.append(_EDGE.sub("", item.strip()))
    return out


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _matches(a: str, e: str) -> bool:
    return bool(a and e) and (a in e or e in a)


def swapped_item(clause: str, evidence: str) -> tuple[str, str] | None:
    """(the clause's item, the evidence's) when the evidence lists as many items as the clause,
    all but that one found there, and the two odd items share no two characters; else None.

    Example:
        >>> swapped_item("A、更精准的打分、C", "从“更加精准打分”、“A”、“C”三方面") is None
        True
        >>> swapped_item("甲乙、丙丁、戊己", "它列出了“甲乙”、“丙丁”、“庚辛”三项")
        ('戊己', '庚辛')
    """
    mine = _items(clause)
    if len(mine) < 3 or not all(mine) or not CJK.search(clause):
        return None
    for segment in _SEGMENT.split(evidence):
        listed = _items(segment)
        if len(listed) != len(mine) or not all(listed):
            continue
        left = list(listed)
        odd = []
        for a in mine:
            hit = next((e for e in left if _matches(a, e)), None)
            if hit is None:
                odd.append(a)
            else:
                left.remove(hit)
        if len(odd) == 1 and len(left) == 1 and not _bigrams(odd[0]) & _bigrams(left[0]):
            return odd[0], left[0]
    return None


def item_swapped(clauses: Sequence[Clause]) -> None:
    """Mark the supported clauses whose list swaps one item of their evidence sentence's list.

    Args:
        clauses: The answer's clauses, as judged (``evidence`` is the evidence sentence).
    """
    for clause in clauses:
        if not clause.supported or not clause.evidence:
            continue
        swap = swapped_item(clause.text, clause.evidence)
        if swap:
            clause.status, clause.support, clause.rule = "unsupported", [], "list"
            clause.reason = f"'{swap[0]}' where [{clause.evidence_passage}] lists '{swap[1]}'"
