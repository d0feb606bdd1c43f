"""The hybrid retriever end to end over a tiny in-memory store (no model, no index files)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pytest

from rag.config import Settings
from rag.retrieval.retriever import Retriever
from rag.schema import Chunk

# Six chunks of four documents; "long" has three chunks. Cosines and BM25 scores are fixed per
# chunk so every expectation below can be checked by hand.
DOCS = ["long", "long", "long", "dpo", "ddim", "lora"]
TEXTS = [
    "长文第一段 奖励",
    "长文第二段 奖励",
    "长文第三段",
    "DPO 直接优化偏好，不需要奖励模型",
    "DDIM 采样",
    "LoRA 低秩",
]
COSINE = [0.86, 0.85, 0.84, 0.83, 0.80, 0.79]
BM25 = {"奖励": [1.0, 1.0, 0.0, 9.0, 0.0, 0.0], "dpo": [0, 0, 0, 3.0, 0, 0]}


class TinyStore:
    manifest: ClassVar[dict[str, Any]] = {}

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        order = sorted(range(len(COSINE)), key=lambda i: -COSINE[i])
        return [(i, COSINE[i]) for i in order[:k]]

    def dense_scores(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        return {i: COSINE[i] for i in ids}

    def _bm25(self, terms: list[str]) -> list[float]:
        return [sum(BM25.get(t, [0.0] * 6)[i] for t in terms) for i in range(6)]

    # a store may ignore ``groups`` and sum every term, as Milvus does (rag/store/base.py)
    def sparse_search(self, terms, k, *, query=None, groups=None) -> list[tuple[int, float]]:
        s = self._bm25(terms)
        order = sorted(range(6), key=lambda i: -s[i])
        return [(i, s[i]) for i in order[:k] if s[i] > 0]

    def sparse_scores(self, terms, ids, *, query=None, groups=None) -> dict[int, float]:
        s = self._bm25(terms)
        return {i: s[i] for i in ids}

    def chunks(self, ids: Sequence[int]) -> list[Chunk]:
        return [
            Chunk(f"{DOCS[i]}#{i}", DOCS[i], DOCS[i], f"{DOCS[i]}.md", 0, 9, TEXTS[i]) for i in ids
        ]


class FixedEmbedder:
    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), 4), dtype=np.float32)


def retriever(**overrides: Any) -> Retriever:
    settings = Settings.load(env={}, candidates=6, bm25_renderings=0, **overrides)
    return Retriever(TinyStore(), FixedEmbedder(), lambda text: ["dpo", "奖励"], settings)  # type: ignore[arg-type]


def test_zscore_hybrid_explains_itself() -> None:
    run = retriever().run("DPO 为什么不需要奖励?", k=4)
    top = run.passages[0]
    assert top.doc_id == "dpo"  # far ahead in BM25 (12 vs 1), 4th by cosine
    assert (top.dense_rank, top.bm25_rank) == (4, 1)
    assert top.dense_score == pytest.approx(0.83) and top.bm25_score == pytest.approx(12.0)
    assert run.passages[-1].bm25_rank is None  # not among BM25's hits
    assert run.fusion["method"] == "zscore" and run.fusion["coverage"] == 1.0
    assert run.fusion["bm25_weight"] == pytest.approx(0.6)
    scores = [p.score for p in run.passages]
    assert scores == sorted(scores, reverse=True) and [p.rank for p in run.passages] == [1, 2, 3, 4]


def test_rrf_is_still_available() -> None:
    run = retriever(fusion="rrf").run("DPO 为什么不需要奖励?", k=3)
    assert run.fusion == {"method": "rrf", "bm25_terms": ["dpo", "奖励"]}
    assert run.passages[0].doc_id == "long"  # rank 1 dense + rank 2 BM25 beats rank 4 + rank 1


def test_at_most_max_per_document_passages_of_one_document() -> None:
    ids = [p.doc_id for p in retriever(max_per_document=1).retrieve("q", k=4)]
    assert ids.count("long") == 1 and len(ids) == 4
    assert [p.doc_id for p in retriever().retrieve("q", k=4, mode="dense")].count("long") == 3


def test_single_modes_ignore_the_fusion() -> None:
    assert [p.chunk_id for p in retriever().retrieve("q", k=2, mode="bm25")] == ["dpo#3", "long#0"]
    assert [p.doc_id for p in retriever().retrieve("q", k=1, mode="dense")] == ["long"]
