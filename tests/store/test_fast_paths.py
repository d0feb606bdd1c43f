"""The performance fast paths keep behaviour: settings, memory-mapped FAISS, lazy BM25."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import ConfigError, Settings
from rag.store.local.reader import HNSW_EF_SEARCH, IVF_NPROBE, LocalStore, _read_faiss
from rag.store.local.writer import build_faiss


def test_embed_backend_setting_is_validated() -> None:
    assert Settings.load(env={"RAG_EMBED_BACKEND": "onnx-int8"}).embed_backend == "onnx-int8"
    with pytest.raises(ConfigError, match="RAG_EMBED_BACKEND"):
        Settings.load(env={"RAG_EMBED_BACKEND": "tensorrt"})


def test_faiss_auto_factory_switches_at_the_threshold() -> None:
    s = Settings.load(env={}, faiss_factory="auto", faiss_auto_threshold=1000)
    assert s.faiss_factory_for(1000) == "Flat"
    assert s.faiss_factory_for(1001) == s.faiss_auto_mid_factory
    assert (
        Settings.load(env={}, faiss_factory="Flat").faiss_factory_for(10**7) == "Flat"
    )  # explicit wins
    assert Settings.load(env={}).faiss_factory_for(10**3) == "Flat"  # the default is auto


@pytest.mark.parametrize("factory", ["Flat", "HNSW32,Flat", "IVF8,Flat"])
def test_mapped_index_finds_the_same_neighbours(factory: str, tmp_path: Path) -> None:
    import faiss

    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((600, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index = build_faiss(vecs, factory)
    path = tmp_path / "dense.faiss"
    faiss.write_index(index, str(path))
    mapped = _read_faiss(str(path))
    from rag.store.local.reader import _set_search_params

    _set_search_params(mapped, faiss)
    base = faiss.downcast_index(mapped.index)
    if hasattr(base, "hnsw"):
        assert base.hnsw.efSearch >= HNSW_EF_SEARCH
    if hasattr(base, "nprobe"):
        assert base.nprobe >= min(IVF_NPROBE, base.nlist)
    _, ids = mapped.search(vecs[:5], 1)
    assert ids[:, 0].tolist() == [0, 1, 2, 3, 4]  # each vector is its own nearest neighbour


def test_bm25_loads_on_first_sparse_search(articles_settings: Settings, articles_index) -> None:
    store = LocalStore.open(articles_settings.index_dir)
    try:
        assert store._bm25 is None  # opening (e.g. `rag stats`) does not load BM25
        hits = store.sparse_search(["dpo"], 3)
        assert hits and store._bm25 is not None
        # The hybrid path asks for scores of the same terms again: same numbers, no re-scoring.
        again = store.sparse_scores(["dpo"], [i for i, _ in hits])
        assert again == {i: pytest.approx(s) for i, s in hits}
    finally:
        store.close()
