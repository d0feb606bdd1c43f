"""PDF loader: the text layer of every page, in reading order, with page numbers kept.

Text comes from PDFium (through ``pypdfium2``): each character with its box and font size. The
characters are grouped into lines (PDFium's own line breaks, and a wide horizontal gap splits a
line in two), the lines into column blocks — a band of the page where a vertical gutter runs
between two columns is read left column first, whatever order the file draws them in —, and
the lines of a block into paragraphs (a larger vertical gap). A word hyphenated at the end of a
line is joined again ("optimiza-" + "tion"), Chinese lines are joined without a space, so the
chunker sees whole sentences.

One PDF is one document; ``meta["page_starts"]`` holds the offset in the text where each page
begins, and :func:`ingest.chunk.chunk_document` chunks it page by page, each chunk's ``source``
saying its page (``"a.pdf, p. 4"``).
A PDF without any text (a scan) is refused with a "no text layer" message, an encrypted or
broken one with a one-line error naming it.

Example:
    >>> doc, notes = load_pdf(Path("paper.pdf").read_bytes(), "paper.pdf", "paper")  # doctest: +SKIP
    >>> doc.meta["page_starts"], notes                                               # doctest: +SKIP
    ([0, 2710, 5933], [])
    >>> _join("direct preference optimiza-", "tion of the policy"), _join("注意力", "机制")
    ('direct preference optimization of the policy', '注意力机制')
    >>> _join("a state-of-the-", "art model")
    'a state-of-the-art model'

"""

from __future__ import annotations

import ctypes
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.clean import clean_text
from ingest.loaders.base import detect_lang
from rag.errors import LoadError
from rag.schema import Document

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_HYPHENS = "-\u00ad\u2010\x02"
_JUNK_TITLES = re.compile(
    r"^(untitled|microsoft word|slide \d|document\d*$)|\.(docx?|tex|pdf)$", re.I
)


@dataclass
class _Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)


@dataclass
class _Chars:
    """The characters of one page with their boxes (PDF units, y up) and font sizes."""

    text: list[str] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float] | None] = field(default_factory=list)
    sizes: list[float] = field(default_factory=list)


def _page_chars(textpage: object) -> _Chars:
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw  # type: ignore[attr-defined]
    out = _Chars()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    for i in range(pdfium_c.FPDFText_CountChars(raw)):
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        ch = chr(code) if code else ""
        box = None
        if not pdfium_c.FPDFText_IsGenerated(raw, i) and pdfium_c.FPDFText_GetCharBox(
            raw, i, left, right, bottom, top
        ):
            box = (left.value, bottom.value, right.value, top.value)
        out.text.append(ch)
        out.boxes.append(box)
        out.sizes.append(float(pdfium_c.FPDFText_GetFontSize(raw, i)) if box else 0.0)
    return out


def _lines(chars: _Chars) -> list[_Line]:
    """Lines of text with their boxes; a horizontal gap of several characters starts a new one."""
    lines: list[_Line] = []
    buf: list[str] = []
    boxes: list[tuple[float, float, float, float]] = []
    sizes: list[float] = []

    def flush() -> None:
        text = "".join(buf).strip()
        if text and boxes:
            lines.append(
                _Line(
                    text,
                    min(b[0] for b in boxes),
                    min(b[1] for b in boxes),
                    max(b[2] for b in boxes),
                    max(b[3] for b in boxes),
                    statistics.median(sizes) if sizes else 0.0,
                )
            )
        buf.clear()
        boxes.clear()
        sizes.clear()

    for ch, box, size in zip(chars.text, chars.boxes, chars.sizes, strict=True):
        if ch in "\r\n":
            flush()
            continue
        if box is not None and boxes:
            prev = boxes[-1]
            gap = box[0] - prev[2]
            em = max(size, 4.0)
            same_row = abs((box[1] + box[3]) / 2 - (prev[1] + prev[3]) / 2) < em * 0.6
            if not same_row or gap > em * 2.5 or gap < -em * 4:
                flush()  # another row, or a gutter between two columns on the same baseline
        buf.append(ch)
        if box is not None and (box[2] > box[0] or ch.strip()):
            boxes.append(box)
            sizes.append(size)
    flush()
    return lines


