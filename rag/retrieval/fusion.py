"""Reciprocal rank fusion of ranked lists.

Example:
    >>> reciprocal_rank_fusion({"dense": [3, 1, 2], "bm25": [1, 4]}, k=60)[:2]
    [(1, 0.03252247488101534), (3, 0.01639344262295082)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


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
