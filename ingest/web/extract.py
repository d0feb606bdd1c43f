"""The main content of an article page, as a :class:`Document` whose source is its URL.

``trafilatura`` finds the main text (navigation, sidebars, comments and footers dropped) and
renders it as Markdown: headings as ``#`` lines, lists, code blocks fenced with ``````` (their
lines kept), inline formulas as ``$...$``; it also gives title, date and author. When it finds
nothing, the project's own HTML loader is tried (visible text without page furniture). A page
with less than :data:`MIN_CHARS` word characters either way has "no main content".

Example:
    >>> url_doc_id("https://Blog.example.org/2025/01/dpo.html")
    'blog-example-org-2025-01-dpo'
"""

from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import urlsplit

from ingest.clean import clean_text
from ingest.loaders.base import detect_lang, slugify
from ingest.loaders.html import html_to_text
from rag.errors import LoadError
from rag.schema import Document

MIN_CHARS = 40
_WORD = re.compile(r"\w", re.UNICODE)
_SUFFIX = re.compile(r"(/index)?\.(html?|php|aspx?|jsp|shtml)$|/$", re.I)


def url_doc_id(url: str) -> str:
    """A readable, stable document id for a URL: host and path as a slug (hashed if long)."""
    parts = urlsplit(url)
    path = _SUFFIX.sub("", parts.path)
    raw = f"{parts.netloc}{path}" + (f"-{parts.query}" if parts.query else "")
    slug = slugify(raw, max_len=200)
    if len(slug) > 80:
        slug = slug[:71].rstrip("-") + "-" + hashlib.sha1(url.encode()).hexdigest()[:8]
    return slug


def _word_chars(text: str) -> int:
    return len(_WORD.findall(text))


def article_document(html: str, url: str) -> Document:
    """The article on an HTML page.

    Raises:
        LoadError: the page has no main content (the message names the URL).
    """
    import trafilatura
    from trafilatura.metadata import extract_metadata

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # we report failures ourselves
    text = ""
    meta: dict[str, str] = {}
    title = ""
    try:
        text = (
            trafilatura.extract(
                html,
                url=url,
                output_format="markdown",
                include_formatting=True,
                include_comments=False,
                include_tables=True,
                include_images=False,
                include_links=False,
                with_metadata=False,
            )
            or ""
        )
        info = extract_metadata(html, default_url=url, extensive=False)
        title = info.title or ""
        meta = {k: v for k in ("author", "date", "sitename") if (v := getattr(info, k, None))}
    except (ValueError, TypeError, RecursionError):  # a page trafilatura cannot parse
        text = ""
    text = clean_text(text)
    if _word_chars(text) < MIN_CHARS:
        fallback_title, fallback_text = html_to_text(html)
        if _word_chars(fallback_text) >= MIN_CHARS:
            text, title = fallback_text, title or fallback_title
    if _word_chars(text) < MIN_CHARS:
        raise LoadError(f"{url}: no main content found (an empty page, or built by JavaScript?)")
    if not title:
        heading = re.search(r"^#{1,2}\s+(.+)$", text, re.M)
        title = heading.group(1).strip() if heading else url
    return Document(
        doc_id=url_doc_id(url),
        text=text,
        title=" ".join(title.split()),
        source=url,
        lang=detect_lang(text),
        meta={"url": url, **meta},
    )
