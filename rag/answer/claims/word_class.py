"""Word classes of Chinese words from jieba's dictionary: which words only link or qualify.

A paraphrase changes the words that connect and qualify a statement (可惜, 只是, 此前, 有些,
尽可能) far more often than the nouns it states things about; a missing word of those classes
says less about a clause's support than a missing noun.

Example:
    >>> word_class("尽可能"), word_class("借助"), word_class("锚框")
    ('g', 'v', '')
"""

from __future__ import annotations

import functools
from pathlib import Path

import jieba

__all__ = ["GENERIC_CLASSES", "word_class"]

#: jieba's part-of-speech tags (first letter) of words that link or qualify: adverbs, conjunctions,
#: pronouns, prepositions, time and place words, classifiers, particles, interjections.
GENERIC_CLASSES = frozenset("dcrptfquyeo")


@functools.cache
def _classes() -> dict[str, str]:
    """word -> "g" (a tag of GENERIC_CLASSES) or "v" (a verb), for the words jieba tags so."""
    path = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
    out: dict[str, str] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and (parts[2][0] in GENERIC_CLASSES or parts[2][0] == "v"):
                out[parts[0]] = "g" if parts[2][0] in GENERIC_CLASSES else "v"
    return out


def word_class(word: str) -> str:
    """ "g" for a word that links or qualifies (its jieba tag in GENERIC_CLASSES), "v" for a
    verb, "" for anything else (nouns, adjectives, words the dictionary lacks)."""
    return _classes().get(word, "")