def _gutter(lines: Sequence[_Line], width: float) -> float | None:
    """The x of a vertical gutter between two columns of text, or None for one column.

    A few lines may cross it (a title, a wide caption): at most a quarter of them.
    """
    if len(lines) < 6:
        return None
    lo, hi = width * 0.3, width * 0.7
    best, best_key = None, (0, 0)
    for step in range(41):
        x = lo + (hi - lo) * step / 40
        crossing = sum(1 for line in lines if line.x0 < x < line.x1)
        if crossing > len(lines) / 4:
            continue
        left = sum(1 for line in lines if line.x1 <= x)
        right = sum(1 for line in lines if line.x0 >= x)
        key = (min(left, right), -crossing)
        if key > best_key:
            best, best_key = x, key
    return best if best_key[0] >= 3 else None


def _continues(prev: _Line, line: _Line) -> bool:
    """``line`` goes on the paragraph of ``prev``: same left edge and size, no gap between."""
    return (
        abs(line.x0 - prev.x0) < 2.0
        and abs(line.size - prev.size) < 0.5
        and 0 <= prev.y0 - line.y1 < prev.height * 0.9
    )


def _reading_order(lines: list[_Line], width: float) -> list[list[_Line]]:
    """Blocks of lines in reading order, top to bottom; where the page has two columns, the
    left column of a band before its right one (a line across the gutter ends the band)."""
    rows = sorted(lines, key=lambda ln: (-ln.y1, ln.x0))
    x = _gutter(lines, width)
    if x is None:
        return [rows] if rows else []
    blocks: list[list[_Line]] = []
    band: list[_Line] = []
    crossing_block = False

    for line in rows:
        if crossing_block and _continues(blocks[-1][-1], line):
            blocks[-1].append(line)  # the short last line of a full-width paragraph
            continue
        if line.x0 < x < line.x1:  # spans the gutter: a title, an abstract, a wide caption
            if band:
                blocks.append([ln for ln in band if ln.x1 <= x])
                blocks.append([ln for ln in band if ln.x0 >= x])
                band.clear()
                crossing_block = False
            if crossing_block:
                blocks[-1].append(line)
            else:
                blocks.append([line])
                crossing_block = True
        else:
            band.append(line)
            crossing_block = False
    if band:
        blocks.append([ln for ln in band if ln.x1 <= x])
        blocks.append([ln for ln in band if ln.x0 >= x])
    return [b for b in blocks if b]


def _join(prev: str, nxt: str) -> str:
    """Join two lines of a paragraph: undo end-of-line hyphenation, no space between CJK."""
    if prev and prev[-1] in _HYPHENS and len(prev) >= 2 and prev[-2].isalpha():
        fragment = prev[:-1].rsplit(" ", 1)[-1]
        if nxt[:1].islower() and "-" not in fragment:  # not "state-of-the-" + "art"
            return prev[:-1] + nxt  # "optimiza-" + "tion"
        return prev.rstrip("\x02\u00ad") + ("" if prev[-1] == "-" else "-") + nxt
    if _CJK.match(prev[-1:]) and _CJK.match(nxt[:1]):
        return prev + nxt
    return prev + " " + nxt


def _block_text(block: list[_Line]) -> str:
    paragraphs: list[str] = []
    current = ""
    heights = [ln.height for ln in block]
    line_h = statistics.median(heights) if heights else 10.0
    prev: _Line | None = None
    for line in block:
        new_para = prev is None or (prev.y0 - line.y1) > line_h * 0.9 or line.size > prev.size * 1.2
        if prev is not None and line.size * 1.2 < prev.size:
            new_para = True  # a heading above smaller body text
        if new_para and current:
            paragraphs.append(current)
            current = ""
        current = _join(current, line.text) if current else line.text
        prev = line
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)


