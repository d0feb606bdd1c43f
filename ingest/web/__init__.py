"""``rag ingest URL``: a blog (listing pages, RSS/Atom, sitemap), an article, or a PDF by URL.

Modules: :mod:`~ingest.web.fetch` (polite and safe HTTP), :mod:`~ingest.web.robots`
(robots.txt), :mod:`~ingest.web.discover` (what a page links to: articles, pagination, feeds,
sitemaps), :mod:`~ingest.web.extract` (main content of an article page), :mod:`~ingest.web.cache`
(ETag/Last-Modified and what each page gave, for incremental re-runs) and
:mod:`~ingest.web.crawl` (the crawl itself). :func:`~ingest.web.sources.load_sources` is what the
pipeline calls: local paths go to the file loaders, URLs to the crawler.
"""

from __future__ import annotations

import re

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(item: object) -> bool:
    """True for ``scheme://...`` strings (any scheme: the crawler refuses all but http(s)).

    Example:
        >>> is_url("https://example.org/blog/"), is_url("data/articles"), is_url("ftp://x/y")
        (True, False, True)
    """
    return isinstance(item, str) and bool(_URL.match(item.strip()))
