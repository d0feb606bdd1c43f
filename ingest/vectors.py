"""Embedding for ingest: chunk vectors and sentence vectors, through the embedding cache.

Both go through :func:`embed_cached`: vectors already in the cache (keyed by the embedder's
fingerprint and the text's hash) are reused, the rest are embedded longest first (so each batch
pads to similar lengths) and committed to the cache part by part, so a killed ingest keeps the
work it did.

The sentence vectors are one e5 passage vector per evidence sentence of each chunk
(:func:`rag.text.sentences.evidence_spans`, the sentences the answer chain scores): the
retriever adds a chunk's best sentence similarity to its cosine, and the answer chain reuses
them instead of embedding the sentences of the retrieved passages again.

Example:
    >>> from rag.store.base import ChunkRow
    >>> rows = [ChunkRow("a#0", "a", "t", "s", 0, 9, "第一句话很短。第二句话也很短。", 9)]
    >>> [(int(c), int(s), int(e)) for c, (s, e) in zip(*sentence_rows(rows))]
    [(0, 0, 7), (0, 7, 15)]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from rag.config import Settings
from rag.embed.cache import EmbedCache, text_key
from rag.embed.embedder import Embedder
from rag.store.base import ChunkRow, SentenceVectors
from rag.text.sentences import evidence_spans


def embed_cached(
    texts: dict[str, str],
    cache: EmbedCache,
    emb: Embedder,
    settings: Settings,
    progress: bool,
    desc: str,
) -> tuple[dict[str, np.ndarray], set[str]]:
    """Vectors of ``texts`` (key -> text): from the cache, or embedded and cached.

    Returns:
        ``(key -> vector, the keys that were embedded now)``.
    """
    have = cache.get(set(texts))
    todo = sorted(((k, t) for k, t in texts.items() if k not in have), key=lambda kv: -len(kv[1]))
    bar = tqdm(
        total=len(todo), desc=desc, unit="text", disable=not progress, file=sys.stderr, leave=False
    )
    step = max(settings.embed_batch_size * 4, 64)
    for begin in range(0, len(todo), step):
        part = todo[begin : begin + step]
        vecs = emb.embed_passages(
            [t for _, t in part], settings.embed_batch_size, on_batch=bar.update
        )
        fresh = {k: vecs[i] for i, (k, _) in enumerate(part)}
        cache.put(fresh)  # committed now: a killed ingest keeps this work
        have.update(fresh)
    bar.close()
    return have, {k for k, _ in todo}


def sentence_rows(chunks: Sequence[ChunkRow]) -> tuple[np.ndarray, np.ndarray]:
    """The evidence sentences of ``chunks``: chunk ids ``[n]`` and offsets ``[n, 2]``."""
    owner: list[int] = []
    spans: list[tuple[int, int]] = []
    for i, c in enumerate(chunks):
        for span in evidence_spans(c.text):
            owner.append(i)
            spans.append(span)
    return np.array(owner, dtype=np.int32), np.array(spans, dtype=np.int32).reshape(-1, 2)


def sentence_vectors(
    chunks: Sequence[ChunkRow],
    cache: EmbedCache,
    emb: Embedder,
    settings: Settings,
    progress: bool,
) -> tuple[SentenceVectors, list[str], int]:
    """Sentence vectors of ``chunks``, their cache keys, and how many were embedded."""
    owner, spans = sentence_rows(chunks)
    texts = [chunks[c].text[s:e] for c, (s, e) in zip(owner.tolist(), spans.tolist(), strict=True)]
    keys = [text_key(t) for t in texts]
    todo = dict(zip(keys, texts, strict=True))
    have, embedded = embed_cached(todo, cache, emb, settings, progress, "embedding sentences")
    vectors = (
        np.stack([have[k] for k in keys]).astype(np.float32)
        if keys
        else np.zeros((0, emb.dim), dtype=np.float32)
    )
    return SentenceVectors(owner, spans, vectors), keys, len(embedded)
