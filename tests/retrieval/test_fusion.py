"""Fusion of the dense and BM25 lists: reciprocal rank fusion and z-score fusion."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.retrieval.fusion import bm25_share, reciprocal_rank_fusion, standardize, zscore_fusion


def test_rrf_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion({"dense": [1, 2, 3], "bm25": [3, 2, 9]}, k=60)
    order = [i for i, _ in fused]
    assert set(order[:2]) == {2, 3} and order.index(1) == 2  # in both lists beats first in one


def test_rrf_weights() -> None:
    fused = reciprocal_rank_fusion({"dense": [1], "bm25": [2]}, weights={"dense": 2.0, "bm25": 1.0})
    assert fused[0][0] == 1


def test_standardize_is_zero_for_a_constant_list() -> None:
    assert standardize([]) == []
    assert standardize([3.0, 3.0, 3.0]) == [0.0, 0.0, 0.0]
    z = standardize([1.0, 2.0, 3.0])
    assert abs(sum(z)) < 1e-12 and z[0] < 0 < z[2]


DENSE = {1: 0.90, 2: 0.89, 3: 0.88, 4: 0.80}
BM25 = {1: 0.0, 2: 1.0, 3: 30.0, 4: 2.0}


def test_zscore_weight_extremes_give_each_list_alone() -> None:
    pool = [1, 2, 3, 4]
    assert [i for i, _ in zscore_fusion(pool, DENSE, BM25, 0.0)] == [1, 2, 3, 4]
    assert [i for i, _ in zscore_fusion(pool, DENSE, BM25, 1.0)] == [3, 4, 2, 1]


def test_zscore_keeps_a_lone_bm25_hit_that_rrf_buries() -> None:
    # 30 candidates a cosine step apart; BM25 is sure about 9 (30 against 0-3), which dense
    # ranks 10th. RRF sees ranks only and puts 9 second; z-scores see the gap.
    ids = list(range(30))
    dense = {i: 0.90 - 0.002 * i for i in ids}
    bm25 = {i: float(i % 4) for i in ids}
    bm25[9] = 30.0
    by_bm25 = sorted(ids, key=lambda i: -bm25[i])
    assert zscore_fusion(ids, dense, bm25, 0.4)[0][0] == 9
    assert reciprocal_rank_fusion({"dense": ids, "bm25": by_bm25})[0][0] == 3


def test_zscore_a_flat_list_does_not_reorder_the_other() -> None:
    flat = {i: 5.0 for i in DENSE}
    assert [i for i, _ in zscore_fusion([1, 2, 3, 4], DENSE, flat, 0.6)] == [1, 2, 3, 4]


def test_zscore_missing_scores_and_multipliers() -> None:
    # a candidate without a cosine gets the pool's lowest; bm25 multiplier 0 = dense order
    fused = zscore_fusion([5, 1, 2], {1: 0.9, 2: 0.8}, {5: 9.0}, 0.5, weights={"bm25": 0.0})
    assert fused[0][0] == 1 and fused[1][1] == fused[2][1]
    assert zscore_fusion([], {}, {}, 0.5) == []


def test_bm25_share_is_linear_and_clipped() -> None:
    assert bm25_share(0.5, 0.2, 0.6) == 0.4
    assert bm25_share(-1, 0.2, 0.6) == 0.2 and bm25_share(2, 0.2, 0.6) == 0.6


@st.composite
def two_lists(draw: st.DrawFn) -> tuple[list[int], dict[int, float], dict[int, float], int]:
    """A pool with cosine and BM25 scores in which one id is first (or tied first) in both."""
    n = draw(st.integers(1, 12))
    ids = draw(st.lists(st.integers(0, 99), min_size=n, max_size=n, unique=True))
    cos = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    bm = draw(st.lists(st.floats(0.0, 50.0), min_size=n, max_size=n))
    best = draw(st.sampled_from(ids))
    dense = dict(zip(ids, cos, strict=True))
    bm25 = dict(zip(ids, bm, strict=True))
    dense[best] = max(cos)
    bm25[best] = max(bm)
    # the lists as the stores return them: best first, ties in id order; the pool is dense-first
    d_list = sorted(ids, key=lambda i: (-dense[i], i != best))
    b_list = sorted(ids, key=lambda i: (-bm25[i], i != best))
    pool = list(dict.fromkeys(d_list + b_list))
    return pool, dense, bm25, best


@settings(max_examples=300, deadline=None)
@given(two_lists(), st.floats(0.0, 1.0))
def test_first_in_both_lists_stays_first(case, w: float) -> None:
    pool, dense, bm25, best = case
    assert zscore_fusion(pool, dense, bm25, w)[0][0] == best
    d_list = sorted(pool, key=lambda i: (-dense[i], i != best))
    b_list = sorted(pool, key=lambda i: (-bm25[i], i != best))
    assert reciprocal_rank_fusion({"dense": d_list, "bm25": b_list})[0][0] == best
