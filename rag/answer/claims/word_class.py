"""Word classes of Chinese words from jieba's dictionary: which words only link or qualify.

A paraphrase changes the words that connect and qualify a statement (可惜, 只是, 此前, 有些,
尽可能) far more often than the nouns it states things about; a missing word of those classes
says less about a clause's support than a missing noun.

Example:
    >>> is_generic("尽可能"), is_generic("锚框")
    (True, False)
"""

from __future__ import annotations

import functools
from pathlib import Path

import jieba

__all__ = ["GENERIC_CLASSES", "is_generic", "word_class"]

#: jieba's part-of-speech tags (first letter) of words that link or qualify: adverbs, conjunctions,
#: pronouns, prepositions, time and place words, classifiers, particles, interjections.
GENERIC_CLASSES = frozenset("dcrptfquyeo")


@functools.cache
def _classes() -> dict[str, str]:
    """word -> the first letter of its jieba tag, for the words of GENERIC_CLASSES and verbs."""
    path = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
    out: dict[str, str] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and (parts[2][0] in GENERIC_CLASSES or parts[2][0] == "v"):
                out[parts[0]] = parts[2][0]
    return out


def word_class(word: str) -> str:
    """The first letter of ``word``'s jieba tag among GENERIC_CLASSES and ``v``; "" otherwise."""
    return _classes().get(word, "")


def is_generic(word: str) -> bool:
    """Whether ``word`` is, in jieba's dictionary, a word that links or qualifies."""
    return word_class(word) in GENERIC_CLASSES
