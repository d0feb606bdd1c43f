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
