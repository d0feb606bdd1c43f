"""A figure taken from the wrong statement: the clause's number is in the passage, but the
sentence that says what the clause says gives another number of the same kind.

"2008年1月，茨柏克沃斯基从微软退休" over a passage with "2006年6月，茨柏克沃斯基从微软退休。… 2008年1月，
茨柏克沃斯基加入SWsoft…": every figure and every word of the clause is in the passage, so each
check on its own passes; but the figures come from one sentence and the statement from another,
which dates the same event differently. The rule: the candidate sentence that holds the
clause's figures lacks a good part of its words (a third of their weight or more), and another
sentence of the same passage holds all of those words and, in place of a clause figure, one of
the same kind (the same counter word: 年, 月, 步, 个; or both a year).

Example:
    >>> from rag.answer.claims.numbers import numbers_in
    >>> swapped_figure(numbers_in("2008年1月"), numbers_in("2006年6月，他从微软退休。"))
    ('2008', '2006')
    >>> swapped_figure(numbers_in("3 步"), numbers_in("分 2 个阶段"))
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.numbers import Number, number_found, numbers_in
from rag.answer.claims.result import Clause
from rag.answer.claims.units import Candidate, ClauseInfo, Unit
from rag.answer.claims.words import ZH_QUOTE

__all__ = [
    "figure_elsewhere",
    "figure_in_its_sentence",
    "figures_of_their_statement",
    "swapped_figure",
]

# the share of the clause's word weight the figures' sentence must lack (two words at least: one
# is a paraphrase, "其面积" for "卡塞雷斯的面积", or a verb the sentence leaves out)
_LACKING = 1 / 3


_DATE_WORDS = ("年", "月", "日", "号")


def _year(n: Number) -> bool:
    return n.low == n.high and n.low.is_integer() and 1000 <= n.low <= 2100 and not n.percent


# the scale a figure is written with: "671B" and "37B" are figures of one kind (a count of
# parameters), whatever counter word follows one of them
_SCALE = re.compile(r"(?<=\d)\s*(?:[KkMBT](?![A-Za-z])|万|亿|billion|million|thousand)", re.I)


def _scale(n: Number) -> str:
    m = _SCALE.search(n.surface)
    return m.group(0).strip().lower() if m else ""


def _same_kind(a: Number, b: Number) -> bool:
    if _year(a) and _year(b):
        return not a.counter or not b.counter or a.counter == b.counter
    if _scale(a) and _scale(a) == _scale(b) and a.percent == b.percent:
        return True
    return bool(a.counter) and a.counter == b.counter and a.percent == b.percent


def swapped_figure(clause: list[Number], other: list[Number]) -> tuple[str, str] | None:
    """(clause figure, the other sentence's figure) when ``other`` lacks a clause figure and
    has one of the same kind instead; else None."""
    keys = frozenset((*n.key(), n.counter) for n in other)
    for n in clause:
        if n.vague or number_found(n, keys):
            continue
        for o in other:
            if _same_kind(n, o) and o.key() != n.key():
                return n.surface, o.surface
    return None


def _statement(info: ClauseInfo) -> list[Unit]:
    """The words of a clause's statement, not the counters of its figures (年 in "2010 年")."""
    counters = {n.counter for n in info.numbers} | set(_DATE_WORDS)
    return [u for u in info.units if u.key not in counters]


def _lacks_statement(lacking: Sequence[Unit], words: Sequence[Unit]) -> bool:
    """Whether the ``lacking`` words are enough of the statement ``words`` (two at least, and
    :data:`_LACKING` of its weight) that a sentence without them does not say it."""
    total = sum(u.weight for u in words)
    return len(lacking) >= 2 and sum(u.weight for u in lacking) >= _LACKING * total


def figure_elsewhere(lex: Lexicon, info: ClauseInfo, c: Candidate) -> tuple[str, str] | None:
    """The swapped figure of a clause (``info``: all its words, the question's included) whose
    figures' sentence ``c`` lacks its statement while another sentence of the passage says it
    with another figure of the same kind (see the module docstring); else None."""
    words = _statement(info)
    if not info.numbers or not words:
        return None
    lacking = [u for u in words if lex.unit_score(u, c) < 0.5]
    if not _lacks_statement(lacking, words):
        return None
    others = [
        o
        for o in (lex.cands[k] for k in lex.by_passage[c.passage])
        if (o.end <= c.start or c.end <= o.start)  # not the figures' sentence
        and all(lex.unit_score(u, o) >= 0.5 for u in lacking)
    ]
    # the sentence that says most of the clause, the shortest first (one sentence, not a pair)
    others.sort(key=lambda o: (-lex.coverage(info, o), o.end - o.start))
    for o in others:
        swap = swapped_figure(info.numbers, numbers_in(o.text, strict=False))
        if swap:
            return swap
    return None


_PART = re.compile(r"[^,，;；]+")  # the parts of a sentence, between its commas


def figure_in_its_sentence(lex: Lexicon, info: ClauseInfo, c: Candidate) -> tuple[str, str] | None:
    """The swapped figure of a clause whose evidence sentence ``c`` gives its figure in one part
    and says its statement, with another figure of the same kind, in another: "DeepSeek-V3
    activates 671B parameters for each token" over "总参数量达到 671B,其中每个 token 会激活 37B
    个参数" (as :func:`figure_elsewhere` across sentences).

    Example:
        >>> from rag.answer.claims.numbers import numbers_in
        >>> [n.surface for n in numbers_in("总参数量达到 671B,其中每个 token 会激活 37B 个参数")]
        ['671B', '37B']
    """
    words = _statement(info)
    parts = [lex.candidate_of(m.group(0)) for m in _PART.finditer(c.text)]
    if not info.numbers or not words or len(parts) < 2:
        return None
    # a figure the clause gives too is its own ("671B total parameters, of which 37B are
    # activated for each token" says both parts); a Chinese quote's is the passage's
    mine = {n.key() for n in numbers_in(ZH_QUOTE.sub("", info.text))}
    for part in parts:
        keys = frozenset((*n.key(), n.counter) for n in numbers_in(part.text, strict=False))
        if not any(not n.vague and number_found(n, keys) for n in info.numbers):
            continue
        lacking = [u for u in words if lex.unit_score(u, part) < 0.5]
        for o in parts:
            if o is part:
                continue
            # (a word a third part holds is the sentence's context: its subject, DeepSeek-V3)
            rest = [q for q in parts if q is not part and q is not o]
            needed = [u for u in lacking if all(lex.unit_score(u, q) < 0.5 for q in rest)]
            if not _lacks_statement(needed, words):
                continue
            if all(lex.unit_score(u, o) >= 0.5 for u in needed):
                theirs = [n for n in numbers_in(o.text, strict=False) if n.key() not in mine]
                swap = swapped_figure(info.numbers, theirs)
                if swap:
                    return swap
    return None


def figures_of_their_statement(
    lex: Lexicon, clauses: Sequence[Clause], full: Sequence[ClauseInfo]
) -> None:
    """Mark unsupported each supported clause whose figure :func:`figure_elsewhere` (another
    sentence) or :func:`figure_in_its_sentence` (another part of its own) finds swapped, judged
    on all its words (``full``: the question's words it repeats included, since those are what
    the figure is said of)."""
    for clause, info in zip(clauses, full, strict=True):
        if not clause.supported or not info.numbers:
            continue
        c = lex.evidence_at(clause.evidence_passage, clause.evidence_start, clause.evidence_end)
        swap = (
            (figure_elsewhere(lex, info, c) or figure_in_its_sentence(lex, info, c))
            if c is not None
            else None
        )
        if swap:
            clause.status, clause.support = "unsupported", []
            clause.reason = f"'{swap[0]}' where [{clause.evidence_passage}] says '{swap[1]}'"
            clause.rule = "number"
