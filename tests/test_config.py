"""The typed settings: environment, overrides, validation, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import ConfigError, Settings


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


def test_retrieval_settings_are_checked() -> None:
    s = Settings.load(env={"RAG_FUSION": "rrf", "RAG_BM25_DROP_QUESTION_WORDS": "no"})
    assert s.fusion == "rrf" and s.bm25_drop_question_words is False
    assert Settings.load(env={}).fusion == "zscore"
    with pytest.raises(ConfigError, match="RAG_FUSION"):
        Settings.load(env={"RAG_FUSION": "borda"})
    with pytest.raises(ConfigError, match="RAG_BM25_WEIGHT_LOW"):
        Settings.load(env={"RAG_BM25_WEIGHT_LOW": "0.7", "RAG_BM25_WEIGHT_HIGH": "0.5"})
    with pytest.raises(ConfigError, match="RAG_BM25_RENDERINGS"):
        Settings.load(env={"RAG_BM25_RENDERINGS": "-1"})
    assert Settings.load(env={"RAG_EVIDENCE_PASSAGE_GAP": "0"}).evidence_passage_gap == 0.0
    with pytest.raises(ConfigError, match="RAG_EVIDENCE_PASSAGE_GAP"):
        Settings.load(env={"RAG_EVIDENCE_PASSAGE_GAP": "-1"})


def test_crawl_settings_from_env_and_their_limits() -> None:
    s = Settings.load(env={"RAG_CRAWL_DELAY": "0", "RAG_CRAWL_ALLOW_PRIVATE": "true"})
    assert s.crawl_delay == 0.0 and s.crawl_allow_private and s.crawl_max_pages == 200
    with pytest.raises(ConfigError, match="RAG_CRAWL_MAX_PAGES"):
        Settings.load(env={"RAG_CRAWL_MAX_PAGES": "0"})
    with pytest.raises(ConfigError, match="RAG_CRAWL_TIMEOUT"):
        Settings.load(env={}, crawl_timeout=0.0)
