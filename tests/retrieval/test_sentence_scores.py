"""Sentence vectors in retrieval: each chunk's evidence sentences are stored at ingest, dense and
hybrid retrieval add a chunk's best sentence cosine to its own, and the answer chain reuses the
stored vectors instead of embedding the passages' sentences again."""

from __future__ import annotations

import dataclasses

import numpy as np

from rag.api import Assistant
from rag.store.factory import open_store
from rag.text.sentences import evidence_spans

QUESTION = "DDIM 相比 DDPM 采样快多少倍?"


def test_every_chunk_stores_the_vectors_of_its_evidence_sentences(assistant, embedder) -> None:
    store = assistant.store
    ids = list(range(0, int(store.vectors.shape[0]), 7))
    for chunk, (spans, vectors) in zip(store.chunks(ids), store.sentences(ids), strict=True):
        assert [tuple(s) for s in spans.tolist()] == evidence_spans(chunk.text)
        texts = [chunk.text[s:e] for s, e in spans.tolist()]
        # the int8 model's output moves a little with the batch a text is padded in (~0.005):
        # each stored row is its own sentence's vector, not a neighbour's (those stay < 0.97)
        cosines = (vectors * embedder.embed_passages(texts)).sum(axis=1)
        assert cosines.min() > 0.99


def test_a_passage_scores_its_best_sentence_and_dense_mode_blends_it(assistant, embedder) -> None:
    w = assistant.settings.sentence_weight
    assert 0 < w < 1
    passages = assistant.retrieve(QUESTION, k=5, mode="dense")
    assert passages[0].doc_id == "ddim"
    query = embedder.embed_queries([QUESTION])[0]
    for p in passages:
        texts = [p.text[s:e] for s, e in evidence_spans(p.text)]
        best = float(np.max(embedder.embed_passages(texts) @ query))
        assert p.sentence_score is not None and abs(p.sentence_score - best) < 3e-3
        assert p.dense_score is not None
        assert abs(p.score - ((1 - w) * p.dense_score + w * p.sentence_score)) < 1e-6
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    hybrid = assistant.retrieve(QUESTION, k=5)
    assert all(p.sentence_score is not None for p in hybrid)


def test_sentence_weight_zero_ranks_by_the_chunk_cosine_alone(assistant) -> None:
    plain = dataclasses.replace(assistant.retriever.settings, sentence_weight=0.0)
    retriever = assistant.retriever
    saved, retriever.settings = retriever.settings, plain
    try:
        passages = assistant.retrieve("How does DPO avoid training a reward model?", mode="dense")
    finally:
        retriever.settings = saved
    assert all(p.sentence_score is None and p.score == p.dense_score for p in passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


def test_the_answer_chain_embeds_no_passage_sentence_again(
    articles_settings, articles_index, embedder
) -> None:
    a = Assistant(articles_settings, open_store(articles_settings), embedder, llm="none")
    try:
        before = embedder.embed_calls
        answer = a.ask(QUESTION)
        assert "10~50" in answer.text or "10-50" in answer.text or "倍" in answer.text
        assert embedder.embed_calls == before  # every evidence sentence came from the index
    finally:
        a.close()


def test_rag_search_shows_the_best_sentence_score(
    articles_settings, articles_index, capsys, monkeypatch
) -> None:
    from rag.cli import main

    monkeypatch.setenv("RAG_CACHE_DIR", str(articles_settings.cache_dir))
    code = main(["search", QUESTION, "--k", "1", "--index", str(articles_settings.index_dir)])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("1. DDIM")
    assert "best sentence 0." in out.splitlines()[0]
