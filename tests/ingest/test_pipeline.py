"""Ingest: incremental re-runs, deletions, setting changes, atomic generations, locking."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.pipeline import NothingToIndex, ingest
from rag.config import Settings
from rag.errors import IndexBusy, IndexNotFound
from rag.store.local.layout import CURRENT
from rag.store.local.reader import LocalStore
from tests.conftest import ARTICLES

PICK = ["dpo.md", "ddim.md", "flashattention.md", "yolo.md"]


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in PICK:
        shutil.copy(ARTICLES / name, folder / name)
    return folder


@pytest.fixture()
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    return base_settings.replace(index_dir=tmp_path / "index")


def quiet(msg: str) -> None:
    pass


def test_first_ingest_then_up_to_date(corpus: Path, settings: Settings, embedder) -> None:
    first = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert first.documents == 4 and first.added == 4 and first.chunks >= 4
    assert first.embedded == first.chunks
    store = LocalStore.open(settings.index_dir)
    assert store.stats()["documents"] == 4
    assert {d["doc_id"] for d in store.documents()} == {"dpo", "ddim", "flashattention", "yolo"}
    store.close()
    again = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert again.up_to_date and again.embedded == 0 and again.generation == first.generation


def test_changing_one_file_reembeds_only_its_chunks(
    corpus: Path, settings: Settings, embedder
) -> None:
    first = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    path = corpus / "yolo.md"
    path.write_text(
        path.read_text(encoding="utf-8") + "\n新增一句: YOLO 把检测当作回归问题。\n",
        encoding="utf-8",
    )
    before = embedder.embed_calls
    second = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    store = LocalStore.open(settings.index_dir)
    yolo_chunks = next(d["chunks"] for d in store.documents() if d["doc_id"] == "yolo")
    store.close()
    assert second.changed == 1 and second.unchanged == 3 and second.added == 0
    assert second.embedded <= yolo_chunks
    assert embedder.embed_calls - before == second.embedded + second.embedded_sentences
    assert second.embedded >= 1
    # only the new sentence (and any cut differently) is embedded: the rest come from the cache
    assert 1 <= second.embedded_sentences < first.embedded_sentences / 2
    assert second.generation != first.generation


def test_deleted_file_is_dropped_and_other_roots_are_kept(
    corpus: Path, settings: Settings, embedder, tmp_path: Path
) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "note.txt").write_text("Rectified Flow 让 ODE 轨迹变直, 采样更快。", encoding="utf-8")
    ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    ingest([extra], settings, progress=False, embedder=embedder, log=quiet)
    (corpus / "dpo.md").unlink()
    report = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert report.removed == 1
    store = LocalStore.open(settings.index_dir)
    ids = {d["doc_id"] for d in store.documents()}
    store.close()
    assert ids == {"ddim", "flashattention", "yolo", "note"}


def test_changed_chunk_setting_forces_a_rebuild_with_a_message(
    corpus: Path, settings: Settings, embedder
) -> None:
    ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    messages: list[str] = []
    report = ingest(
        [corpus],
        settings.replace(chunk_tokens=128),
        progress=False,
        embedder=embedder,
        log=messages.append,
    )
    assert report.rebuilt and "chunker settings changed" in report.rebuild_reason
    assert any("rebuilding" in m for m in messages)


def test_corpus_with_no_documents_is_refused(settings: Settings, embedder, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(NothingToIndex, match="no documents to index"):
        ingest([empty], settings, progress=False, embedder=embedder, log=quiet)
    with pytest.raises(IndexNotFound):
        LocalStore.open(settings.index_dir)


def test_second_ingest_while_one_holds_the_lock_stops_clearly(
    corpus: Path, settings: Settings, embedder
) -> None:
    from filelock import FileLock

    settings.index_dir.mkdir(parents=True)
    with FileLock(str(settings.index_dir / ".lock")), pytest.raises(IndexBusy, match="another"):
        ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)


def test_failed_write_leaves_the_previous_generation_live(
    corpus: Path, settings: Settings, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    (corpus / "new.txt").write_text("新文档: FM 因子分解机。", encoding="utf-8")

    import rag.store.local.writer as writer

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writer, "build_faiss", explode)
    with pytest.raises(OSError):
        ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert (settings.index_dir / CURRENT).read_text().strip() == first.generation
    assert not list(settings.index_dir.glob(".gen-*"))  # the half-written one was removed
    store = LocalStore.open(settings.index_dir)
    assert store.stats()["documents"] == 4
    store.close()


def test_auto_index_type_switches_past_the_threshold(
    corpus: Path, settings: Settings, embedder
) -> None:
    import json

    from rag.store.local.layout import current_generation

    small = settings.replace(faiss_factory="auto", faiss_auto_threshold=10_000)
    first = ingest([corpus], small, progress=False, embedder=embedder, log=quiet)
    manifest = json.loads((current_generation(settings.index_dir) / "manifest.json").read_text())
    assert manifest["faiss"]["factory"] == "Flat"
    store = LocalStore.open(settings.index_dir)
    query = embedder.embed_queries(["DPO 为什么不需要奖励模型"])[0]
    flat_top = [i for i, _ in store.dense_search(query, 3)]
    store.close()

    # now the corpus is "large" (a type that learns from the vectors waits for 1,000 of them,
    # so this 4-chunk corpus is given one that does not)
    grown = small.replace(faiss_auto_threshold=first.chunks - 1, faiss_auto_min_vectors=1)
    grown = grown.replace(faiss_auto_mid_factory="SQfp16")
    second = ingest([corpus], grown, progress=False, embedder=embedder, log=quiet)
    assert second.embedded == 0  # only the index type changed: vectors come from the cache
    manifest = json.loads((current_generation(settings.index_dir) / "manifest.json").read_text())
    assert manifest["faiss"]["factory"] == grown.faiss_factory_for(first.chunks) == "SQfp16"
    store = LocalStore.open(settings.index_dir)
    assert [i for i, _ in store.dense_search(query, 3)] == flat_top
    store.close()


def test_sentence_vectors_can_be_left_out_without_rebuilding_every_time(
    corpus: Path, settings: Settings, embedder
) -> None:
    without = settings.replace(sentence_vectors_max_chunks=0)
    first = ingest([corpus], without, progress=False, embedder=embedder, log=quiet)
    assert first.embedded_sentences == 0
    store = LocalStore.open(settings.index_dir)
    assert store.sentence_vectors is None and store.manifest["sentences"]["stored"] is False
    assert store.sentence_scores(store.vectors[0], [0]) == {}
    store.close()
    again = ingest([corpus], without, progress=False, embedder=embedder, log=quiet)
    assert again.up_to_date  # left out on purpose: not "missing"
    back = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert back.rebuilt and back.embedded == 0 and back.embedded_sentences > 0
    store = LocalStore.open(settings.index_dir)
    assert store.manifest["sentences"]["count"] == back.embedded_sentences
    store.close()
