"""The optional ONNX Runtime int8 embedder backend: same ranking as torch, its own fingerprint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from tests.conftest import ARTICLES

PASSAGES = [
    (ARTICLES / name).read_text(encoding="utf-8")[:600]
    for name in ("dpo.md", "ddim.md", "flashattention.md", "yolo.md", "deepseek-v3.md")
]
QUESTIONS = [
    ("DPO 为什么不需要奖励模型?", 0),
    ("DDIM 采样为什么更快?", 1),
    ("How does FlashAttention reduce memory traffic?", 2),
    ("YOLO 把目标检测当作什么问题?", 3),
]


@pytest.fixture(scope="module")
def int8_embedder(base_settings: Settings):
    from rag.embed.embedder import Embedder

    return Embedder.load(base_settings.replace(embed_backend="onnx-int8"), progress=False)


def test_int8_vectors_rank_like_torch(int8_embedder, embedder) -> None:
    ref_p, ref_q = (
        embedder.embed_passages(PASSAGES),
        embedder.embed_queries([q for q, _ in QUESTIONS]),
    )
    got_p = int8_embedder.embed_passages(PASSAGES)
    got_q = int8_embedder.embed_queries([q for q, _ in QUESTIONS])
    assert got_p.shape == ref_p.shape and got_p.dtype == np.float32
    assert np.allclose(np.linalg.norm(got_p, axis=1), 1.0, atol=1e-4)
    cosines = (got_p * ref_p).sum(axis=1)  # same passage, int8 vs fp32
    assert cosines.min() > 0.95, cosines
    for (question, want), q, r in zip(QUESTIONS, got_q, ref_q, strict=True):
        assert int(np.argmax(ref_p @ r)) == want, question  # the torch reference
        assert int(np.argmax(got_p @ q)) == want, question


def test_int8_backend_has_its_own_fingerprint(int8_embedder, embedder, base_settings) -> None:
    # An index embedded with torch must not be silently queried with int8 vectors.
    assert int8_embedder.fingerprint != embedder.fingerprint
    exported = list((Path(base_settings.cache_dir) / "embedders").glob("*-onnx-*/model_int8.onnx"))
    assert exported, "the int8 export is cached for the next load"
