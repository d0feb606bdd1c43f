"""The English side of a clause: its names and the content words of its English prose.

An English clause's words are stems (names, figures and stop words left out); a Chinese clause's
Latin runs are names, unless they read as English prose the model wrote around what it copied.

Example:
    >>> [u.key for u in english_units("DDIM samples faster without retraining", [("DDIM", "ddim")])]
    ['sampl', 'faster', 'retrain']
"""

from __future__ import annotations

import re

from rag.answer.claims.names import strong_names
from rag.answer.claims.numbers import ARABIC, EN_NUM
from rag.answer.claims.units import Unit
from rag.answer.claims.words import (
    EN_EXTRA_STOP,
    EN_STOP,
    EN_STOP_STEMS,
    EN_WORD,
    LATIN_GROUP,
    NORM_DROP,
    stem,
    variants,
)

__all__ = ["clause_names", "english_prose", "english_units"]


def clause_names(text: str, english: bool, prose: set[int]) -> list[tuple[str, str]]:
    """(surface, normalised) names: the strong names of an English clause and of the English
    prose of a Chinese one (its Latin runs starting at ``prose``), every other Latin run of a
    Chinese one."""
    names: list[tuple[str, str]] = []
    for m in LATIN_GROUP.finditer(text):
        group = m.group(0)
        if english or m.start() in prose:
            for name in strong_names(group, text, m.start()):
                names.append((name, NORM_DROP.sub("", name.lower())))
        else:
            if not re.search(r"[A-Za-z]", group):
                continue
            names.append((group, NORM_DROP.sub("", group.lower())))
    return names


_HYPHEN_PREFIXES = frozenset(
    "pre post multi semi sub co re self inter intra over under auto cross mid meta pseudo".split()  # noqa: SIM905
)


# lowercase pronouns and auxiliaries: a Latin run of a Chinese clause holding one is English
# prose the model wrote around what it copied ("It was founded by拔都…"), not a name (a title
# capitalises them: "Attention Is All You Need")
_PROSE_WORD = re.compile(
    r"(?<![A-Za-z])(?:it|its|they|their|he|she|his|her|is|was|were|are|be|been|being|has|"
    r"have|had|this|these|those|there|which|who)(?![A-Za-z])"
)
# ... or one that opens the run capitalised before a lowercase word: "He graduated from
# Tianjin师范…", "They moved to 北京" (a title capitalises its next word too: "It Takes Two")
_PROSE_OPENING = re.compile(
    r"(?:It|Its|They|Their|He|She|His|Her|This|These|Those|There)[ \t]+[a-z]"
)


def english_prose(text: str) -> list[re.Match[str]]:
    """The Latin runs of a Chinese clause that are English prose, not names.

    >>> [m.group(0) for m in english_prose("It was founded by拔都率部，在 Attention Is All You Need 中")]
    ['It was founded by']
    >>> [m.group(0) for m in english_prose("He graduated from Tianjin师范专科学校，It Takes Two 里")]
    ['He graduated from Tianjin']
    """
    return [
        m
        for m in LATIN_GROUP.finditer(text)
        if " " in m.group(0).strip()
        and (_PROSE_WORD.search(m.group(0)) or _PROSE_OPENING.match(m.group(0)))
    ]


def english_units(text: str, names: list[tuple[str, str]], offset: int = 0) -> list[Unit]:
    """The content words of an English clause as stems (names, figures, stop words left out);
    ``offset``: where ``text`` starts in its clause."""
    num_spans = [m.span() for m in ARABIC.finditer(text)]
    units: list[Unit] = []
    strong = {n for n, _ in names}
    seen: set[str] = set()
    for m in EN_WORD.finditer(text):
        w = m.group(0).strip("'")
        if w.endswith("'s"):
            w = w[:-2]
        if any(w in s.split() or w == s for s in strong):
            continue
        if any(s <= m.start() < e for s, e in num_spans):
            continue
        lw = w.lower()
        if lw in EN_NUM or lw in EN_STOP or lw in EN_EXTRA_STOP or len(lw) < 3:
            continue
        if lw in _HYPHEN_PREFIXES and text[m.end() : m.end() + 1] == "-":
            continue  # "pre-defined": the word after the hyphen says it (预先定义 holds 定义)
        if lw in ("times", "fold") and re.search(
            r"\d\s*$|\b(?:" + "|".join(EN_NUM) + r")\s*$", text[: m.start()].rstrip()
        ):
            continue
        st = stem(lw)
        if st in EN_STOP_STEMS or st in seen:
            continue
        seen.add(st)
        weight = 0.5 if lw.endswith("ly") else 1.0
        if w[:1].isupper() and m.start() > 0:
            weight = 1.5  # a Capitalised word inside the clause: likely a name
        units.append(Unit("en", st, weight, w, tuple(sorted(variants(lw))), offset + m.start()))
    return units
