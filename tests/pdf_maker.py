"""Write small PDFs for the tests by hand: text in the standard Helvetica font, no library.

Each page is a list of :class:`Line` (text at an x, y position in points, with a font size),
plus optionally an image-only drawing (a "scanned" page has no text at all). ``encrypt=True``
adds a standard security handler whose user password is not empty, so a reader must ask for one.

Example:
    >>> pdf = make_pdf([[Line(72, 720, "Hello PDF", 12)]])
    >>> pdf[:8], pdf.rstrip()[-5:]
    (b'%PDF-1.4', b'%%EOF')
"""

from __future__ import annotations

import textwrap
import zlib
from dataclasses import dataclass

PAGE_W, PAGE_H = 612, 792  # US Letter, points


@dataclass(frozen=True)
class Line:
    x: float
    y: float
    text: str
    size: float = 10.0


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(lines: list[Line], image: bool) -> bytes:
    out = []
    if image:  # a grey "photo" of a page: only painted rectangles, no text operators
        for i in range(40):
            shade = 0.3 + (i % 7) / 10
            out.append(f"{shade:.2f} g 72 {100 + i * 15} 468 12 re f".encode())
    for line in lines:
        out.append(
            b"BT /F1 %.1f Tf %.2f %.2f Td (" % (line.size, line.x, line.y)
            + _escape(line.text)
            + b") Tj ET"
        )
    return b"\n".join(out)


def make_pdf(
    pages: list[list[Line]],
    image_pages: frozenset[int] = frozenset(),
    title: str | None = None,
    encrypt: bool = False,
) -> bytes:
    """A complete PDF file with one page per entry of ``pages``."""
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for i, lines in enumerate(pages):
        data = zlib.compress(_content(lines, i in image_pages))
        stream = add(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
        )
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_obj, PAGE_W, PAGE_H, font, stream)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info = add(b"<< /Title (" + _escape(title) + b") >>") if title else None
    encrypt_obj = None
    if encrypt:  # RC4 40-bit, R2; O and U that no empty password matches
        encrypt_obj = add(
            b"<< /Filter /Standard /V 1 /R 2 /P -44 /O <"
            + b"ab" * 32
            + b"> /U <"
            + b"cd" * 32
            + b"> >>"
        )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    if encrypt_obj:
        trailer += b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (encrypt_obj, b"0f" * 16, b"0f" * 16)
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def column_lines(
    paragraphs: list[str], x: float, top: float, width_chars: int, size: float = 10.0
) -> tuple[list[Line], float]:
    """Paragraphs wrapped into a column at ``x`` from ``top`` down; a word cut at the end of a
    line is hyphenated when it is long, as typesetters do. Returns the lines and the next y."""
    lines: list[Line] = []
    y = top
    leading = size * 1.25
    for para in paragraphs:
        for row in _wrap_hyphenated(para, width_chars):
            lines.append(Line(x, y, row, size))
            y -= leading
        y -= leading  # a blank line between paragraphs
    return lines, y


def _wrap_hyphenated(text: str, width: int) -> list[str]:
    rows: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width:
            current = candidate
            continue
        room = width - len(current) - 2  # space and hyphen
        if len(word) >= 8 and room >= 3 and len(word) - room >= 3:  # split it at the line end
            rows.append(f"{current} {word[:room]}-".strip())
            current = word[room:]
        else:
            rows.append(current)
            current = word
    if current:
        rows.append(current)
    return rows or textwrap.wrap(text, width)
