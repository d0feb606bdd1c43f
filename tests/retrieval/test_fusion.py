"""Reciprocal rank fusion."""

from __future__ import annotations

from rag.retrieval.fusion import reciprocal_rank_fusion


def test_rrf_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion({"dense": [1, 2, 3], "bm25": [3, 2, 9]}, k=60)
    order = [i for i, _ in fused]
    assert set(order[:2]) == {2, 3} and order.index(1) == 2  # in both lists beats first in one


def test_rrf_weights() -> None:
    fused = reciprocal_rank_fusion({"dense": [1], "bm25": [2]}, weights={"dense": 2.0, "bm25": 1.0})
    assert fused[0][0] == 1
