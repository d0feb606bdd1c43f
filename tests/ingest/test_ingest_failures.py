"""Ingest never drops what it cannot read, and explains write failures in one line (issue 18)."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from ingest.pipeline import ingest
from rag.cli.ingest import EXIT_DONE_WITH_ERRORS, exit_code
from rag.config import Settings
from rag.errors import IndexWriteError
from rag.store.local.layout import CURRENT
from rag.store.local.reader import LocalStore

DOCS = {
    "dpo.md": "---\nid: dpo\ntitle: DPO\n---\nDPO 直接用偏好数据优化策略，不需要单独的奖励模型。\n",
    "ddim.md": "---\nid: ddim\ntitle: DDIM\n---\nDDIM 不需要重新训练模型，采样步数可以大幅减少。\n",
    "yolo.md": "---\nid: yolo\ntitle: YOLO\n---\nYOLO 把目标检测当作一个回归问题来解决。\n",
}


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture()
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    return base_settings.replace(index_dir=tmp_path / "index")


def _ids(settings: Settings) -> set[str]:
    store = LocalStore.open(settings.index_dir)
    try:
        return {d["doc_id"] for d in store.documents()}
    finally:
        store.close()


def test_a_file_that_cannot_be_decoded_keeps_its_indexed_version(
    corpus: Path, settings: Settings, embedder
) -> None:
    """Issue 18: appending b'\\xff\\xfe' to an article and re-ingesting said "1 removed"."""
    ingest([corpus], settings, progress=False, embedder=embedder, log=lambda m: None)
    with open(corpus / "yolo.md", "ab") as fh:
        fh.write(b"\xff\xfe")
    messages: list[str] = []
    report = ingest([corpus], settings, progress=False, embedder=embedder, log=messages.append)
    assert report.removed == 0 and report.documents == 3
    assert _ids(settings) == {"dpo", "ddim", "yolo"}
    assert any(m.startswith("kept:") and "yolo" in m for m in messages), messages
    assert any("yolo.md" in e for e in report.errors)
    assert "kept as indexed" in report.summary()
    assert exit_code(report) == EXIT_DONE_WITH_ERRORS

    (corpus / "yolo.md").unlink()  # only a file deleted from the folder is removed
    report = ingest([corpus], settings, progress=False, embedder=embedder, log=lambda m: None)
    assert report.removed == 1 and _ids(settings) == {"dpo", "ddim"}
    assert exit_code(report) == 0


def test_unreadable_and_binary_files_keep_their_indexed_version(
    corpus: Path, settings: Settings, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest([corpus], settings, progress=False, embedder=embedder, log=lambda m: None)
    (corpus / "ddim.md").write_bytes(b"\x00\x01binary now")
    denied = corpus / "dpo.md"
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == denied:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    report = ingest([corpus], settings, progress=False, embedder=embedder, log=lambda m: None)
    assert report.removed == 0 and len(report.kept) == 2
    assert _ids(settings) == {"dpo", "ddim", "yolo"}


def test_a_symlink_loop_in_the_corpus_is_skipped_and_the_rest_indexed(
    corpus: Path, settings: Settings, embedder
) -> None:
    (corpus / "self.md").symlink_to("self.md")
    messages: list[str] = []
    report = ingest([corpus], settings, progress=False, embedder=embedder, log=messages.append)
    assert report.documents == 3
    assert [m for m in messages if "self.md" in m] == [
        f"skipped: {corpus / 'self.md'}: broken symlink (symlink loop); skipped"
    ]
    assert exit_code(report) == 0
    assert exit_code(report, strict=True) == EXIT_DONE_WITH_ERRORS


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
        (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
    ],
)
def test_disk_full_and_permission_errors_are_one_line_and_the_index_is_intact(
    corpus: Path,
    settings: Settings,
    embedder,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    says: str,
) -> None:
    first = ingest([corpus], settings, progress=False, embedder=embedder, log=lambda m: None)
    (corpus / "new.md").write_text("新文档：FM 因子分解机。", encoding="utf-8")

    import rag.store.local.writer as writer

    def fail(path: object, *args: object, **kwargs: object) -> None:
        if isinstance(failure, OSError):
            failure.filename = str(path)
        raise failure

    monkeypatch.setattr(writer.np, "save", fail)
    with pytest.raises(IndexWriteError) as info:
        ingest([corpus], settings, progress=False, embedder=embedder, log=lambda m: None)
    message = str(info.value)
    assert "\n" not in message and says in message
    assert f"the index at {settings.index_dir} is intact" in message
    if isinstance(failure, OSError):
        assert "vectors.npy" in message  # the path that could not be written
    assert (settings.index_dir / CURRENT).read_text().strip() == first.generation
    assert _ids(settings) == {"dpo", "ddim", "yolo"}


def test_the_cli_prints_one_line_for_a_full_disk(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Issue 18: `error: unexpected OperationalError: database or disk is full`."""
    import ingest.pipeline as pipeline
    from rag.cli import main

    def full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(pipeline, "_ingest_locked", full)
    index = tmp_path / "index"
    assert main(["ingest", str(corpus), "--index", str(index), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: cannot write {index}: the disk is full (database or disk is full); the index "
        f"at {index} is intact (the previous version still answers). Free some space and run "
        "`rag ingest` again."
    ]