def _page_text(page: object) -> tuple[str, list[_Line]]:
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    try:
        chars = _page_chars(textpage)
    finally:
        textpage.close()
    width = float(page.get_width())  # type: ignore[attr-defined]
    lines = _lines(chars)
    blocks = _reading_order(lines, width)
    text = "\n\n".join(t for t in (_block_text(b) for b in blocks) if t)
    return clean_text(text.replace("\x02", "-")), lines


def _title(meta_title: str, first_lines: list[_Line], fallback: str) -> str:
    meta_title = " ".join(meta_title.split())
    if len(meta_title) >= 4 and not _JUNK_TITLES.search(meta_title):
        return meta_title
    top = [ln for ln in first_lines if len(ln.text) >= 3]
    if top:
        biggest = max(ln.size for ln in top)
        if biggest > statistics.median(ln.size for ln in top) * 1.15:
            parts = [
                ln.text for ln in sorted(top, key=lambda ln: -ln.y1) if ln.size >= biggest * 0.95
            ]
            title = " ".join(parts)[:160].strip()
            if title:
                return title
    return fallback


def load_pdf(data: bytes, source: str, default_id: str) -> tuple[Document, list[str]]:
    """A PDF's text as one :class:`Document`, and notes about pages without text.

    Raises:
        LoadError: encrypted, broken, or no text layer at all (the message names ``source``).
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == 4:  # FPDF_ERR_PASSWORD
            raise LoadError(
                f"{source}: encrypted PDF (a password is needed to read it); save a decrypted "
                "copy (e.g. `qpdf --decrypt`) and ingest that"
            ) from exc
        if code == 5:  # FPDF_ERR_SECURITY
            raise LoadError(f"{source}: PDF with an unsupported security handler") from exc
        raise LoadError(f"{source}: not a readable PDF (damaged or truncated file)") from exc
    try:
        meta = pdf.get_metadata_dict(skip_empty=True)
        texts: list[str] = []
        starts: list[int] = []
        empty: list[int] = []
        first_lines: list[_Line] = []
        offset = 0
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                text, lines = _page_text(page)
            finally:
                page.close()
            if index == 0:
                first_lines = lines
            if texts and text:
                offset += 2  # the "\n\n" between pages
            starts.append(offset)
            if text:
                texts.append(text)
                offset += len(text)
            else:
                empty.append(index + 1)
        n_pages = len(pdf)
    except pdfium.PdfiumError as exc:
        raise LoadError(f"{source}: not a readable PDF ({exc})") from exc
    finally:
        pdf.close()
    body = "\n\n".join(texts)
    if not body.strip():
        raise LoadError(
            f"{source}: no text layer in its {n_pages} page(s) (a scanned PDF?); run OCR "
            "(e.g. `ocrmypdf`) and ingest the result"
        )
    notes = []
    if empty:
        shown = ", ".join(str(p) for p in empty[:10]) + (" ..." if len(empty) > 10 else "")
        notes.append(f"{source}: no text layer on page(s) {shown} of {n_pages}; indexed the rest")
    stem = Path(source.split("?")[0].rstrip("/")).stem or default_id
    title = _title(str(meta.get("Title", "")), first_lines, stem)
    extra = {k.lower(): v for k, v in meta.items() if k in ("Author", "Subject", "CreationDate")}
    return (
        Document(
            doc_id=default_id,
            text=body,
            title=title,
            source=source,
            lang=detect_lang(body),
            meta={**extra, "pages": n_pages, "page_starts": starts},
        ),
        notes,
    )


def load_pdf_file(
    path: Path, source: str, default_id: str, max_bytes: int | None
) -> tuple[Document, list[str]]:
    """:func:`load_pdf` on a file, refusing one over ``max_bytes``."""
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise LoadError(
                f"{path}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit "
                "(raise it with RAG_MAX_FILE_MB or --max-file-mb)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror})") from exc
    return load_pdf(data, source, default_id)
