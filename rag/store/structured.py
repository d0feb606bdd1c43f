"""BM25 over a structured query: a word's renderings scored as one word, not as several.

An English question over Chinese text asks BM25 for up to five renderings of each word
("primary": 主要, 初级, 原生, 最初, 第一). Summed as separate words they let a passage that holds
two renderings of one common word outscore the passage that holds the name the question asks
about ("Which primary school did Qu Cheng attend?": 最初 and 第一 outweighed 渠成). Here each
group of alternatives counts as one word, in the spirit of Pirkola's structured queries
(synonym operator): a chunk scores its best alternative, plus a quarter (:data:`OTHERS`) of the
others, since a passage that holds several renderings of a word does speak of it more; the
share was chosen on the development splits (docs/retrieval.md).

A query is ``groups`` (each a sequence of alternatives), an alternative a sequence of parts,
a part a term or a group of its own (a several-word term: "linear attention" is 线性注意力, or the
best of linear's renderings plus the best of attention's); the terms in no group add up as
usual. The retriever builds it (:attr:`rag.retrieval.query.SparseQuery.synonyms`).

A :class:`Word` group scores its best alternative alone: a Chinese word of the question with
the shorter words jieba's search mode cuts from it (爬行动物: 爬行, 行动, 动物), which every chunk
holding the word holds too. Summed, one compound counted four times and outweighed the name the
question asks about (:attr:`rag.retrieval.query.SparseQuery.compounds`).

Example:
    >>> import numpy as np
    >>> columns = {"渠成": np.array([0, 0, 4.0]), "最初": np.array([3.0, 0, 0]),
    ...            "第一": np.array([2.0, 0, 1.0]), "小学": np.array([0, 1.0, 1.0])}
    >>> scores = structured_scores(
    ...     [[("最初",), ("第一",)], [("渠成",)]], ["小学"], lambda t: columns[t], 3)
    >>> [round(float(s), 2) for s in scores]  # summed: [5.0, 1.0, 6.0]
    [3.5, 1.0, 6.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["OTHERS", "Word", "frozen", "structured_scores", "terms_of"]

OTHERS = 0.25  # weight of a group's other alternatives beside its best (0: the maximum alone)


class Word(tuple):  # type: ignore[type-arg]
    """A group whose chunk score is its best alternative alone (the others add nothing).

    >>> import numpy as np
    >>> columns = {"爬行动物": np.array([2.2, 0]), "爬行": np.array([2.0, 2.0]),
    ...            "动物": np.array([2.0, 1.3])}
    >>> word = Word([("爬行动物",), ("爬行",), ("动物",)])
    >>> [round(float(s), 2) for s in structured_scores([word], [], columns.get, 2)]
    [2.2, 2.0]
    """

    __slots__ = ()


def structured_scores(
    groups: Sequence[Any],
    singles: Sequence[str],
    column: Callable[[str], np.ndarray],
    n: int,
    others: float = OTHERS,
) -> np.ndarray:
    """Every chunk's score for ``groups`` plus the plain terms ``singles``.

    Args:
        groups: The structured part (see the module docstring).
        singles: Terms that count as words of their own.
        column: A term's BM25 score in every chunk (zeros when the index lacks it).
        n: Number of chunks.
        others: Weight of a group's alternatives other than a chunk's best.

    Returns:
        A float32 array of ``n`` scores.
    """

    # module-level functions, not closures calling each other: such closures form a reference
    # cycle that keeps ``column`` (and the index's memory-mapped arrays it reads) alive until
    # the cyclic garbage collector runs, so a replaced index generation stayed mapped
    total = _alternative(list(singles), column, n, others)
    for g in groups:
        total += _group(g, column, n, others)
    return total


def _group(
    alternatives: Sequence[Any], column: Callable[[str], np.ndarray], n: int, others: float
) -> np.ndarray:
    scores = np.array([_alternative(a, column, n, others) for a in alternatives], np.float32)
    best = scores.max(axis=0)
    if isinstance(alternatives, Word):
        return best
    return best + others * (scores.sum(axis=0) - best)


def _alternative(
    parts: Sequence[Any], column: Callable[[str], np.ndarray], n: int, others: float
) -> np.ndarray:
    out = np.zeros(n, dtype=np.float32)
    for part in parts:
        out += column(part) if isinstance(part, str) else _group(part, column, n, others)
    return out


def terms_of(node: Any) -> set[str]:
    """Every term of a structured query (or of one group or alternative)."""
    return {node} if isinstance(node, str) else set().union(*map(terms_of, node))


def frozen(node: Any) -> Any:
    """A structured query as nested tuples (hashable; a :class:`Word` stays one, tagged)."""
    if isinstance(node, str):
        return node
    inner = tuple(frozen(x) for x in node)
    return ("<word>", *inner) if isinstance(node, Word) else inner
