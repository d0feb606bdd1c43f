"""The three Milvus collections of an index: fields, vector index by size, BM25 analyzer.

``<c>`` holds the chunks (vectors, and ``bm25_text`` analyzed by Milvus's BM25 function),
``<c>_docs`` the documents (text split into VARCHAR-sized parts), ``<c>_meta`` the manifest and
the documents an interrupted ingest left half-written.
"""

from __future__ import annotations

import hashlib
from typing import Any

from rag.schema import CHUNK_FIELDS

MILVUS_FORMAT = 1  # bump when the collections' schema changes (forces a rebuild)

# Index choice by collection size (chunks). Below FLAT_MAX_CHUNKS an exact scan costs a few
# milliseconds and is exact; HNSW (~1.7 KB per 384-d vector with its graph) serves up to ~10M;
# beyond that IVF_SQ8 (~0.4 KB per vector) keeps memory in check. Measured in docs/scale-out.md.
FLAT_MAX_CHUNKS = 100_000
IVF_MIN_CHUNKS = 10_000_000
HNSW_BUILD = {"M": 16, "efConstruction": 200}
HNSW_EF = 96
IVF_NLIST = 1024  # per segment (Milvus builds one index per sealed segment of ~1 GB)
IVF_NPROBE = 32

TEXT_PART_CHARS = 16_000  # at most 64 KB of UTF-8 per VARCHAR (Milvus's limit is 65,535 bytes)
ID_CHARS = 1024
LABEL_CHARS = 8192
BATCH_ROWS = 512
FILTER_IDS = 512  # ids per `in [...]` filter expression

PK, VECTOR, SPARSE, BM25_TEXT = "pk", "vector", "sparse", "bm25_text"
CHUNK_FIELDS = [PK, *CHUNK_FIELDS]  # a chunk and its primary key
DOC_FIELDS = ["doc_id", "title", "source", "lang", "sha256", "origin", "n_chunks", "meta"]


# Punctuation and function words dropped by the analyzer, like the local BM25 tokenizer does
# (rag.text.tokenize_zh). Milvus's jieba tokenizer keeps punctuation as tokens; a stop filter works
# both on Milvus and on Milvus Lite (which ignores the `removepunct` filter).
_PUNCT = list("，。、；：？！“”‘’（）《》【】「」『』…—～·,.;:?!\"'()[]{}<>-_/\\|@#$%^&*+=~`")


def analyzer_params() -> dict[str, Any]:
    """The BM25 analyzer: jieba in search mode (as the local store), lowercase, stop words.

    Milvus's built-in ``{"type": "chinese"}`` analyzer is jieba plus a filter that drops tokens
    such as ``gpt-4``; Milvus Lite 3.2 does not know it. This explicit form works on both.

    Example:
        >>> analyzer_params()["tokenizer"]["type"]
        'jieba'
    """
    from rag.text.tokenize_zh import _STOP_SINGLE_CJK, STOPWORDS

    stop = sorted(set(STOPWORDS) | set(_STOP_SINGLE_CJK) | set(_PUNCT))
    return {
        "tokenizer": {"type": "jieba", "mode": "search", "hmm": True},
        "filter": ["lowercase", {"type": "stop", "stop_words": stop}],
    }


BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}  # the local store's bm25s settings


def chunk_pk(chunk_id: str) -> int:
    """The stable INT64 primary key of a chunk: 63 bits of SHA-256 of its ``chunk_id``.

    The same chunk keeps its key across ingests, so deletions and re-inserts address it without
    a lookup table. Two ids collide with probability ~n²/2⁶⁴ (5·10⁻⁴ at 100M chunks).

    Example:
        >>> chunk_pk("dpo#0") == chunk_pk("dpo#0") != chunk_pk("dpo#1")
        True
    """
    digest = hashlib.sha256(chunk_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


def choose_index(
    n_chunks: int, forced: str | None = None
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Vector index type, build parameters and search parameters for a collection size.

    Example:
        >>> choose_index(40_000)[0], choose_index(2_000_000)[0], choose_index(50_000_000)[0]
        ('FLAT', 'HNSW', 'IVF_SQ8')
        >>> choose_index(10, forced="HNSW")[2]
        {'ef': 96}
    """
    kind = (forced or "").upper()
    if not kind:
        kind = (
            "FLAT"
            if n_chunks < FLAT_MAX_CHUNKS
            else "HNSW"
            if n_chunks < IVF_MIN_CHUNKS
            else "IVF_SQ8"
        )
    if kind in ("HNSW", "HNSW_SQ"):
        return kind, dict(HNSW_BUILD), {"ef": HNSW_EF}
    if kind.startswith("IVF"):
        return kind, {"nlist": IVF_NLIST}, {"nprobe": IVF_NPROBE}
    return kind, {}, {}


def _key(doc_id: str) -> str:
    """A VARCHAR primary key for a document id (hex: pymilvus's query iterator pages with
    ``key > "<last key>"`` unescaped, so keys must not contain quotes or backslashes)."""
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()


def _cut_utf8(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` UTF-8 bytes (whole characters)."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def text_parts(text: str, size: int = TEXT_PART_CHARS) -> list[str]:
    """A document's text in VARCHAR-sized parts (at least one).

    Example:
        >>> [len(p) for p in text_parts("x" * 5, size=2)]
        [2, 2, 1]
    """
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _chunk_schema(client: Any, dim: int) -> Any:
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(PK, DataType.INT64, is_primary=True)
    schema.add_field("chunk_id", DataType.VARCHAR, max_length=ID_CHARS + 16)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=ID_CHARS)
    schema.add_field("title", DataType.VARCHAR, max_length=LABEL_CHARS)
    schema.add_field("source", DataType.VARCHAR, max_length=LABEL_CHARS)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535)
    schema.add_field("n_tokens", DataType.INT64)
    schema.add_field("embed_key", DataType.VARCHAR, max_length=64)
    schema.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field(
        BM25_TEXT,
        DataType.VARCHAR,
        max_length=65_535,
        enable_analyzer=True,
        analyzer_params=analyzer_params(),
    )
    schema.add_field(SPARSE, DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=[BM25_TEXT],
            output_field_names=[SPARSE],
        )
    )
    return schema


def _docs_schema(client: Any) -> Any:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=ID_CHARS)
    schema.add_field("part", DataType.INT64)
    schema.add_field("n_parts", DataType.INT64)
    for name in ("title", "source", "origin"):
        schema.add_field(name, DataType.VARCHAR, max_length=LABEL_CHARS)
    schema.add_field("lang", DataType.VARCHAR, max_length=32)
    schema.add_field("sha256", DataType.VARCHAR, max_length=64)
    schema.add_field("n_chunks", DataType.INT64)
    schema.add_field("meta", DataType.JSON)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535)
    schema.add_field("_v", DataType.FLOAT_VECTOR, dim=2)  # Milvus requires a vector field
    return schema


def _meta_schema(client: Any) -> Any:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("kind", DataType.VARCHAR, max_length=32)
    schema.add_field("value", DataType.JSON)
    schema.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
    return schema
