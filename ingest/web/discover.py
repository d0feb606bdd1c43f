"""What a fetched page is, and what it leads to.

- :func:`kind_of`: ``pdf``, ``feed`` (RSS/Atom), ``sitemap``, ``html`` or ``other``, from the
  content type and the first bytes.
- :func:`feed_links`: the article URLs of an RSS or Atom feed (``feedparser``).
- :func:`sitemap_links`: the page URLs and nested sitemaps of a sitemap (``lxml``, entities and
  network access off).
- :func:`listing_links`: on an HTML page, the article entries of a blog listing (an entry's
  "read more" link, or the title link of an ``<article>``/post block), the pagination links
  (``rel="next"``, a pager's numbers, ``/page/N``), and advertised feeds. A page with at least
  :data:`MIN_ENTRIES` entries is a listing page; otherwise it is read as an article.

Example:
    >>> html = ('<article><h2><a href="/p/a.html">A</a></h2><a href="/p/a.html">阅读全文</a></article>'
    ...         '<article><h2><a href="/p/b.html">B</a></h2></article>'
    ...         '<nav class="pagination"><a href="/page/2/">2</a><a href="/about">About</a></nav>')
    >>> links = listing_links(html, "http://x.org/")
    >>> links.entries, links.pages
    (['http://x.org/p/a.html', 'http://x.org/p/b.html'], ['http://x.org/page/2/'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.web.fetch import normalize_url

MIN_ENTRIES = 2
_READ_MORE = re.compile(
    r"^(read\s+more|read\s+the\s+rest|continue\s+reading|keep\s+reading|more|full\s+(post|article)|"
    r"阅读全文|阅读更多|继续阅读|查看全文|全文|更多|了解更多|详细|查看详情)$",
    re.IGNORECASE,
)
_NEXT = re.compile(
    r"^(next|next\s+page|older(\s+(posts|entries))?|下一页|下页|后一页|更早|»|›|>|>>|→)$", re.I
)
_PAGE_URL = re.compile(
    r"(/page/\d+/?$|[?&](page|paged|p|pg)=\d+|/p/\d+/?$|/index_?\d+\.html?$)", re.I
)
_PAGER_CLASS = re.compile(r"pag(e|ing|ination|er)|nav-links|page-numbers", re.I)
_POST_CLASS = re.compile(r"\b(post|entry|article|hentry|card|blog-item|list-item)\b", re.I)
_FURNITURE = {"nav", "header", "footer", "aside"}
_DECOR = " \t\n\r»›→>…..:：→←«‹<-—|"


@dataclass
class PageLinks:
    """What a listing page links to (absolute, normalized URLs, in page order)."""

    entries: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)

    @property
    def is_listing(self) -> bool:
        return len(self.entries) >= MIN_ENTRIES


def kind_of(content_type: str, body: bytes) -> str:
    """``pdf``, ``feed``, ``sitemap``, ``html`` or ``other``.

    Example:
        >>> kind_of("text/xml", b'<?xml version="1.0"?><urlset xmlns="...">')
        'sitemap'
        >>> kind_of("application/octet-stream", b"%PDF-1.7"), kind_of("image/png", b"\\x89PNG")
        ('pdf', 'other')
    """
    head = body[:2048].lstrip().lower()
    if content_type == "application/pdf" or body[:5] == b"%PDF-":
        return "pdf"
    xmlish = content_type in ("application/xml", "text/xml") or content_type.endswith("+xml")
    if xmlish or head.startswith(b"<?xml"):
        if b"<urlset" in head or b"<sitemapindex" in head:
            return "sitemap"
        if (
            b"<rss" in head
            or b"<feed" in head
            or b"<rdf:rdf" in head
            or "rss" in content_type
            or "atom" in content_type
        ):
            return "feed"
        if content_type == "application/xhtml+xml" or b"<html" in head:
            return "html"
    if content_type in ("text/html", "application/xhtml+xml"):
        return "html"
    if not content_type and (b"<html" in head or b"<!doctype html" in head):
        return "html"
    return "other"


def feed_links(body: bytes, base: str) -> list[str]:
    """Article URLs of an RSS/Atom feed, in feed order."""
    import feedparser

    parsed = feedparser.parse(body)
    out: list[str] = []
    for entry in parsed.entries:
        href = entry.get("link") or next(
            (link.get("href") for link in entry.get("links", []) if link.get("rel") == "alternate"),
            None,
        )
        url = normalize_url(href or "", base)
        if url and url not in out:
            out.append(url)
    return out


def sitemap_links(body: bytes, base: str) -> tuple[list[str], list[str]]:
    """``(page URLs, nested sitemap URLs)`` of a sitemap or sitemap index."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return [], []
    if root is None:
        return [], []
    pages: list[str] = []
    nested: list[str] = []
    for loc in root.iter("{*}loc"):
        url = normalize_url((loc.text or "").strip(), base)
        if not url:
            continue
        parent = loc.getparent()
        tag = etree.QName(parent).localname if parent is not None else ""
        target = nested if tag == "sitemap" else pages
        if url not in target:
            target.append(url)
    return pages, nested


def _inside(element: object, tags: set[str]) -> bool:
    node = element.getparent()  # type: ignore[attr-defined]
    while node is not None:
        if isinstance(node.tag, str) and node.tag.lower() in tags:
            return True
        node = node.getparent()
    return False


def _in_class(element: object, pattern: re.Pattern[str], depth: int = 4) -> bool:
    node = element
    for _ in range(depth):
        node = node.getparent()  # type: ignore[attr-defined]
        if node is None:
            return False
        if pattern.search(f"{node.get('class', '')} {node.get('id', '')}"):
            return True
    return False


def listing_links(html: str, base: str) -> PageLinks:
    """The entries, pagination and feeds of an HTML page (see the module docstring)."""
    import lxml.html

    out = PageLinks()
    try:
        doc = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return out
    base_tag = doc.find(".//base[@href]")
    if base_tag is not None:
        base = normalize_url(base_tag.get("href", ""), base) or base

    def add(target: list[str], href: str | None) -> None:
        url = normalize_url(href or "", base)
        if url and url not in target:
            target.append(url)

    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        ltype = (link.get("type") or "").lower()
        if "alternate" in rel and ("rss" in ltype or "atom" in ltype):
            add(out.feeds, link.get("href"))
        elif "next" in rel:
            add(out.pages, link.get("href"))

    articles = [a for a in doc.iter("article")]
    for a in doc.iter("a"):
        href = a.get("href")
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        label = " ".join(a.text_content().split()).strip(_DECOR)
        rel = (a.get("rel") or "").lower().split()
        furniture = _inside(a, _FURNITURE)
        # Pagination: rel=next, a pager's numbers and "next", or a /page/N URL in a pager.
        in_pager = _in_class(a, _PAGER_CLASS)
        if "next" in rel or (
            (in_pager or _PAGE_URL.search(href))
            and (label.isdigit() or _NEXT.match(label) or (in_pager and _PAGE_URL.search(href)))
        ):
            add(out.pages, href)
            continue
        if furniture or in_pager:
            continue
        # Entries: a "read more" link, or the title link of a post block.
        if _READ_MORE.match(label):
            add(out.entries, href)
            continue
        heading = any(
            isinstance(n.tag, str) and n.tag in ("h1", "h2", "h3", "h4")
            for n in [a, *a.iterancestors()][:3]
        )
        if heading and ((articles and _inside(a, {"article"})) or _in_class(a, _POST_CLASS, 5)):
            add(out.entries, href)
    return out
