"""How a passage's ``source`` names a page of a PDF, and the link a front end makes of it.

Chunks of a PDF carry ``"<file or URL>, p. 4"`` (or ``"pp. 4-5"`` when they span two pages) as
their ``source``: every front end prints it as it is, so a citation says which page it is from.
:func:`source_link` turns a source into a link (a web page, or a PDF opened at its page).

Example:
    >>> with_pages("papers/dpo.pdf", 4, 4), with_pages("https://x.org/a.pdf", 4, 5)
    ('papers/dpo.pdf, p. 4', 'https://x.org/a.pdf, pp. 4-5')
    >>> split_pages("https://x.org/a.pdf, pp. 4-5")
    ('https://x.org/a.pdf', 4, 5)
    >>> source_link("https://x.org/a.pdf, p. 4"), source_link("notes/a.md")
    ('https://x.org/a.pdf#page=4', None)
"""

from __future__ import annotations

import re

_PAGES = re.compile(r"^(?P<base>.*), pp?\. (?P<first>\d+)(?:-(?P<last>\d+))?$", re.DOTALL)


def with_pages(source: str, first: int, last: int) -> str:
    """``source`` with the page (or page range) a passage comes from."""
    return f"{source}, p. {first}" if last <= first else f"{source}, pp. {first}-{last}"


def split_pages(source: str) -> tuple[str, int | None, int | None]:
    """``(base, first page, last page)``; pages are None when ``source`` names none."""
    m = _PAGES.match(source)
    if not m:
        return source, None, None
    first = int(m.group("first"))
    return m.group("base"), first, int(m.group("last") or first)


def source_link(source: str) -> str | None:
    """A URL to open for ``source``: the web page, or the PDF at its page; None for files."""
    base, first, _ = split_pages(source)
    if not re.match(r"^https?://\S+$", base):
        return None
    return f"{base}#page={first}" if first else base
