"""The records the checker compares: a clause's content units and a passage's evidence candidates.

A :class:`ClauseInfo` is what a clause claims (its figures, names, content words, polarity and
comparison); a :class:`Candidate` is an evidence sentence (or two adjacent ones) of a passage,
prepared once for every clause to be compared with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.answer.claims.numbers import Number

__all__ = ["Candidate", "ClauseInfo", "Unit"]


@dataclass
class Candidate:
    """An evidence sentence of a passage (or two adjacent ones), prepared for matching."""

    passage: int  # 0-based
    start: int
    end: int
    text: str
    low: str
    norm: str
    terms: frozenset[str]
    stems: frozenset[str]
    numbers: frozenset[tuple[float, float, bool, str]]
    negations: list[tuple[int, int]]


@dataclass
class Unit:
    """A content word of a clause: a Chinese term (with the shorter terms inside it) or an
    English stem (with its variant forms), weighted by how much it says."""

    kind: str  # "zh" (a Chinese term) or "en" (an English stem)
    key: str
    weight: float
    surface: str
    subterms: tuple[str, ...] = ()  # zh: shorter terms inside it; en: its variant forms
    pos: int = 0  # offset in the clause
    # zh: the clause's characters either side of the term ("" at an edge or beside punctuation),
    # so a term jieba cut across a word ("公式一从 top" -> 一从) is found by its neighbours
    around: tuple[str, str] = ("", "")
    # zh: "g" a word that links or qualifies (jieba's adverbs, conjunctions, pronouns...), "v" a
    # verb, "" anything else (nouns, adjectives, words jieba's dictionary lacks); en: ""
    word_class: str = ""


@dataclass
class ClauseInfo:
    """What a clause claims: figures, names, content units, polarity and comparison."""

    text: str
    english: bool
    numbers: list[Number]
    names: list[tuple[str, str]]  # (surface, normalised)
    units: list[Unit]
    negated: bool
    neg_preds: list[str]  # zh: the words a negation governs
    neg_scope: list[Unit] = field(default_factory=list)  # en: the unit after each negation
    comparative: bool = False
    # a bare "no" judged on its question's words: a passage that negates them says it too
    denied: bool = False
