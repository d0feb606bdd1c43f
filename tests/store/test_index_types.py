"""The FAISS type chosen per corpus size, and every type (new and old) answers like exact search.

Small and deterministic: a few thousand random unit vectors, thresholds lowered in Settings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings, ivf_lists
from rag.store.base import ChunkRow, DocRow
from rag.store.local.layout import FORMAT_VERSION
from rag.store.local.reader import LocalStore
from rag.store.local.writer import commit_generation, write_generation

DIM = 32


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def write_index(index_dir: Path, vectors: np.ndarray, factory: str) -> None:
    n = len(vectors)
    docs = [DocRow("d", "t", "s", "en", "", "", n, "", {})]
    chunks = [
        ChunkRow(
            chunk_id=f"c{i}", doc_id="d", title="t", source="s",
            start=0, end=1, text=f"x{i}", n_tokens=1, embed_key="",
        )
        for i in range(n)
    ]  # fmt: skip
    manifest = {"format": FORMAT_VERSION, "embedder": {"dim": DIM}, "documents": {}}
    gen = write_generation(index_dir, docs, chunks, vectors, [["x"]] * n, manifest, factory)
    commit_generation(index_dir, gen)


SMALL = Settings.load(
    env={}, faiss_factory="auto", faiss_auto_threshold=1000, faiss_auto_large_threshold=2000
)


def test_auto_picks_flat_then_pq_fast_scan_then_ivf() -> None:
    assert SMALL.faiss_factory_for(1000, DIM) == "Flat"
    assert SMALL.faiss_auto_mid_factory == "PQ{dim}x4fs"
    assert SMALL.faiss_factory_for(1001, DIM) == "PQ32x4fs"  # 4 bits per dimension
    assert SMALL.faiss_factory_for(2000, DIM) == "PQ32x4fs"
    assert SMALL.faiss_factory_for(3000, DIM) == f"IVF{ivf_lists(3000)},SQ8" == "IVF64,SQ8"
    default = Settings.load(env={})
    assert default.faiss_factory_for(50_000, 384) == "Flat"
    assert default.faiss_factory_for(100_000, 384) == "PQ384x4fs"
    assert default.faiss_factory_for(1_000_000, 384) == "PQ384x4fs"
    assert default.faiss_factory_for(1_000_001, 384) == "IVF4096,SQ8"
    assert Settings.load(env={}, faiss_factory="HNSW32,Flat").faiss_factory_for(10) == (
        "HNSW32,Flat"
    )  # explicit wins


@pytest.mark.parametrize(
    ("n", "factory"),
    [
        (800, None),  # auto: Flat
        (1500, None),  # auto: PQ32x4fs
        (3000, None),  # auto: IVF64,SQ8
        (1500, "HNSW32,Flat"),  # an old auto type above the threshold still reads
        (1500, "SQ8"),  # the auto type of 2026-12-01 too
        (1500, "SQfp16"),
    ],
)
def test_every_type_finds_the_exact_neighbours(n: int, factory: str | None, tmp_path: Path):
    rng = np.random.default_rng(n)
    vectors = unit(rng, n)
    factory = factory or SMALL.faiss_factory_for(n, DIM)
    write_index(tmp_path, vectors, factory)
    queries = unit(rng, 20)
    near = vectors[:20] + 0.05 * unit(rng, 20)  # each near one known vector
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    store = LocalStore.open(tmp_path)
    try:
        assert store.manifest["faiss"]["factory"] == factory
        for i, q in enumerate(near):
            top = store.dense_search(q, 5)
            assert top[0][0] == i
            assert top[0][1] == pytest.approx(float(vectors[i] @ q), abs=1e-5)  # exact score
        if factory.startswith("IVF"):
            return  # random questions in 32 dimensions: no cluster to find, approximate
        exact = queries @ vectors.T
        for q, sims in zip(queries, exact, strict=True):
            got = store.dense_search(q, 10)
            assert len(got) == 10
            assert got[0][0] == int(np.argmax(sims))  # top-1 as exact search
            scores = [s for _, s in got]
            assert scores == sorted(scores, reverse=True)
    finally:
        store.close()


def test_search_keeps_the_callers_openmp_threads(tmp_path: Path) -> None:
    import faiss

    vectors = unit(np.random.default_rng(3), 600)
    write_index(tmp_path, vectors, "Flat")
    store = LocalStore.open(tmp_path)
    before = faiss.omp_get_max_threads()
    try:
        store.dense_search(vectors[0], 3)
        assert faiss.omp_get_max_threads() == before  # one thread inside the call only
    finally:
        store.close()
