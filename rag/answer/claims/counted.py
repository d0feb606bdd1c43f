"""What a figure counts: an English clause's "37B experts" against a source's "37B 个参数".

The number rule checks that a clause's figures are in its evidence; it does not check what they
count. The small model moves a figure to another noun: "Each token is routed to 37B experts"
over "每个 token 会激活 37B 个参数" (parameters), "671B tokens of training data" over "总参数量
达到 671B". Here, when the evidence (Chinese) has the figure followed by a noun, one of the
clause's words after the figure (up to the next punctuation) must be that noun or render as it.
A figure the evidence follows with no noun ("达到 671B,") or writes differently is left to the
number rule.

Example:
    >>> renders = {"experts": {"专家"}, "parameters": {"参数"}}.get
    >>> counted_unmet("routed to 37B experts", "每个 token 会激活 37B 个参数。", renders)
    ('37B experts', '37B 个参数')
    >>> counted_unmet("activates 37B parameters", "会激活 37B 个参数。", renders) is None
    True
    >>> counted_unmet("of which 37B are activated", "会激活 37B 个参数。", renders) is None
    True

A Chinese clause is held to the same (:func:`counted_unmet_zh`): "DeepSeek-V3 的 MoE 有 37B 个路由
专家" over "每个 token 会激活 37B 个参数".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from rag.answer.claims.words import CJK, EN_EXTRA_STOP, EN_STOP

__all__ = ["counted_unmet", "counted_unmet_zh"]

# a figure with a magnitude or a unit letter (37B, 2.8B, 400M, 1.5万): plain small integers are
# too common ("2 stages" / "两个阶段") to pin to the word after them
_FIGURE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?\s?(?:[BMKbmk]|万|亿|千))(?![\w])")
_AFTER = re.compile(r"[\s个]*([\u3400-\u9fff]{2,6})")  # the noun after a figure in Chinese
_EN_WORDS = re.compile(r"[A-Za-z]+")
_CLAUSE_END = re.compile(r"[,.;:()\[\]，。；：（）]")

Renderings = Callable[[str], Iterable[str] | None]


def counted_unmet(clause: str, evidence: str, renderings: Renderings) -> tuple[str, str] | None:
    """``(what the clause counts, what the evidence counts)`` when they differ, else None.

    Args:
        clause: An English clause.
        evidence: The evidence sentence (only Chinese evidence is judged).
        renderings: English word -> its Chinese renderings (None or empty when unknown).
    """
    if not CJK.search(evidence):
        return None
    for m in _FIGURE.finditer(clause):
        figure = re.sub(r"\s", "", m.group(1))
        tail = _CLAUSE_END.split(clause[m.end() :], maxsplit=1)[0]
        words = []  # the words right after the figure, up to the first stop word ("37B experts";
        for w in _EN_WORDS.findall(tail):  # not "of which 37B are activated": it names no noun)
            if w.lower() in EN_STOP or w.lower() in EN_EXTRA_STOP or len(w) <= 2:
                break
            words.append(w.lower())
        if not words:
            continue
        for e in re.finditer(re.escape(figure), evidence, re.IGNORECASE):
            noun = _AFTER.match(evidence, e.end())
            if not noun:
                continue
            thing = noun.group(1)
            if not any(
                w in evidence[e.end() : noun.end()].lower()
                or any(z and z in thing for z in (renderings(w) or ()))
                for w in words
            ):
                return f"{figure} {' '.join(words[:2])}", evidence[e.start() : noun.end()].strip()
            return None
    return None


def counted_unmet_zh(clause: str, evidence: str) -> tuple[str, str] | None:
    """The Chinese :func:`counted_unmet`: the noun after a figure of the clause shares no two
    characters with the noun after that figure in the evidence (every place it has one).

    Example:
        >>> counted_unmet_zh("MoE 有 37B 个路由专家", "每个 token 会激活 37B 个参数。")
        ('37B 个路由专家', '37B 个参数')
        >>> counted_unmet_zh("每个 token 激活 37B 个参数", "会激活 37B 个参数。") is None
        True
        >>> counted_unmet_zh("总参数量为 671B", "总参数量达到 671B,其中") is None
        True
    """
    if not CJK.search(evidence):
        return None
    for m in _FIGURE.finditer(clause):
        figure = re.sub(r"\s", "", m.group(1))
        mine = _AFTER.match(clause, m.end())
        if not mine:
            continue
        theirs = [
            (e.start(), noun)
            for e in re.finditer(re.escape(figure), evidence, re.IGNORECASE)
            if (noun := _AFTER.match(evidence, e.end()))
        ]
        if theirs and not any(_share_two(mine.group(1), n.group(1)) for _, n in theirs):
            start, noun = theirs[0]
            return clause[m.start() : mine.end()].strip(), evidence[start : noun.end()].strip()
    return None


def _share_two(a: str, b: str) -> bool:
    """``a`` and ``b`` have two characters in a row in common (路由专家 / 专家数)."""
    return any(a[i : i + 2] in b for i in range(len(a) - 1))
