"""The embedder backends: the same top passage everywhere, fingerprints that tell incompatible
vectors apart (and keep torch-built indexes valid for the fp32 ONNX backend), loading that opens
no model, and an index refused or rebuilt when the backend does not match it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.config import DEFAULT_EMBEDDER, Settings
from rag.embed.embedder import BACKENDS, Embedder
from tests.conftest import ARTICLES

PASSAGES = [
    (ARTICLES / name).read_text(encoding="utf-8")[:600]
    for name in ("dpo.md", "ddim.md", "flashattention.md", "yolo.md", "deepseek-v3.md")
]
QUESTIONS = [
    ("DPO 为什么不需要奖励模型?", 0),
    ("DDIM 采样为什么更快?", 1),
    ("How does FlashAttention reduce memory traffic?", 2),
    ("YOLO 把目标检测当作什么问题?", 3),
]


@pytest.fixture(scope="module")
def backends(base_settings: Settings, embedder) -> dict[str, Embedder]:
    """Every backend on the shared cache (the ONNX files are built at most once, ever)."""
    out = {base_settings.embed_backend: embedder}
    for name in BACKENDS:
        if name not in out:
            out[name] = Embedder.load(base_settings.replace(embed_backend=name), progress=False)
    return out


def test_every_backend_ranks_the_same_top_passage(backends: dict[str, Embedder]) -> None:
    questions = [q for q, _ in QUESTIONS]
    ref_p = backends["torch"].embed_passages(PASSAGES)
    for name, emb in backends.items():
        got_p, got_q = emb.embed_passages(PASSAGES), emb.embed_queries(questions)
        assert got_p.shape == (len(PASSAGES), emb.dim) and got_p.dtype == np.float32
        assert got_q.dtype == np.float32
        assert np.allclose(np.linalg.norm(got_p, axis=1), 1.0, atol=1e-4)
        assert np.allclose(np.linalg.norm(got_q, axis=1), 1.0, atol=1e-4)
        floor = 0.9999 if BACKENDS[name] in (None, ("fp32", "fp32")) else 0.98
        assert (got_p * ref_p).sum(axis=1).min() > floor, name  # same passage, vs torch
        for (question, want), q in zip(QUESTIONS, got_q, strict=True):
            assert int(np.argmax(got_p @ q)) == want, (name, question)


def test_fingerprints_separate_incompatible_vectors(backends: dict[str, Embedder]) -> None:
    fp = {name: emb.fingerprint for name, emb in backends.items()}
    # fp32 ONNX is the torch model (verified at export): an index built with one serves both.
    assert fp["torch"] == fp["onnx"]
    assert len({fp["onnx"], fp["onnx-int8"], fp["onnx-int8-docs"]}) == 3


def test_torch_fingerprint_is_the_one_earlier_versions_stored(backends, base_settings) -> None:
    """Computed from the folder's files, it equals what was computed from the loaded model, so
    indexes built before the ONNX default keep working without re-embedding."""
    from rag.embed.e5_build import model_dir
    from rag.embed.embedder import fingerprint_of
    from rag.embed.model_info import ModelInfo

    backends["torch"].embed_queries(["x"])  # loads the SentenceTransformer
    st = backends["torch"]._engines._torch.model
    folder = model_dir(base_settings.cache_dir)
    info = ModelInfo.read(folder)
    old = fingerprint_of(
        DEFAULT_EMBEDDER,
        st.prompts["query"],
        st.prompts["passage"],
        st.get_embedding_dimension(),
        st.max_seq_length,
        info.extra,
        info.file_hashes(),
        None,
    )
    assert backends["torch"].fingerprint == old


def test_loading_opens_no_model(base_settings: Settings) -> None:
    emb = Embedder.load(base_settings, progress=False)
    engines = emb._engines
    assert engines._tokens is None and not engines._sessions and engines._torch is None
    emb.count_passage_tokens(["一个段落"])
    assert engines._tokens is not None and not engines._sessions  # counting needs no session
    emb.embed_queries(["一个问题"])
    assert list(engines._sessions) == ["queries"]  # a server never opens the passage encoder


def test_backend_mismatch_fails_loudly_or_rebuilds(base_settings, backends, tmp_path) -> None:
    from ingest.pipeline import ingest
    from rag.api import Assistant, IndexMismatch

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("dpo.md", "yolo.md"):
        shutil.copy(ARTICLES / name, corpus / name)
    int8 = base_settings.replace(index_dir=tmp_path / "index", embed_backend="onnx-int8")
    ingest([corpus], int8, progress=False, embedder=backends["onnx-int8"], log=lambda m: None)
    fp32 = int8.replace(embed_backend="onnx")
    with pytest.raises(IndexMismatch, match=r"onnx-int8.*rag ingest --rebuild"):
        Assistant.open(settings=fp32, llm="none", auto_ingest=False, progress=False)
    report = ingest([corpus], fp32, progress=False, embedder=backends["onnx"], log=lambda m: None)
    assert report.rebuilt and "embedder changed" in report.rebuild_reason
    assert report.embedded == report.chunks  # every vector re-embedded, none reused
    a = Assistant.open(settings=fp32, llm="none", auto_ingest=False, progress=False)
    try:
        assert a.retrieve("DPO 为什么不需要奖励模型?", k=1)[0].doc_id == "dpo"
    finally:
        a.close()


def test_onnx_files_are_only_what_the_runtime_loads(backends, base_settings) -> None:
    from rag.embed.onnx_export import FILES, INFO_FILE, VOCAB_CACHE, export_dir

    out = export_dir(backends["onnx-int8"]._engines.info.folder, Path(base_settings.cache_dir))
    names = {f.name for f in out.iterdir()}
    allowed = {INFO_FILE, VOCAB_CACHE} | {n for f in FILES.values() for n in (f, f + ".data")}
    assert names <= allowed, names - allowed  # no intermediate export left behind
