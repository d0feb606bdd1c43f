"""A deed given to the wrong person: "McCulloch and Pitts implemented the perceptron in hardware
in 1957" over "它由…爱德华·麦克洛奇和沃尔特·皮茨构思,后来由弗兰克·罗森布拉特在 1957 年…在硬件上更著名地实现了".

Every word of such a clause is in its evidence sentence (the names, 硬件, 实现, 1957), so the
words and the e5 similarity both pass it; only who did it is swapped. The sentence says it in two
clauses, one per person: what the answer says (its words and figures other than the names) lies
in the clause of someone it does not name (罗森布拉特), while the persons it names are in another
clause that says little of it. Persons are the names written by their sound and joined by a
middle dot (爱德华·麦克洛奇), found in the answer as written or, in an English answer, by their
sound (:mod:`rag.text.transliteration`); other names are left to the name checks.

Example:
    >>> from rag.answer.claims.lexicon import Lexicon
    >>> from rag.schema import Passage
    >>> ev = ("它由芝加哥大学的爱德华·麦克洛奇和沃尔特·皮茨构思,后来由弗兰克·罗森布拉特"
    ...       "在 1957 年于康奈尔航空实验室在硬件上实现了。")
    >>> terms = lambda t: [w for w in ("构思", "硬件", "实现", "感知机") if w in t]
    >>> lex = Lexicon([Passage(ev, "d", "d", "d.md", "d#0", 1.0)], terms, None,
    ...               lambda t: [(0, len(t))])
    >>> agent_swapped(lex, lex.clause_info("麦克洛奇和皮茨在硬件上实现了感知机"), ev)
    ('麦克洛奇', '弗兰克·罗森布拉特')
    >>> agent_swapped(lex, lex.clause_info("罗森布拉特在硬件上实现了感知机"), ev) is None
    True
    >>> agent_swapped(lex, lex.clause_info("麦克洛奇和皮茨构思了感知机"), ev) is None
    True
"""

from __future__ import annotations

import re

from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.names import CLAUSE_SEGMENT
from rag.answer.claims.numbers import number_found
from rag.answer.claims.units import ClauseInfo
from rag.text.transliteration import transliterated, transliteration_runs

__all__ = ["agent_swapped", "persons"]

_DOT = "·"
_MIN_SHARE = 0.5  # of what the clause says, in the other person's clause of the sentence
_NUMBER_WEIGHT = 2.0
_CAPITALISED_RUN = re.compile(r"\b[A-Z][A-Za-z'\-]*(?:\s+[A-Z][A-Za-z'\-]*)*")


def persons(text: str) -> list[tuple[str, ...]]:
    """The persons ``text`` names by sound with a middle dot, each as its parts.

    Example:
        >>> persons("由芝加哥大学的爱德华·麦克洛奇和沃尔特·皮茨构思")
        [('爱德华', '麦克洛奇'), ('沃尔特', '皮茨')]
    """
    whole = {run for run, _, is_whole in transliteration_runs(text) if is_whole}
    out: list[tuple[str, ...]] = []
    last_end = -1
    for m in re.finditer(_DOT, text):
        i = m.start()
        left = max((r for r in whole if text.endswith(r, 0, i)), key=len, default="")
        right = max((r for r in whole if text.startswith(r, i + 1)), key=len, default="")
        if not left or not right:
            continue
        if out and last_end == i:  # 约翰·冯·诺依曼: a third part
            out[-1] = (*out[-1], right)
        else:
            out.append((left, right))
        last_end = i + 1 + len(right)
    return out


def _named(info: ClauseInfo, person: tuple[str, ...], sentence: str) -> str | None:
    """How the clause names the person (a part as written, or a Latin word that sounds like
    one), or None."""
    if not info.english:
        parts = [p for p in person if p in info.text]
        return _DOT.join(person) if len(parts) == len(person) else next(iter(parts), None)
    for surface, _ in info.names:
        for word in _words(surface):
            if word[:1].isupper() and transliterated(word, sentence) in person:
                return word
    return None


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s\-]+", name) if w]


def _person_words(clause: str, sentence: str, people: list[tuple[str, ...]]) -> set[str]:
    """The capitalised words of an English clause that name a person: a run of them ("Edwards
    McCulloch") one of which sounds like a part of a person's name in the sentence."""
    parts = {w for p in people for w in p}
    out: set[str] = set()
    for run in _CAPITALISED_RUN.finditer(clause):
        words = run.group(0).split()
        if any(transliterated(w, sentence) in parts for w in words):
            out.update(words)
    return out


def _said(lex: Lexicon, info: ClauseInfo, segment: str, names: set[str]) -> tuple[float, int]:
    """How much of what the clause says (its words and figures other than the persons' names)
    the evidence segment has, weighted as the claim check weighs them, and how many of them."""
    cand = lex.candidate_of(segment)
    units = [u for u in info.units if not any(n in u.surface or u.surface in n for n in names)]
    total = sum(u.weight for u in units) + _NUMBER_WEIGHT * len(info.numbers)
    found = [u.weight for u in units if lex.unit_score(u, cand) >= 0.5]
    found += [_NUMBER_WEIGHT for n in info.numbers if number_found(n, cand.numbers)]
    return (sum(found) / total if total else 0.0), len(found)


def agent_swapped(lex: Lexicon, info: ClauseInfo, sentence: str) -> tuple[str, str] | None:
    """(how the clause names its person, the person the evidence gives it to) when what the
    clause says lies in a clause of ``sentence`` naming another person, and the clause's own
    persons are named only in clauses that say less than half as much of it; else None.

    Args:
        lex: The check's lexicon (renderings of English words, figures).
        info: The clause (its words are read again: those the question gave count here).
        sentence: The evidence sentence(s) it rests on.
    """
    people = persons(sentence)
    if len(people) < 2:
        return None
    named = {p: _named(info, p, sentence) for p in people}
    mine = [p for p in people if named[p]]
    others = [p for p in people if not named[p]]
    if not mine or not others:
        return None
    names = {w for p in people for w in p} | _person_words(info.text, sentence, people)
    info = lex.clause_info(info.text, info.english)  # all its words, the question's too
    segments = [s for s in CLAUSE_SEGMENT.split(sentence) if s.strip()]
    said = [_said(lex, info, seg, names) for seg in segments]

    def says(p: tuple[str, ...], seg: str) -> bool:
        return any(part in seg for part in p)

    mine_best = max(
        (
            sh
            for seg, (sh, _) in zip(segments, said, strict=True)
            if any(says(p, seg) for p in mine)
        ),
        default=0.0,
    )
    for seg, (share, count) in zip(segments, said, strict=True):
        if share < _MIN_SHARE or count < 2 or share < 2 * mine_best:
            continue
        other = next((p for p in others if says(p, seg)), None)
        if other is not None and not any(says(p, seg) for p in mine):
            return str(named[mine[0]]), _DOT.join(other)
    return None
