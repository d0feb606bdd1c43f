"""robots.txt, per origin, parsed by Protego (the parser Scrapy uses).

As RFC 9309 says: a robots.txt that answers 4xx (none) allows everything; one that cannot be
fetched (5xx, timeout, refused connection) forbids everything on that origin, since its rules
are unknown. ``Crawl-delay`` raises the delay between requests to that host (capped at
:data:`MAX_CRAWL_DELAY`). The file is fetched once per origin and run, with the cached
ETag/Last-Modified, so an unchanged robots.txt costs a 304.

Example:
    >>> from protego import Protego
    >>> Protego.parse("User-agent: *\\nDisallow: /drafts/").can_fetch("http://x/drafts/a", "rag")
    False
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from protego import Protego

from ingest.web.cache import WebCache
from ingest.web.fetch import Fetcher, host_of, origin_of
from rag.errors import FetchError, Refused

MAX_CRAWL_DELAY = 30.0
AGENT_TOKEN = "rag-articles"


class Robots:
    """The robots.txt rules of every origin a crawl touches.

    Args:
        fetcher: Fetches ``/robots.txt`` (without a robots check, of course).
        cache: Keeps the file and its validators between runs (optional).
        say: Receives one line per notable event (rules unreachable, a long Crawl-delay).
        fresh: Ignore cached validators (``--rebuild``).
    """

    def __init__(
        self,
        fetcher: Fetcher,
        cache: WebCache | None,
        say: Callable[[str], None],
        fresh: bool = False,
    ) -> None:
        self.fetcher = fetcher
        self.cache = cache
        self.say = say
        self.fresh = fresh
        self._rules: dict[str, Protego] = {}
        self._failures: dict[str, str] = {}  # origin -> why its robots.txt is unknown
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        """Raise :class:`Refused` when robots.txt forbids ``url`` to us, :class:`FetchError`
        when the site's robots.txt could not be read (host down, server error)."""
        origin = origin_of(url)
        rules = self.rules(origin)
        if origin in self._failures:
            raise FetchError(f"{url}: {self._failures[origin]}")
        if not rules.can_fetch(url, AGENT_TOKEN):
            raise Refused(f"{url}: forbidden by {origin}/robots.txt; skipped")

    def sitemaps(self, origin: str) -> list[str]:
        return list(self.rules(origin).sitemaps)

    def rules(self, origin: str) -> Protego:
        with self._lock:
            if origin not in self._rules:
                self._rules[origin] = self._load(origin)
            return self._rules[origin]

    def _load(self, origin: str) -> Protego:
        url = origin + "/robots.txt"
        cached = None if self.cache is None else self.cache.get(url)
        etag = last_mod = None
        if cached is not None and not self.fresh:
            etag, last_mod = cached.etag, cached.last_modified
        try:
            resp = self.fetcher.get(url, etag, last_mod, accept="text/plain", robots=False)
        except Refused as exc:
            self.say(f"{url}: not fetched ({exc}); crawling as if there were none")
            return Protego.parse("")
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return Protego.parse("")  # no robots.txt: everything is allowed
            reason = str(exc).removeprefix(f"{url}: ")
            if exc.status is not None:
                reason = f"{url} answered {reason}; nothing is fetched from {origin} (RFC 9309)"
            self._failures[origin] = reason
            return Protego.parse("User-agent: *\nDisallow: /")
        if resp.not_modified and cached is not None:
            text = str(cached.data.get("text", ""))
        else:
            text = resp.text()
            if self.cache is not None:
                self.cache.put(url, resp, "robots", {"text": text})
        rules = Protego.parse(text)
        delay = rules.crawl_delay(AGENT_TOKEN)
        if delay:
            used = min(float(delay), MAX_CRAWL_DELAY)
            self.fetcher.limiter.host_delay[host_of(url)] = used
            if used < float(delay):
                self.say(f"{url}: Crawl-delay {delay} s; using {used:g} s")
        return rules
