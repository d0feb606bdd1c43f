"""HTML loader: visible text with headings kept as Markdown ``#`` lines.

Scripts, styles, navigation, footers and asides are dropped. The parser is the standard
library's streaming :class:`html.parser.HTMLParser`, so arbitrarily deep nesting cannot exhaust
the recursion limit.

Example:
    >>> doc = parse_html("<title>T</title><nav>menu</nav><h2>DDIM</h2><p>确定性采样</p>", "a.html", "a")
    >>> doc.title, doc.text
    ('T', '## DDIM\\n\\n确定性采样')
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ingest.clean import clean_text
from ingest.loaders.base import detect_lang, first_line_title
from rag.schema import Document

_SKIP = {
    "script",
    "style",
    "nav",
    "footer",
    "aside",
    "noscript",
    "template",
    "svg",
    "form",
    "iframe",
    "button",
    "select",
    "head",
}
_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "dl",
    "dt",
    "dd",
    "br",
    "hr",
    "td",
    "th",
}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.in_title = False
        self.title = ""
        self.first_h1 = ""
        self.heading_level = 0
        self.heading_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
            return
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag in _HEADINGS:
            self.parts.append("\n\n" + "#" * _HEADINGS[tag] + " ")
            self.heading_level = _HEADINGS[tag]
            self.heading_text = []
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
            return
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag in _HEADINGS:
            if self.heading_level == 1 and not self.first_h1:
                self.first_h1 = "".join(self.heading_text).strip()
            self.heading_level = 0
            self.parts.append("\n\n")
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
            return
        if self.skip_depth:
            return
        data = re.sub(r"[ \t\n]+", " ", data)
        self.parts.append(data)
        if self.heading_level:
            self.heading_text.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """Return ``(title, text)`` of an HTML page."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = re.sub(r"[ ]{2,}", " ", text)
    title = re.sub(r"\s+", " ", parser.title).strip() or parser.first_h1
    return title, clean_text(text)


def parse_html(html: str, source: str, default_id: str) -> Document:
    """Turn an HTML page into a :class:`Document`."""
    title, text = html_to_text(html)
    return Document(
        doc_id=default_id,
        text=text,
        title=title or first_line_title(text).lstrip("# ") or default_id,
        source=source,
        lang=detect_lang(text),
    )
