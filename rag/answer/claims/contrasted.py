"""A name the evidence brings up only to contrast with: "Anchor-free 检测器的代表模型包括 Faster
RCNN" over "Anchorfree … 与传统的使用锚框的方法(例如Faster RCNN)不同".

Every word of such a clause is in its evidence sentence, and the sentence is about the clause's
subject, so the words and the e5 similarity both pass it; only the relation is turned around.
A clause that contrasts too ("不同于 Faster RCNN", "unlike Faster RCNN"), or compares, says what
the evidence says and is left to the other checks.

Example:
    >>> ev = '"Anchorfree"是一种目标检测方法,与传统的使用锚框的方法(例如Faster RCNN)不同。'
    >>> contrasted_name("Anchor-free 目标检测器代表模型包括 Faster RCNN", ev)
    'Faster RCNN'
    >>> contrasted_name("Anchor-free 方法与 Faster RCNN 等使用锚框的方法不同", ev) is None
    True
    >>> contrasted_name("文章拿 Faster RCNN 作为基于锚框的传统方法的例子", ev) is None
    True
    >>> contrasted_name("YOLO 是一种 anchor-free 方法", "YOLO 不同于 Faster RCNN") is None
    True
"""

from __future__ import annotations

import re

from rag.answer.claims.direction import is_model_name
from rag.answer.claims.words import CJK

__all__ = ["contrasted_name"]

_NAME = re.compile(
    r"[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*(?: [A-Z][A-Za-z0-9]*)*|[a-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*"
)
# where a text sets a name apart: "与 … X … 不同", "不同于 X", "unlike X", "rather than X"
_SPANS = (
    re.compile(r"(?:与|和|跟|同)[^，。；,;!?！？]{0,40}?(?:不同|有别|有区别|不一样|相反)"),
    re.compile(
        r"(?:不同于|区别于|有别于|而非|而不是|不像|"
        r"\b(?:unlike|rather than|instead of|as opposed to|in contrast to|different from)\b)"
        r"[^，。；,;!?！？]{0,40}",
        re.IGNORECASE,
    ),
)
# a clause that contrasts or compares itself
_OWN = re.compile(
    r"不同|区别|有别|不像|而非|不是|不如|相反|相比|比|对比|"
    r"\b(?:unlike|rather|instead|opposed|contrast|differ\w*|not|than|compared?)\b",
    re.IGNORECASE,
)


def _places(name: str, text: str) -> list[int]:
    """Where ``name`` is in ``text``, written with or without its hyphens and spaces."""
    pattern = r"[-\s]?".join(map(re.escape, re.sub(r"[-\s]", "", name)))
    pattern = rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])"
    return [m.start() for m in re.finditer(pattern, text, re.IGNORECASE)]


def contrasted_name(clause: str, evidence: str) -> str | None:
    """A name of ``clause`` that ``evidence`` mentions only inside a contrast, when the clause
    also names what the evidence sets it apart from (a name the evidence has outside the
    contrast: "Anchorfree") and neither contrasts nor compares itself; else None. ("文章拿
    Faster RCNN 作为基于锚框的方法的例子" says what the contrast says of it.)"""
    if _OWN.search(clause):
        return None
    spans = [m.span() for rx in _SPANS for m in rx.finditer(evidence)]
    if not spans:
        return None

    def inside(i: int) -> bool:
        return any(s <= i < e for s, e in spans)

    chinese = bool(CJK.search(clause))
    names = [
        m.group(0).strip()
        for m in _NAME.finditer(clause)
        if is_model_name(m.group(0))
        or (m.group(0)[0].isupper() and (chinese or m.start() > 0 or "-" in m.group(0)))
    ]
    names = list(dict.fromkeys(names))
    apart = [
        n
        for n in names
        if is_model_name(n) and (at := _places(n, evidence)) and all(map(inside, at))
    ]
    subjects = [n for n in names if n not in apart and not all(map(inside, _places(n, evidence)))]
    return apart[0] if apart and subjects else None
