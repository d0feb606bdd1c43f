"""Reciprocal rank fusion and the typed settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import ConfigError, Settings
from rag.retrieval.fusion import reciprocal_rank_fusion


def test_rrf_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion({"dense": [1, 2, 3], "bm25": [3, 2, 9]}, k=60)
    order = [i for i, _ in fused]
    assert set(order[:2]) == {2, 3} and order.index(1) == 2  # in both lists beats first in one


def test_rrf_weights() -> None:
    fused = reciprocal_rank_fusion({"dense": [1], "bm25": [2]}, weights={"dense": 2.0, "bm25": 1.0})
    assert fused[0][0] == 1


def test_env_then_overrides() -> None:
    env = {
        "RAG_K": "7",
        "RAG_MODE": "bm25",
        "RAG_INDEX_DIR": "/tmp/x",
        "OPENAI_API_KEY": "sk-secret",
    }
    s = Settings.load(env=env, mode="dense")
    assert s.k == 7 and s.mode == "dense" and s.index_dir == Path("/tmp/x")
    assert s.llm_api_key == "sk-secret" and not s.uses_embedded_llm
    assert "sk-secret" not in repr(s) and s.public_dict()["llm_api_key"] == "***"


def test_bad_values_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="RAG_K"):
        Settings.load(env={"RAG_K": "many"})
    with pytest.raises(ConfigError, match="RAG_MODE"):
        Settings.load(env={"RAG_MODE": "magic"})


def test_embedded_llm_is_the_default() -> None:
    assert Settings.load(env={}).uses_embedded_llm
