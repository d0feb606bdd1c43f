"""The peers' benchmark tasks: the default LlamaIndex and LangChain pipelines on our e5 folder.

Run by :mod:`bench.workers` in a fresh interpreter, like our own tasks; ``t_process`` is the
worker process's start (cold starts are measured from it).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import bench_questions, rss_mb, task_threads


def _peer_docs(corpus: str) -> tuple[list[Any], float]:
    """The corpus's documents through the product's own loader (same text for everyone)."""
    from bench.common import corpus_path
    from ingest.loaders import load_paths

    t = time.perf_counter()
    docs = load_paths([corpus_path(corpus)], fmt="auto", max_bytes=20_000_000).documents
    return docs, time.perf_counter() - t


def _hf_tokenizer() -> Any:
    from transformers import AutoTokenizer

    from bench.common import EMBEDDER_DIR

    return AutoTokenizer.from_pretrained(str(EMBEDDER_DIR))


def _peer_cold(
    a: dict[str, Any],
    load_model_s: float,
    open_index: Callable[[], Callable[[str], Any]],
    t_process: float,
) -> dict[str, Any]:
    """Cold start of a peer: open its persisted index, answer one question."""
    t = time.perf_counter()
    search = open_index()
    open_s = time.perf_counter() - t
    t = time.perf_counter()
    search(bench_questions(a["corpus"], 1)[0]["question"])
    return {
        "load_model_s": load_model_s,
        "open_s": open_s,
        "first_query_s": time.perf_counter() - t,
        "interpreter_to_ready_s": time.perf_counter() - t_process,
        "peak_rss_mb": rss_mb(),
    }


def _peer_warm(
    a: dict[str, Any],
    search: Callable[[str], Any],
    *,
    documents: int,
    chunks: int,
    load_model_s: float,
    seconds: dict[str, float],
    persist: Path,
) -> dict[str, Any]:
    """A peer's ingest timings plus its warm query latency (``repeats`` x ``n`` questions)."""
    from bench.common import dir_size, percentiles

    lat = []
    for _ in range(a.get("repeats", 3)):
        for q in bench_questions(a["corpus"], a.get("n", 20)):
            t = time.perf_counter()
            search(q["question"])
            lat.append(time.perf_counter() - t)
    return {
        "documents": documents,
        "chunks": chunks,
        "load_model_s": load_model_s,
        "seconds": {**seconds, "total": sum(seconds.values())},
        "query": percentiles(lat),
        "index_bytes": dir_size(persist),
        "peak_rss_mb": rss_mb(),
    }


def peer_llamaindex(a: dict[str, Any], t_process: float) -> dict[str, Any]:
    """LlamaIndex default pipeline: SentenceSplitter + HuggingFaceEmbedding + VectorStoreIndex."""
    import torch

    torch.set_num_threads(task_threads())
    from llama_index.core import Document, StorageContext, VectorStoreIndex, load_index_from_storage
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from bench.common import EMBEDDER_DIR

    persist = Path(a["persist_dir"])
    t0 = time.perf_counter()
    embed = HuggingFaceEmbedding(
        model_name=str(EMBEDDER_DIR),
        query_instruction="query: ",
        text_instruction="passage: ",
        embed_batch_size=a.get("batch_size", 32),
        device="cpu",
        normalize=True,
    )
    tok = _hf_tokenizer()
    load_model_s = time.perf_counter() - t0
    if a.get("mode") == "cold":
        return _peer_cold(
            a,
            load_model_s,
            lambda: (
                load_index_from_storage(
                    StorageContext.from_defaults(persist_dir=str(persist)), embed_model=embed
                )
                .as_retriever(similarity_top_k=5)
                .retrieve
            ),
            t_process,
        )
    shutil.rmtree(persist, ignore_errors=True)
    raw, load_s = _peer_docs(a["corpus"])
    docs = [Document(text=d.text, metadata={"title": d.title}, id_=d.doc_id) for d in raw]
    splitter = SentenceSplitter(
        chunk_size=a.get("chunk_tokens", 256),
        chunk_overlap=a.get("chunk_overlap", 38),
        tokenizer=lambda s: tok.encode(s, add_special_tokens=False),
    )
    t = time.perf_counter()
    nodes = splitter.get_nodes_from_documents(docs)
    chunk_s = time.perf_counter() - t
    t = time.perf_counter()
    index = VectorStoreIndex(nodes, embed_model=embed, show_progress=False)
    embed_index_s = time.perf_counter() - t
    t = time.perf_counter()
    index.storage_context.persist(persist_dir=str(persist))
    persist_s = time.perf_counter() - t
    return _peer_warm(
        a,
        index.as_retriever(similarity_top_k=5).retrieve,
        documents=len(docs),
        chunks=len(nodes),
        load_model_s=load_model_s,
        seconds={
            "load": load_s,
            "chunk": chunk_s,
            "embed+index": embed_index_s,
            "persist": persist_s,
        },
        persist=persist,
    )


def peer_langchain(a: dict[str, Any], t_process: float) -> dict[str, Any]:
    """LangChain default pipeline: RecursiveCharacterTextSplitter + HuggingFaceEmbeddings + FAISS."""
    import torch

    torch.set_num_threads(task_threads())
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from bench.common import EMBEDDER_DIR

    persist = Path(a["persist_dir"])
    t0 = time.perf_counter()
    embed = HuggingFaceEmbeddings(
        model_name=str(EMBEDDER_DIR),
        model_kwargs={"device": "cpu"},
        encode_kwargs={
            "batch_size": a.get("batch_size", 32),
            "normalize_embeddings": True,
            "prompt": "passage: ",
        },
        query_encode_kwargs={"normalize_embeddings": True, "prompt": "query: "},
    )
    tok = _hf_tokenizer()
    load_model_s = time.perf_counter() - t0
    if a.get("mode") == "cold":

        def open_db() -> Callable[[str], Any]:
            db = FAISS.load_local(str(persist), embed, allow_dangerous_deserialization=True)
            return lambda q: db.similarity_search(q, k=5)

        return _peer_cold(a, load_model_s, open_db, t_process)
    shutil.rmtree(persist, ignore_errors=True)
    raw, load_s = _peer_docs(a["corpus"])
    docs = [Document(page_content=d.text, metadata={"title": d.title, "id": d.doc_id}) for d in raw]
    splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        tok, chunk_size=a.get("chunk_tokens", 256), chunk_overlap=a.get("chunk_overlap", 38)
    )
    t = time.perf_counter()
    chunks = splitter.split_documents(docs)
    chunk_s = time.perf_counter() - t
    t = time.perf_counter()
    db = FAISS.from_documents(chunks, embed)
    embed_index_s = time.perf_counter() - t
    t = time.perf_counter()
    db.save_local(str(persist))
    persist_s = time.perf_counter() - t
    return _peer_warm(
        a,
        lambda q: db.similarity_search(q, k=5),
        documents=len(docs),
        chunks=len(chunks),
        load_model_s=load_model_s,
        seconds={
            "load": load_s,
            "chunk": chunk_s,
            "embed+index": embed_index_s,
            "persist": persist_s,
        },
        persist=persist,
    )
