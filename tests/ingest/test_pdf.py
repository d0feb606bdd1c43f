"""PDF papers: reading order in two columns, hyphenation, page numbers in citations, and the
PDFs that cannot be read (scanned, encrypted, broken). The PDFs are written by tests/pdf_maker.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingest.loaders import load_paths
from ingest.loaders.pdf import load_pdf
from rag.config import Settings
from tests.pdf_maker import PAGE_H, Line, column_lines, make_pdf

TITLE = "Exact Attention in Tiles and Preference Optimization Without Reward Models"
ABSTRACT = (
    "We describe two techniques that changed how large language models are trained and served. "
    "The first computes exact attention block by block; the second removes the separately "
    "trained reward model from preference alignment."
)
# page 1: two columns
DPO_LEFT = [
    "Direct preference optimization trains the language model directly on pairs of preferred "
    "and rejected answers, without reinforcement learning.",
    "Its implicit reward is the scaled logarithm of the probability ratio between the policy "
    "and a frozen reference model.",
]
DPO_RIGHT = [
    "Because the reward model disappears, preference alignment becomes a classification "
    "problem that is straightforward to implement and remarkably stable.",
    "Hyperparameter beta controls how far the optimized policy may drift from the reference.",
]
# page 2: two columns, the right one drawn first (content order must not decide reading order)
FLASH_LEFT = [
    "FlashAttention computes exact attention in tiles that fit into on-chip memory, so the full "
    "attention matrix is never materialized in high-bandwidth memory.",
    "An online softmax rescales the partial results whenever a new maximum appears.",
]
FLASH_RIGHT = [
    "The backward pass recomputes the attention tiles instead of storing them, trading "
    "arithmetic for memory traffic that dominates the runtime.",
]
# page 3: one column
FLOW = [
    "Rectified flow straightens the transport trajectories between noise and data, so that "
    "sampling needs only a handful of integration steps."
]


def paper() -> bytes:
    head, tail = TITLE.split(" Optimization ")
    page1 = [Line(72, PAGE_H - 70, head, 16), Line(72, PAGE_H - 90, "Optimization " + tail, 16)]
    abstract, y = column_lines([ABSTRACT], 72, PAGE_H - 130, 95)
    left, _ = column_lines(DPO_LEFT, 56, y - 10, 46)
    right, _ = column_lines(DPO_RIGHT, 320, y - 10, 46)
    page2_left, _ = column_lines(FLASH_LEFT, 56, PAGE_H - 80, 46)
    page2_right, _ = column_lines(FLASH_RIGHT, 320, PAGE_H - 80, 46)
    page3, _ = column_lines(FLOW, 72, PAGE_H - 80, 95)
    return make_pdf([page1 + abstract + left + right, page2_right + page2_left, page3])


def test_two_columns_read_left_then_right_with_hyphenation_undone() -> None:
    data = paper()
    rows = [ln.text for ln in column_lines(DPO_LEFT + FLASH_LEFT, 56, 700, 46)[0]]
    assert sum(r.endswith("-") for r in rows) >= 2  # some words really are split across lines
    doc, notes = load_pdf(data, "papers/tiles.pdf", "tiles")
    assert notes == []
    assert doc.title == TITLE
    text = doc.text
    # Every paragraph comes out whole and in reading order: columns are not interleaved and
    # words hyphenated at a line end are joined again.
    order = [ABSTRACT, *DPO_LEFT, *DPO_RIGHT, *FLASH_LEFT, *FLASH_RIGHT, *FLOW]
    positions = [text.find(p) for p in order]
    assert all(p >= 0 for p in positions), [
        o[:30] for o, p in zip(order, positions, strict=True) if p < 0
    ]
    assert positions == sorted(positions)
    assert not re.search(r"[a-z]- [a-z]", text)
    assert doc.meta["pages"] == 3
    starts = doc.meta["page_starts"]
    assert text[starts[1] :].startswith(FLASH_LEFT[0][:40])
    assert text[starts[2] :].startswith(FLOW[0][:40])


def test_pdfs_that_cannot_be_read_get_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "good.pdf").write_bytes(paper())
    (tmp_path / "scanned.pdf").write_bytes(make_pdf([[], []], image_pages=frozenset({0, 1})))
    (tmp_path / "locked.pdf").write_bytes(make_pdf([[Line(72, 700, "secret")]], encrypt=True))
    (tmp_path / "broken.pdf").write_bytes(paper()[:700])
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    mixed = make_pdf([[Line(72, 700, FLOW[0][:80])], []], image_pages=frozenset({1}))
    (tmp_path / "mixed.pdf").write_bytes(mixed)
    result = load_paths([tmp_path])
    assert sorted(d.doc_id for d in result.documents) == ["good", "mixed"]
    errors = {e.split(":")[0].rsplit("/", 1)[-1]: e for e in result.errors}
    assert set(errors) == {"scanned.pdf", "locked.pdf", "broken.pdf", "notes.pdf"}
    assert "no text layer in its 2 page(s)" in errors["scanned.pdf"]
    assert "encrypted PDF" in errors["locked.pdf"]
    assert "not a readable PDF" in errors["broken.pdf"]
    assert "not a readable PDF" in errors["notes.pdf"]
    assert all("\n" not in e for e in result.errors)
    assert any("mixed.pdf: no text layer on page(s) 2 of 2" in s for s in result.skipped)


def test_oversized_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.pdf"
    path.write_bytes(paper() + b"%" * 1_100_000)
    result = load_paths([path], max_bytes=1_000_000)
    assert result.documents == [] and "1.0 MB limit" in result.errors[0]


@pytest.fixture()
def cli_embedder(embedder, monkeypatch: pytest.MonkeyPatch):
    """The CLI would load the same model again (slow on 2 cores): hand it the session's."""
    from rag.embed.embedder import Embedder

    monkeypatch.setattr(
        Embedder, "load", classmethod(lambda cls, settings, progress=True: embedder)
    )
    return embedder


def test_ask_cites_file_and_page(
    tmp_path: Path, base_settings: Settings, cli_embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.cli import main

    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "tiles.pdf").write_bytes(paper())
    index = ["--index", str(tmp_path / "index"), "--quiet"]
    assert main(["ingest", str(folder), *index, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["documents"] == 1 and report["errors"] == []

    assert main(["search", "online softmax rescales partial results", *index, "--json"]) == 0
    top = json.loads(capsys.readouterr().out)[0]
    assert top["source"].endswith("tiles.pdf, p. 2") and top["doc_id"] == "tiles"

    question = "How does FlashAttention avoid materializing the attention matrix?"
    assert main(["ask", question, *index, "--no-llm", "--no-stream"]) == 0
    out = capsys.readouterr().out
    sources = out[out.index("Sources:") :]
    assert re.search(r"\[\d\] .* — \S*papers/tiles\.pdf, p\. 2", sources), out

    # A broken PDF added later: one line naming it, and the indexed paper is kept.
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<")
    assert main(["ingest", str(folder), *index, "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["documents"] == 1 and report["unchanged"] == 1
    assert "broken.pdf: not a readable PDF" in captured.err
