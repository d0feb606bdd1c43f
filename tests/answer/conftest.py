"""Fixtures of the answer-chain tests: a scripted OpenAI-compatible server on loopback, and the
claim check's tokenizer, glossary and similarity."""

from __future__ import annotations

import numpy as np
import pytest

from rag.llm.client import LLM
from rag.text.glossary import Glossary
from rag.text.tokenize_zh import BM25Tokenizer
from tests.scripted_llm import ScriptedLLM

SECRET = "sk-test-DO-NOT-LEAK-1234567890"


@pytest.fixture(scope="module")
def server():
    with ScriptedLLM() as s:
        yield s


@pytest.fixture()
def llm(server: ScriptedLLM):
    """A client of ``server`` with its queue and request log emptied."""
    server.reset()
    client = LLM(server.base_url, "scripted", api_key=SECRET, timeout=3.0, retries=1)
    yield client
    client.close()


@pytest.fixture(scope="session")
def tools() -> dict:
    """The claim check's tokenizer and glossary (loaded once: the glossary takes seconds)."""
    return {"terms": BM25Tokenizer(), "glossary": Glossary.load(max_sense_words=2)}


@pytest.fixture(scope="session")
def similarity(embedder):
    """The claim check's e5 similarity of clauses to evidence sentences."""

    def cosine(clauses: list[str], sentences: list[str]) -> np.ndarray:
        return embedder.embed_queries(clauses) @ embedder.embed_passages(sentences).T

    return cosine
