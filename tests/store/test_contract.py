"""The store contract: every store (:class:`rag.store.base.Store` and its writer) behaves the same.

Each test runs unchanged against the local FAISS + BM25 directory and embedded Milvus Lite,
over the same 37 articles (``any_store``), and against a fresh, empty place
(``empty_settings``). A new store passes this module before the chain or the UI see it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import ingest
from rag.config import Settings
from rag.errors import IndexCorrupt, IndexNotFound
from rag.schema import Chunk
from rag.store.factory import open_store
from tests.conftest import ARTICLES
from tests.store.conftest import milvus_settings, quiet

STORES = ("local", "milvus-lite")


@pytest.fixture(params=STORES)
def any_store(request, assistant, articles_settings):
    """(kind, settings, store) over the articles: the session's local index, or Milvus Lite."""
    if request.param == "local":
        return request.param, articles_settings, assistant.store
    settings, _report, a = request.getfixturevalue("milvus_lite_articles")
    return request.param, settings, a.store


@pytest.fixture(params=STORES)
def empty_settings(request, articles_settings, tmp_path: Path) -> Settings:
    """Settings naming a place where nothing was built yet (the embedding cache is shared)."""
    if request.param == "local":
        return milvus_settings(articles_settings, tmp_path / "work", "local")
    pytest.importorskip("milvus_lite")
    return milvus_settings(articles_settings, tmp_path / "work", f"{tmp_path}/empty.db")


def _vector(embedder, text: str) -> np.ndarray:
    return embedder.embed_queries([text])[0]


# ---------------------------------------------------------------------------- reading
def test_stats_and_documents_agree(any_store, embedder) -> None:
    kind, _settings, store = any_store
    stats = store.stats()
    docs = store.documents()
    assert stats["documents"] == len(docs) == 37
    assert stats["chunks"] == sum(d["chunks"] for d in docs) > 37
    assert stats["embedder_fingerprint"] == embedder.fingerprint
    assert stats["store"].startswith(kind.split("-")[0])
    assert [d["doc_id"] for d in docs] == sorted(d["doc_id"] for d in docs)
    assert all(set(d) == {"doc_id", "title", "source", "lang", "chunks"} for d in docs)
    assert store.manifest["embedder"]["fingerprint"] == embedder.fingerprint


def test_dense_search_ranks_by_inner_product(any_store, embedder) -> None:
    _kind, _settings, store = any_store
    v = _vector(embedder, "DPO 为什么不需要奖励模型?")
    hits = store.dense_search(v, 5)
    assert len(hits) == 5
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    assert store.chunks([hits[0][0]])[0].doc_id == "dpo"
    exact = store.dense_scores(v, [i for i, _ in hits])
    assert all(exact[i] == pytest.approx(s, abs=1e-4) for i, s in hits)
    assert store.dense_search(v, 0) == []


def test_sparse_search_ranks_by_bm25(any_store) -> None:
    _kind, _settings, store = any_store
    from rag.text.tokenize_zh import BM25Tokenizer

    query = "FlashAttention 显存 分块"
    terms = BM25Tokenizer()(query)
    hits = store.sparse_search(terms, 5, query=query)
    assert hits and all(s > 0 for _, s in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert store.chunks([hits[0][0]])[0].doc_id == "flashattention"
    again = store.sparse_scores(terms, [i for i, _ in hits], query=query)
    assert all(again[i] == pytest.approx(s, rel=1e-3) for i, s in hits)


def test_chunks_come_back_in_order_and_map_into_their_document(any_store, embedder) -> None:
    _kind, _settings, store = any_store
    ids = [i for i, _ in store.dense_search(_vector(embedder, "DDIM 采样步数"), 4)]
    chunks = store.chunks(list(reversed(ids)))
    assert [c.chunk_id for c in chunks] == [c.chunk_id for c in reversed(store.chunks(ids))]
    for c in chunks:
        assert isinstance(c, Chunk) and c.n_tokens > 0
        assert store.document_text(c.doc_id)[c.start : c.end] == c.text
    assert store.chunks([]) == []
    assert store.document_text("no-such-doc") is None


def test_unknown_chunk_ids_are_reported_as_damage(any_store) -> None:
    _kind, _settings, store = any_store
    with pytest.raises(IndexCorrupt):
        store.chunks([10**12 + 7])


def test_an_empty_place_says_how_to_build(empty_settings: Settings) -> None:
    with pytest.raises(IndexNotFound, match="rag ingest"):
        open_store(empty_settings)


# ---------------------------------------------------------------------------- writing
def test_incremental_ingest_adds_changes_and_removes(
    empty_settings: Settings, articles_index, embedder, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("dpo.md", "ddim.md", "yolo.md", "flashattention.md"):
        shutil.copy(ARTICLES / name, corpus / name)
    first = ingest([corpus], empty_settings, progress=False, embedder=embedder, log=quiet)
    assert (first.added, first.documents, first.embedded) == (4, 4, 0)  # vectors from the cache

    (corpus / "ddim.md").unlink()
    yolo = corpus / "yolo.md"
    yolo.write_text(yolo.read_text(encoding="utf-8") + "\n补充: Darknet。\n", encoding="utf-8")
    (corpus / "fm.txt").write_text("因子分解机 (FM) 用隐向量的内积建模特征交叉。", encoding="utf-8")
    second = ingest([corpus], empty_settings, progress=False, embedder=embedder, log=quiet)
    assert (second.added, second.changed, second.removed, second.unchanged) == (1, 1, 1, 2)

    store = open_store(empty_settings)
    try:
        docs = {d["doc_id"]: d["chunks"] for d in store.documents()}
        assert set(docs) == {"dpo", "yolo", "flashattention", "fm"}
        assert store.stats()["chunks"] == sum(docs.values()) == second.chunks
        assert "Darknet" in store.document_text("yolo")
        hits = store.sparse_search(["因子", "分解"], 3, query="因子分解机")
        assert store.chunks([hits[0][0]])[0].doc_id == "fm"
    finally:
        store.close()
    again = ingest([corpus], empty_settings, progress=False, embedder=embedder, log=quiet)
    assert again.up_to_date and again.embedded == 0
