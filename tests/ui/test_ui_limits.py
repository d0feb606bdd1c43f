"""The page's smaller limits (issue 18): uploads that are not text are refused and not kept;
``/search`` takes k from 1 to 20."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from rag.config import Settings
from rag.errors import UploadError
from rag.ui.chat import MAX_K, ChatUI, top_k
from rag.ui.uploads import validate_upload


class StubAssistant(SimpleNamespace):
    """What the handlers under test use: settings, stats, documents, retrieve."""

    def __init__(self) -> None:
        super().__init__(settings=Settings.load(env={}), asked=[])

    def stats(self) -> dict[str, Any]:
        return {"documents": 0, "chunks": 0, "embedder": "e5"}

    def documents(self) -> list[dict[str, Any]]:
        return []

    def retrieve(self, query: str, k: int, mode: str) -> list[Any]:
        self.asked.append(k)
        return []


def test_a_binary_upload_is_refused_once_and_not_kept(tmp_path: Path) -> None:
    """Issue 18: reported as both "skipped" and "saved … already in the index", file kept."""
    upload_dir = tmp_path / "uploads"
    ui = ChatUI(StubAssistant(), upload_dir=upload_dir)  # type: ignore[arg-type]
    binary = tmp_path / "gradio-tmp"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    report, _, _ = ui.upload([{"path": str(binary), "orig_name": "paper.md"}])
    assert report.count("paper.md") == 1 and "binary file, not text; not saved" in report
    assert "saved" not in report.replace("not saved", "")
    assert "nothing was added" in report
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []


def test_validate_upload_refuses_undecodable_text(tmp_path: Path) -> None:
    bad = tmp_path / "x"
    bad.write_bytes("文档".encode() + b"\xff\xfe\xff")
    with pytest.raises(UploadError, match=r"^notes\.txt: neither UTF-8 nor GB18030"):
        validate_upload(bad, "notes.txt", 1.0)


def test_search_k_is_bounded() -> None:
    stub = StubAssistant()
    ui = ChatUI(stub)  # type: ignore[arg-type]
    ui.search("DPO", "hybrid", 1e9)
    ui.search("DPO", "hybrid", 3.0)
    assert stub.asked == [MAX_K, 3]
    for bad in (-3, 0, 0.5, float("nan"), "many", None):
        with pytest.raises(ValueError, match="k must be a number of passages from 1 to 20"):
            ui.search("DPO", "hybrid", bad)  # type: ignore[arg-type]
    assert top_k(12) == 12


def test_a_pdf_upload_must_be_a_pdf(tmp_path: Path) -> None:
    fake = tmp_path / "x"
    fake.write_bytes(b"<html>not a pdf</html>")
    with pytest.raises(UploadError, match=r"^paper\.pdf: not a PDF file; not saved"):
        validate_upload(fake, "paper.pdf", 1.0)
    real = tmp_path / "y"
    real.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    assert validate_upload(real, "paper.pdf", 1.0) == "paper.pdf"
