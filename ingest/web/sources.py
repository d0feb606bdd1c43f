"""What ``rag ingest`` is given — folders, files and URLs — as one :class:`LoadResult`.

Local paths go to :func:`ingest.loaders.load_paths`; each URL is crawled
(:func:`ingest.web.crawl.crawl`) with the page cache kept in the index directory. A document of a
URL has the URL as ``source`` and as its origin, so a later ingest of a folder never drops it,
and a crawl that fails (host down, page gone) leaves what was indexed before in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.loaders import LoadResult, load_paths
from ingest.web import is_url
from ingest.web.cache import FILENAME, WebCache
from ingest.web.crawl import crawl
from rag.config import Settings


def load_sources(
    items: Sequence[Path | str],
    settings: Settings,
    fmt: str = "auto",
    on_file: Callable[[Path], None] | None = None,
    progress: bool = False,
    say: Callable[[str], None] | None = None,
    fresh: bool = False,
) -> LoadResult:
    """Load local ``items`` with the file loaders and crawl the URLs among them.

    Args:
        items: Paths, and ``http(s)://`` URLs as strings.
        settings: ``max_file_mb`` and the ``crawl_*`` settings apply.
        fmt: Loader format for the files.
        on_file: Progress callback per file.
        progress: Show a progress bar per crawl.
        say: Where each crawl's summary line goes.
        fresh: Ignore cached ETag/Last-Modified (``--rebuild``): everything is downloaded.
    """
    say = say or (lambda _m: None)
    paths = [Path(i) for i in items if not is_url(str(i))]
    urls = [str(i).strip() for i in items if is_url(str(i))]
    max_bytes = int(settings.max_file_mb * 1e6)
    result = load_paths(paths, fmt=fmt, max_bytes=max_bytes, on_file=on_file)
    if not urls:
        return result
    cache = WebCache(Path(settings.index_dir) / FILENAME)
    try:
        for url in urls:
            crawled = crawl(url, settings, cache, say, progress=progress, fresh=fresh)
            result.skipped.extend(crawled.skipped)
            result.errors.extend(crawled.errors)
            result.web.append({"url": url, **crawled.stats, "documents": len(crawled.documents)})
            for doc in crawled.documents:
                if doc.doc_id in result.origins:
                    if result.origins[doc.doc_id] != doc.source:
                        result.errors.append(
                            f"{doc.source}: duplicate document id {doc.doc_id!r} "
                            f"(already from {result.origins[doc.doc_id]}); skipped"
                        )
                    continue
                result.documents.append(doc)
                result.origins[doc.doc_id] = doc.source
            say(crawled.summary())
    finally:
        cache.close()
    return result
