"""Fusing the dense and BM25 lists: z-score fusion (the default) and reciprocal rank fusion.

**z-score fusion** (:func:`zscore_fusion`) pools the candidates of both lists, takes both exact
scores of every candidate (cosine and BM25), standardizes each over the pool and adds them with
a BM25 weight ``w``: ``score = (1 - w) * z(cosine) + w * z(bm25)``. Unlike RRF it sees how far
apart the scores are: a passage far ahead in one list stays ahead, and a list whose scores are
all alike (a guessing list) moves little. The weight grows with how much of the question BM25's
best passage matched (:func:`bm25_share`): questions that share their words with the text lean
on BM25, paraphrases and English questions over Chinese text lean on the embeddings.

**RRF** (:func:`reciprocal_rank_fusion`, ``RAG_FUSION=rrf``) uses ranks only (Cormack et al.
2009). How the default was chosen, with the dev/test figures of every variant tried:
``docs/retrieval.md``.

Example:
    >>> reciprocal_rank_fusion({"dense": [3, 1, 2], "bm25": [1, 4]}, k=60)[:2]
    [(1, 0.03252247488101534), (3, 0.01639344262295082)]
    >>> fused = zscore_fusion([3, 1, 2, 4], {3: 0.90, 1: 0.88, 2: 0.80, 4: 0.79},
    ...                       {3: 0.0, 1: 9.0, 2: 1.0, 4: 5.0}, bm25_weight=0.4)
    >>> [i for i, _ in fused]
    [1, 3, 4, 2]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

FUSIONS = ("zscore", "rrf")


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[int]],
    k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: ``score(d) = sum_r w_r / (k + rank_r(d))`` with ranks from 1.

    Args:
        rankings: Name of each ranker -> ids, best first.
        k: The RRF constant (60 in Cormack et al. 2009).
        weights: Optional weight per ranker (default 1).

    Returns:
        ``(id, score)`` pairs, best first; ties keep the order of first appearance.
    """
    scores: dict[int, float] = {}
    for name, ids in rankings.items():
        w = 1.0 if weights is None else float(weights.get(name, 1.0))
        if w == 0:
            continue
        for rank, doc in enumerate(ids, start=1):
            scores[doc] = scores.get(doc, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def standardize(values: Sequence[float]) -> list[float]:
    """``(x - mean) / std`` over ``values`` (population std); all zeros when they are all equal.

    >>> standardize([1.0, 2.0, 3.0])
    [-1.224744871391589, 0.0, 1.224744871391589]
    >>> standardize([4.0, 4.0])
    [0.0, 0.0]
    """
    n = len(values)
    if n == 0:
        return []
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    if std <= 1e-12 * max(1.0, abs(mean)):
        return [0.0] * n
    return [(v - mean) / std for v in values]


def zscore_fusion(
    candidates: Sequence[int],
    dense: Mapping[int, float],
    bm25: Mapping[int, float],
    bm25_weight: float,
    *,
    weights: Mapping[str, float] | None = None,
) -> list[tuple[int, float]]:
    """Fuse by standardized scores: ``(1 - w) * z(dense) + w * z(bm25)`` over ``candidates``.

    Args:
        candidates: The pool (both lists' ids), in the order that breaks ties (dense first).
        dense: Cosine of every candidate (missing: the lowest cosine of the pool).
        bm25: BM25 score of every candidate (missing: 0).
        bm25_weight: ``w`` in [0, 1].
        weights: Extra multipliers ``{"dense": a, "bm25": b}`` (``RAG_DENSE_WEIGHT``,
            ``RAG_BM25_WEIGHT``; default 1).

    Returns:
        ``(id, score)`` pairs, best first; ties keep the order of ``candidates``.
    """
    pool = list(dict.fromkeys(candidates))
    if not pool:
        return []
    floor = min((dense[i] for i in pool if i in dense), default=0.0)
    zd = standardize([float(dense.get(i, floor)) for i in pool])
    zb = standardize([float(bm25.get(i, 0.0)) for i in pool])
    a = 1.0 if weights is None else float(weights.get("dense", 1.0))
    b = 1.0 if weights is None else float(weights.get("bm25", 1.0))
    w = min(1.0, max(0.0, float(bm25_weight)))
    fused = [(i, a * (1.0 - w) * x + b * w * y) for i, x, y in zip(pool, zd, zb, strict=True)]
    order = sorted(range(len(pool)), key=lambda j: -fused[j][1])
    return [fused[j] for j in order]


def bm25_share(coverage: float, low: float, high: float) -> float:
    """BM25's weight for a question: ``low + (high - low) * coverage``.

    ``coverage`` is the share of the question's words found in BM25's best passage
    (:func:`rag.retrieval.query.matched_share`; 0 when BM25 found nothing).

    >>> bm25_share(0.0, 0.2, 0.6), bm25_share(1.0, 0.2, 0.6)
    (0.2, 0.6)
    """
    c = min(1.0, max(0.0, coverage))
    return low + (high - low) * c
