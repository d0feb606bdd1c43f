"""The Milvus store: the same ingest, retrieval and CLI on Milvus, over the real protocol.

Both modes of Milvus Lite (embedded, and a server on loopback; see ``conftest.py``) must give
the same passages as the local FAISS + BM25 store. What every store must do is in
``test_contract.py``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from ingest.pipeline import ingest
from rag.config import PROJECT_ROOT, Settings
from rag.errors import IndexNotFound, StoreError
from rag.retrieval.fusion import reciprocal_rank_fusion
from rag.store.factory import open_store
from rag.store.milvus.reader import MilvusStore
from rag.store.milvus.schema import chunk_pk
from rag.store.milvus.target import is_milvus_uri, parse_milvus_uri
from rag.store.milvus.writer import MilvusIndexWriter
from tests.conftest import ARTICLES
from tests.store.conftest import free_port, milvus_settings, quiet

QUESTIONS = PROJECT_ROOT / "data" / "eval" / "questions.jsonl"
MODES = ("dense", "bm25", "hybrid")


class CachedQueries:
    """The embedder, embedding each question once for both stores."""

    def __init__(self, embedder) -> None:
        self.embedder, self.memo = embedder, {}

    def embed_queries(self, texts):
        key = tuple(texts)
        if key not in self.memo:
            self.memo[key] = self.embedder.embed_queries(texts)
        return self.memo[key]

    def __getattr__(self, name):
        return getattr(self.embedder, name)


@pytest.fixture(scope="module")
def questions() -> list[str]:
    rows = [
        json.loads(line)
        for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    answerable = [r["question"] for r in rows if r.get("gold_doc_ids")]
    return answerable[:10]


# ---------------------------------------------------------------------------- addresses
def test_store_uris_are_recognized_and_parsed(tmp_path: Path) -> None:
    assert not is_milvus_uri("local") and not is_milvus_uri("")
    t = parse_milvus_uri("milvus://alice:s3cret@db.internal:29530/kb?collection=docs_v2&secure=1")
    assert (t.client_uri, t.db_name, t.collection, t.token) == (
        "https://db.internal:29530",
        "kb",
        "docs_v2",
        "alice:s3cret",
    )
    assert "s3cret" not in t.uri and "s3cret" not in repr(t)
    assert parse_milvus_uri("milvus://h").client_uri == "http://h:19530"
    lite = parse_milvus_uri(f"{tmp_path}/x.db?collection=c2")
    assert lite.lite and lite.client_uri == str(tmp_path / "x.db") and lite.collection == "c2"
    with pytest.raises(StoreError, match="collection name"):
        parse_milvus_uri("milvus://h?collection=bad-name;drop")
    assert chunk_pk("dpo#0") == chunk_pk("dpo#0") and 0 <= chunk_pk("x") < 2**63


def test_unreachable_server_fails_with_a_clear_message(base_settings: Settings) -> None:
    settings = base_settings.replace(vector_store=f"milvus://127.0.0.1:{free_port()}?timeout=2")
    with pytest.raises(StoreError, match=r"cannot connect to Milvus at milvus://127\.0\.0\.1"):
        open_store(settings)


def test_empty_milvus_says_how_to_build(milvus_server: str, base_settings: Settings) -> None:
    settings = base_settings.replace(vector_store=milvus_server + "?collection=nothing_here")
    with pytest.raises(IndexNotFound, match="rag ingest --store"):
        open_store(settings)


# ---------------------------------------------------------------------------- retrieval
def test_same_index_as_the_local_store(milvus_articles, assistant) -> None:
    kind, _settings, report, a = milvus_articles
    local = assistant.store.stats()
    stats = a.stats()
    assert report.documents == local["documents"] and report.chunks == local["chunks"]
    assert report.embedded == 0  # vectors came from the cache: switching stores re-embeds nothing
    assert (stats["documents"], stats["chunks"]) == (local["documents"], local["chunks"])
    assert stats["store"] == ("milvus-lite" if kind == "embedded" else "milvus")
    assert stats["index"] == "FLAT"
    assert a.store.count() == local["chunks"]
    assert a.store.documents() == assistant.store.documents()
    for doc_id in ("dpo", "deepseek-v3"):
        assert a.store.document_text(doc_id) == assistant.store.document_text(doc_id)
    assert a.store.document_text("no-such-doc") is None


def test_same_top_results_as_the_local_store(
    milvus_articles, assistant, embedder, questions
) -> None:
    kind, _settings, _report, a = milvus_articles
    cached = CachedQueries(embedder)
    assistant.retriever.embedder = a.retriever.embedder = cached
    # Milvus keeps no sentence vectors (the local store's sentence score) and sums every BM25
    # term (no word counted once by its best form): compare the part both stores share, the
    # chunks' cosine and the flat BM25 query.
    local_settings = assistant.retriever.settings
    assistant.retriever.settings = dataclasses.replace(
        local_settings, sentence_weight=0.0, bm25_compounds=False
    )
    try:
        identical = {m: 0 for m in MODES}
        overlap = {m: 0.0 for m in MODES}
        diffs = []
        for q in questions:
            for mode in MODES:
                want = [p.doc_id for p in assistant.retrieve(q, k=5, mode=mode)]
                got = a.retrieve(q, k=5, mode=mode)
                ids = [p.doc_id for p in got]
                identical[mode] += ids == want
                overlap[mode] += len(set(ids) & set(want)) / max(1, len(set(want)))
                if ids != want:
                    diffs.append((mode, q, want, ids))
                if mode == "dense":  # same vectors, exact search: same chunks and scores
                    ref = assistant.retrieve(q, k=5, mode=mode)
                    assert [p.chunk_id for p in got] == [p.chunk_id for p in ref]
                    assert np.allclose(
                        [p.dense_score for p in got], [p.dense_score for p in ref], atol=1e-4
                    )
                if mode == "bm25" and got:
                    assert all(p.bm25_score and p.bm25_score > 0 for p in got)
                    ref = assistant.retrieve(q, k=1, mode=mode)
                    if ref and ref[0].chunk_id == got[0].chunk_id:  # same BM25 scale as bm25s
                        assert got[0].bm25_score == pytest.approx(ref[0].bm25_score, rel=0.1)
                assert all(p.text and p.title and p.source for p in got)
        n = len(questions)
        print(f"\n{kind}: identical top-5 doc lists {identical} of {n}; differences: {diffs}")
        assert identical["dense"] == n
        # BM25 runs in Milvus (its jieba analyzer, its BM25 statistics): nearly the same ranking.
        for mode in ("bm25", "hybrid"):
            assert identical[mode] >= n - 3, (mode, diffs)
            assert overlap[mode] / n >= 0.9, (mode, diffs)
    finally:
        assistant.retriever.embedder = a.retriever.embedder = embedder
        assistant.retriever.settings = local_settings


def test_milvus_native_hybrid_search_equals_our_rrf(milvus_articles, embedder, questions) -> None:
    _kind, settings, _report, a = milvus_articles
    store: MilvusStore = a.store
    for q in questions[:3]:
        v = embedder.embed_queries([q])[0]
        ours = reciprocal_rank_fusion(
            {
                "dense": [i for i, _ in store.dense_search(v, 30)],
                "bm25": [i for i, _ in store.sparse_search([], 30, query=q)],
            },
            k=settings.rrf_k,
        )[:10]
        native = store.hybrid_search(v, q, k=10, depth=30, rrf_k=settings.rrf_k)
        # Same fused scores; the order may differ only among exactly tied chunks.
        assert np.allclose([s for _, s in ours], [s for _, s in native], atol=1e-6)
        last = ours[-1][1]
        assert {i for i, s in ours if s > last + 1e-6} == {i for i, s in native if s > last + 1e-6}
        for i, s in native:
            assert abs(dict(ours).get(i, last) - s) < 1e-6


# ---------------------------------------------------------------------------- ingest
def _small_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in ("dpo.md", "ddim.md", "yolo.md", "flashattention.md"):
        shutil.copy(ARTICLES / name, folder / name)
    return folder


def test_incremental_ingest_and_deletion_on_milvus(
    milvus_server, articles_settings, articles_index, embedder, tmp_path
) -> None:
    corpus = _small_corpus(tmp_path / "corpus")
    settings = milvus_settings(
        articles_settings, tmp_path / "work", milvus_server + "?collection=incremental"
    )
    first = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert (first.added, first.documents) == (4, 4)

    (corpus / "ddim.md").unlink()
    yolo = corpus / "yolo.md"
    yolo.write_text(
        yolo.read_text(encoding="utf-8") + "\n补充: YOLO 的作者用 Darknet 训练。\n",
        encoding="utf-8",
    )
    (corpus / "fm.txt").write_text(
        "因子分解机 (FM) 用隐向量的内积建模特征交叉，适合稀疏的点击率数据。", encoding="utf-8"
    )
    before = embedder.embed_calls
    second = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert (second.added, second.changed, second.removed, second.unchanged) == (1, 1, 1, 2)
    assert 2 <= second.embedded == embedder.embed_calls - before  # only yolo's and fm's chunks

    store = open_store(settings)
    try:
        docs = {d["doc_id"]: d["chunks"] for d in store.documents()}
        assert set(docs) == {"dpo", "yolo", "flashattention", "fm"}
        assert store.count() == sum(docs.values()) == second.chunks == store.stats()["chunks"]
        assert "Darknet" in store.document_text("yolo")
        hits = store.chunks([i for i, _ in store.sparse_search([], 3, query="因子分解机 隐向量")])
        assert hits[0].doc_id == "fm"
        assert all(
            r.doc_id != "ddim"
            for r in store.chunks([i for i, _ in store.sparse_search([], 20, query="DDIM 采样")])
        )
    finally:
        store.close()

    again = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert again.up_to_date and again.embedded == 0

    # An ingest interrupted half-way leaves its documents recorded: the next run re-does them.
    writer = MilvusIndexWriter(parse_milvus_uri(settings.vector_store))
    writer._set_pending(["dpo", "ghost"], [str(corpus.resolve())])
    writer._set_pending(["elsewhere"], ["/other/worker/paths"])  # another ingest's: left alone
    writer.client.delete(writer.target.docs_collection, filter='doc_id == "dpo"')
    writer.close()
    healed = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert not healed.up_to_date and healed.added == 1 and healed.embedded == 0
    store = open_store(settings)
    try:
        assert {d["doc_id"] for d in store.documents()} == {"dpo", "yolo", "flashattention", "fm"}
        assert store.count() == healed.chunks
        assert MilvusIndexWriter(store.target, store.client).pending() == {
            "elsewhere": ["/other/worker/paths"]
        }
    finally:
        store.close()


# ---------------------------------------------------------------------------- CLI
def test_migrate_copies_the_local_index_without_embedding(
    milvus_server, articles_settings, articles_index, assistant, embedder, capsys
) -> None:
    from rag.cli import main

    to = milvus_server + "?collection=migrated"
    calls = embedder.embed_calls
    assert main(["migrate", "--index", str(articles_settings.index_dir), "--to", to]) == 0
    assert "migrated 37 documents" in capsys.readouterr().out
    assert embedder.embed_calls == calls
    store = open_store(articles_settings.replace(vector_store=to))
    try:
        local = assistant.store
        assert store.stats()["chunks"] == local.stats()["chunks"] == store.count()
        # Row i of the local vectors is chunk i: Milvus finds that chunk first, with score 1.
        for i in (0, 17):
            (best, score), *_ = store.dense_search(np.asarray(local.vectors[i]), 3)
            assert store.chunks([best])[0].chunk_id == local.chunks([i])[0].chunk_id
            assert score == pytest.approx(1.0, abs=1e-4)
        assert (
            store.manifest["embedder"]["fingerprint"] == local.manifest["embedder"]["fingerprint"]
        )
        assert store.manifest["migrated_from"]["generation"] == local.gen_dir.name
    finally:
        store.close()
    assert main(["migrate", "--index", str(articles_settings.index_dir), "--to", to]) == 1
    assert "--force" in capsys.readouterr().err


def test_cli_ingest_and_ask_against_the_server(
    milvus_server, articles_settings, embedder, tmp_path, capsys, monkeypatch
) -> None:
    from rag.cli import main
    from rag.embed.embedder import Embedder

    # The CLI would load the same model again (slow on 2 cores): hand it the session's.
    monkeypatch.setattr(
        Embedder, "load", classmethod(lambda cls, settings, progress=True: embedder)
    )
    corpus = _small_corpus(tmp_path / "corpus")
    work = milvus_settings(articles_settings, tmp_path / "work", "unused").index_dir
    store = milvus_server + "?collection=cli"
    common = ["--store", store, "--index", str(work), "--quiet"]
    assert main(["ingest", str(corpus), *common, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["documents"] == 4 and report["added"] == 4

    assert main(["stats", *common, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["store"] == "milvus" and stats["documents"] == 4 and stats["collection"] == "cli"

    assert main(["ask", "DDIM 需要重新训练模型吗?", *common, "--no-llm", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["passages"] and answer["passages"][0]["doc_id"] == "ddim"
    assert answer["citations"] and not answer["abstained"]


def test_long_documents_and_odd_ids_round_trip(tmp_path: Path) -> None:
    from rag.store.base import DocRow

    target = parse_milvus_uri(f"{tmp_path}/odd.db?collection=odd")
    text = "长文档。" * 12_000 + "结尾"  # 48k characters: more than one VARCHAR part
    docs = [
        DocRow('q"uote\\d', "T", "s", "zh", "h1", "/x/a.md", 0, text, {"tags": ["a"]}),
        DocRow("plain", "P", "s", "en", "h2", "/x/b.md", 0, "short", {}),
    ]
    writer = MilvusIndexWriter(target)
    writer.apply(
        docs,
        [],
        np.zeros((0, 8), np.float32),
        {"embedder": {"dim": 8}, "roots": ["/x"]},
        n_documents=2,
        n_chunks=0,
    )
    writer.close()
    store = MilvusStore.open_target(target)
    try:
        assert store.document_text('q"uote\\d') == text
        assert [d["doc_id"] for d in store.documents()] == ["plain", 'q"uote\\d']
        assert store.stats()["documents"] == 2 and store.count() == 0
        assert store.dense_search(np.ones(8, np.float32) / np.sqrt(8), 5) == []
        rows = {
            r["doc_id"]: r
            for r in MilvusIndexWriter(target, store.client).documents(with_text=True)
        }
        assert rows['q"uote\\d']["meta"] == {"tags": ["a"]} and rows['q"uote\\d']["text"] == text
        assert rows["plain"]["sha256"] == "h2" and rows["plain"]["origin"] == "/x/b.md"
    finally:
        store.close()
