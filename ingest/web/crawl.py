"""Crawl one URL: a blog's listing page, a feed, a sitemap, an article or a PDF.

The first page decides: a listing page (article entries, see :mod:`ingest.web.discover`) gives
its entries and its pagination, followed breadth-first; an RSS/Atom feed or a sitemap gives its
URLs (nested sitemaps followed); a PDF is read as a paper; any other HTML page is one article
(and if it has no main content but advertises a feed, the feed is followed). At most
``crawl_max_pages`` pages are requested per URL given (robots.txt not counted); each URL once.

Incremental: every request carries the ETag/Last-Modified of the last run (from
:class:`~ingest.web.cache.WebCache`); a 304 reuses what the page gave then, so an unchanged
blog costs one small request per page and no download.

Example:
    >>> result = crawl("https://blog.example.org/", Settings.load(), cache, print)  # doctest: +SKIP
    >>> len(result.documents), result.stats["fetched"], result.stats["not_modified"]  # doctest: +SKIP
    (37, 0, 43)
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

from tqdm.auto import tqdm

from ingest.loaders.pdf import load_pdf
from ingest.web.cache import WebCache
from ingest.web.discover import feed_links, kind_of, listing_links, sitemap_links
from ingest.web.extract import article_document, url_doc_id
from ingest.web.fetch import Fetcher, host_of, normalize_url
from ingest.web.robots import Robots
from rag.config import Settings
from rag.errors import FetchError, LoadError, Refused
from rag.schema import Document


@dataclass
class CrawlResult:
    """Documents found from one URL, and what was left out (one line each)."""

    url: str
    documents: list[Document] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        s = self.stats
        return (
            f"{self.url}: {len(self.documents)} documents; {s.get('requests', 0)} requests "
            f"({s.get('fetched', 0)} downloaded, {s.get('not_modified', 0)} unchanged), "
            f"{len(self.skipped)} skipped, {len(self.errors)} errors, {s.get('seconds', 0):.1f}s"
        )


@dataclass
class _Outcome:
    url: str
    kind: str  # listing | feed | sitemap | feeds | article
    data: dict[str, Any]
    cached: bool


def _doc_to_dict(doc: Document) -> dict[str, Any]:
    return asdict(doc)


def _doc_from_dict(data: dict[str, Any]) -> Document:
    return Document(**data)


class Crawler:
    """One crawl (see the module docstring). Use :func:`crawl`."""

    def __init__(
        self,
        start: str,
        settings: Settings,
        cache: WebCache | None,
        say: Callable[[str], None],
        progress: bool = False,
        fresh: bool = False,
    ) -> None:
        self.start = start
        self.settings = settings
        self.cache = cache
        self.say = say
        self.progress = progress
        self.fresh = fresh
        hosts = {host_of(start)} | {
            h.strip().lower() for h in settings.crawl_hosts.split(",") if h.strip()
        }
        self.fetcher = Fetcher(
            user_agent=settings.crawl_user_agent,
            allowed_hosts=hosts,
            timeout=settings.crawl_timeout,
            max_bytes=int(settings.max_file_mb * 1e6),
            delay=settings.crawl_delay,
            concurrency=settings.crawl_concurrency,
            allow_private=settings.crawl_allow_private,
        )
        self.robots = Robots(self.fetcher, cache, say, fresh=fresh)
        self.fetcher.robots_check = self.robots.check
        self.result = CrawlResult(url=start)
        self._seen: set[str] = set()
        self._frontier: deque[tuple[str, str]] = deque()
        self._doc_ids: set[str] = set()
        self._order: dict[str, int] = {}
        self._other_hosts: dict[str, int] = {}
        self._counts = {"fetched": 0, "not_modified": 0}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ queue
    def _enqueue(self, url: str | None, role: str) -> None:
        if url is None or url in self._seen:
            return
        self._seen.add(url)
        self._order.setdefault(url, len(self._order))
        try:
            self.fetcher.check(url)
            self.robots.check(url)
        except Refused as exc:
            host = host_of(url)
            if host not in self.fetcher.allowed_hosts:
                self._other_hosts[host] = self._other_hosts.get(host, 0) + 1
            else:
                self.result.skipped.append(str(exc))
            return
        except FetchError as exc:
            self.result.errors.append(str(exc))
            return
        self._frontier.append((url, role))

    # ------------------------------------------------------------------ one page
    def _visit(self, url: str, role: str) -> _Outcome:
        entry = self.cache.get(url) if self.cache is not None else None
        etag = last_mod = None
        if entry is not None and not self.fresh:
            etag, last_mod = entry.etag, entry.last_modified
        resp = self.fetcher.get(url, etag, last_mod)
        if resp.not_modified and entry is not None:
            with self._lock:
                self._counts["not_modified"] += 1
            return _Outcome(url, entry.kind, entry.data, cached=True)
        if resp.not_modified:  # a 304 we did not ask for: fetch again without validators
            resp = self.fetcher.get(url)
        with self._lock:
            self._counts["fetched"] += 1
        kind = kind_of(resp.content_type, resp.body)
        if kind == "pdf":
            doc, notes = load_pdf(resp.body, resp.url, url_doc_id(resp.url))
            outcome = _Outcome(url, "article", {"doc": _doc_to_dict(doc), "notes": notes}, False)
        elif kind == "feed":
            outcome = _Outcome(url, "feed", {"links": feed_links(resp.body, resp.url)}, False)
        elif kind == "sitemap":
            pages, nested = sitemap_links(resp.body, resp.url)
            outcome = _Outcome(url, "sitemap", {"links": pages, "sitemaps": nested}, False)
        elif kind == "html":
            outcome = self._html(url, role, resp.text(), resp.url)
        else:
            raise FetchError(
                f"{url}: not a web page, feed, sitemap or PDF "
                f"(content type {resp.content_type or 'unknown'})"
            )
        if self.cache is not None:
            self.cache.put(url, resp, outcome.kind, outcome.data)
        return outcome

    def _html(self, url: str, role: str, html: str, final_url: str) -> _Outcome:
        links = listing_links(html, final_url)
        listing = links.is_listing
        if role == "article":  # an article may link to a few others; a listing links to many
            listing = len(links.entries) >= 3 and (bool(links.pages) or len(links.entries) >= 5)
        if listing:
            data = {"entries": links.entries, "pages": links.pages}
            return _Outcome(url, "listing", data, False)
        try:
            doc = article_document(html, final_url)
        except LoadError:
            if role == "start" and links.feeds:
                return _Outcome(url, "feeds", {"feeds": links.feeds}, False)
            raise
        return _Outcome(url, "article", {"doc": _doc_to_dict(doc), "notes": []}, False)

    def _handle(self, outcome: _Outcome) -> None:
        data = outcome.data
        if outcome.kind == "listing":
            for link in data.get("entries", []):
                self._enqueue(link, "article")
            for link in data.get("pages", []):
                self._enqueue(link, "listing")
        elif outcome.kind == "feeds":
            for link in data.get("feeds", []):
                self._enqueue(link, "feed")
        elif outcome.kind in ("feed", "sitemap"):
            for link in data.get("links", []):
                self._enqueue(link, "article")
            for link in data.get("sitemaps", []):
                self._enqueue(link, "sitemap")
        elif outcome.kind == "article":
            doc = _doc_from_dict(data["doc"])
            self.result.skipped.extend(data.get("notes", []))
            if doc.doc_id not in self._doc_ids:  # two URLs that redirect to one page
                self._doc_ids.add(doc.doc_id)
                self.result.documents.append(doc)
                self._order.setdefault(doc.source, self._order.get(outcome.url, 0))

    # ------------------------------------------------------------------ the loop
    def run(self) -> CrawlResult:
        t0 = time.perf_counter()
        start = normalize_url(self.start)
        if start is None:
            self.result.errors.append(
                f"{self.start}: not an http(s) URL; only http and https are fetched"
            )
            return self.result
        budget = self.settings.crawl_max_pages
        bar = tqdm(
            desc=f"crawling {host_of(start)}",
            unit="page",
            disable=not self.progress,
            file=sys.stderr,
            leave=False,
        )
        launched = 0
        try:
            self._enqueue(start, "start")
            with ThreadPoolExecutor(max_workers=self.settings.crawl_concurrency) as pool:
                running: dict[Future[_Outcome], tuple[str, str]] = {}
                while self._frontier or running:
                    while (
                        self._frontier
                        and len(running) < self.settings.crawl_concurrency
                        and launched < budget
                    ):
                        url, role = self._frontier.popleft()
                        running[pool.submit(self._visit, url, role)] = (url, role)
                        launched += 1
                    if not running:
                        break
                    bar.total = launched + len(self._frontier)
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        url, _role = running.pop(future)
                        bar.update()
                        try:
                            self._handle(future.result())
                        except Refused as exc:
                            self.result.skipped.append(str(exc))
                        except (FetchError, LoadError) as exc:
                            self.result.errors.append(str(exc))
                        except Exception as exc:  # one bad page must not end the crawl
                            self.result.errors.append(
                                f"{url}: unexpected {type(exc).__name__}: {exc}"
                            )
        finally:
            bar.close()
            self.fetcher.close()
        if self._frontier:
            self.result.skipped.append(
                f"{start}: stopped at --max-pages {budget}; {len(self._frontier)} more pages "
                "not fetched"
            )
        if self._other_hosts:
            hosts = ", ".join(f"{h} ({n})" for h, n in sorted(self._other_hosts.items()))
            self.result.skipped.append(
                f"{start}: links to other hosts not followed: {hosts} (allow with --allow-host)"
            )
        self.result.documents.sort(key=lambda d: self._order.get(d.source, 0))
        self.result.stats = {
            "requests": self.fetcher.requests,
            **self._counts,
            "seconds": round(time.perf_counter() - t0, 2),
        }
        return self.result


def crawl(
    url: str,
    settings: Settings,
    cache: WebCache | None,
    say: Callable[[str], None],
    progress: bool = False,
    fresh: bool = False,
) -> CrawlResult:
    """Crawl ``url`` (see the module docstring); never raises for a page that fails."""
    return Crawler(url, settings, cache, say, progress=progress, fresh=fresh).run()
