"""Polite and safe HTTP GETs for the crawler.

Every request: http(s) only; to an allowed host only (the one given, plus ``crawl_hosts``);
never to a loopback, private, link-local or reserved address unless ``crawl_allow_private``;
allowed by the host's robots.txt (checked by the caller's :class:`~ingest.web.robots.Robots`,
for the URL and for every redirect target); at least ``crawl_delay`` seconds after the previous
request to the same host (longer when robots.txt asks); at most ``crawl_concurrency`` in flight;
a clear User-Agent; ``crawl_timeout`` to connect and between reads, and four times that for the
whole response; a body over ``max_file_mb`` is refused (by its Content-Length, or cut off
while reading); redirects followed (5 at most) only to allowed hosts. Conditional headers
(``If-None-Match``, ``If-Modified-Since``) make an unchanged page cost a 304 and no body.

Every failure is a :class:`rag.errors.FetchError` whose message is one line naming the URL;
:class:`rag.errors.Refused` is the kind that is policy (robots, another host, a private
address), reported as "skipped" rather than as an error.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from rag.errors import FetchError, Refused

REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def normalize_url(url: str, base: str | None = None) -> str | None:
    """An absolute http(s) URL without fragment, default port or tracking parameters.

    Returns None for other schemes (mailto:, javascript:, ftp:...) and for unparsable input.

    Example:
        >>> normalize_url("../b.html?utm_source=x&id=2#top", "HTTP://Example.org:80/a/c/")
        'http://example.org/a/b.html?id=2'
        >>> normalize_url("mailto:a@b.c") is None
        True
    """
    try:
        absolute = urljoin(base, url.strip()) if base else url.strip()
        parts = urlsplit(absolute)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else f"{host}:{port}"
    )
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith(_TRACKING)
        ]
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def host_of(url: str) -> str:
    """``host[:port]`` of a normalized URL (what "one host" compares).

    Example:
        >>> host_of("https://blog.example.org/a"), host_of("http://127.0.0.1:8000/")
        ('blog.example.org', '127.0.0.1:8000')
    """
    return urlsplit(url).netloc


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL (robots.txt is per origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Response:
    """A fetched page: ``status`` is 200, or 304 (not modified; ``body`` is empty)."""

    url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def text(self) -> str:
        """The body as text: the charset of the header or of a ``<meta>`` tag, else UTF-8, else
        GB18030, else lossy UTF-8.

        Example:
            >>> body = '<meta charset="gbk"><p>注意力</p>'.encode("gbk")
            >>> Response("u", 200, "text/html", None, body).text()[-10:]
            '<p>注意力</p>'
        """
        meta = _META_CHARSET.search(self.body[:4096])
        declared = meta.group(1).decode("ascii", "ignore") if meta else None
        for enc in (self.charset, declared, "utf-8", "gb18030"):
            if not enc:
                continue
            try:
                return self.body.decode(enc)
            except (LookupError, UnicodeDecodeError):
                continue
        return self.body.decode("utf-8", errors="replace")


class AddressPolicy:
    """Refuses hosts that resolve to non-public addresses unless allowed (results cached)."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._seen: dict[tuple[str, int], str | None] = {}
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with self._lock:
            if (host, port) in self._seen:
                problem = self._seen[(host, port)]
            else:
                problem = self._seen[(host, port)] = self._problem(host, port)
        if problem:
            raise (Refused if "private" in problem else FetchError)(f"{url}: {problem}")

    def _problem(self, host: str, port: int) -> str | None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            return f"cannot resolve host {host!r} ({exc.args[-1] if exc.args else exc})"
        for info in infos:
            ip = ipaddress.ip_address(info[4][0].split("%")[0])
            mapped = getattr(ip, "ipv4_mapped", None)
            if mapped is not None:
                ip = mapped
            if not ip.is_global and not self.allow_private:
                return (
                    f"{host} is a private or loopback address ({ip}); refused "
                    "(use --allow-private for a site on this machine or an intranet)"
                )
        return None


class RateLimiter:
    """At least ``delay`` seconds between the starts of two requests to one host."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self.host_delay: dict[str, float] = {}

    def wait(self, host: str) -> None:
        delay = max(self.delay, self.host_delay.get(host, 0.0))
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + delay
        if start > now:
            time.sleep(start - now)


class Fetcher:
    """GET with every rule of the module docstring; thread-safe (one client, shared pools).

    Args:
        user_agent: Sent with every request.
        allowed_hosts: ``host[:port]`` values a URL (or redirect target) must have.
        timeout: Seconds to connect and between reads.
        max_bytes: Largest body accepted.
        delay: Seconds between two requests to a host.
        concurrency: Connections at most.
        allow_private: Allow loopback and private addresses.
        robots_check: ``url -> None``, raises :class:`Refused` when robots.txt forbids it.
    """

    def __init__(
        self,
        user_agent: str,
        allowed_hosts: set[str],
        timeout: float,
        max_bytes: int,
        delay: float,
        concurrency: int,
        allow_private: bool,
        robots_check: Callable[[str], None] | None = None,
    ) -> None:
        self.allowed_hosts = allowed_hosts
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.addresses = AddressPolicy(allow_private)
        self.limiter = RateLimiter(delay)
        self.robots_check = robots_check
        self.requests = 0  # requests sent (tests and reports read it)
        self._count_lock = threading.Lock()
        self.client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )

    def close(self) -> None:
        self.client.close()

    def check(self, url: str) -> None:
        """Raise :class:`Refused` / :class:`FetchError` if ``url`` may not be requested."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise Refused(f"{url}: only http and https URLs are fetched")
        if parts.netloc not in self.allowed_hosts:
            raise Refused(
                f"{url}: on another host ({parts.netloc}); not followed "
                f"(allow it with --allow-host {parts.netloc})"
            )
        self.addresses.check(url)

    def get(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        robots: bool = True,
    ) -> Response:
        """Fetch ``url`` (following allowed redirects); a 304 when the validators still match."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            self.check(current)
            if robots and self.robots_check is not None:
                self.robots_check(current)
            try:
                status, location, response = self._request(current, headers)
            except FetchError as exc:
                if current == url:
                    raise
                reason = str(exc).removeprefix(f"{current}: ")
                raise type(exc)(f"{url}: {reason} (redirected to {current})", exc.status) from exc
            if status in REDIRECTS:
                target = normalize_url(location or "", current)
                if target is None:
                    raise FetchError(
                        f"{url}: redirects to {location!r}, which is not an http(s) URL"
                    )
                if host_of(target) not in self.allowed_hosts:
                    raise Refused(
                        f"{url}: redirects to another host ({host_of(target)}); not followed "
                        f"(allow it with --allow-host {host_of(target)})"
                    )
                current = target
                continue
            assert response is not None
            return response
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _request(
        self, url: str, headers: dict[str, str]
    ) -> tuple[int, str | None, Response | None]:
        self.limiter.wait(host_of(url))
        with self._count_lock:
            self.requests += 1
        deadline = time.monotonic() + self.timeout * 4
        try:
            with self.client.stream("GET", url, headers=headers) as resp:
                if resp.status_code in REDIRECTS:
                    return resp.status_code, resp.headers.get("location"), None
                if resp.status_code == 304:
                    return 304, None, self._response(url, resp, b"")
                if resp.status_code != 200:
                    reason = resp.reason_phrase or ""
                    raise FetchError(
                        f"{url}: HTTP {resp.status_code} {reason}".rstrip(), resp.status_code
                    )
                declared = resp.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(
                        f"{url}: {int(declared) / 1e6:.1f} MB is over the "
                        f"{self.max_bytes / 1e6:.1f} MB limit (--max-file-mb)"
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(
                            f"{url}: more than the {self.max_bytes / 1e6:.1f} MB limit "
                            "(--max-file-mb); not read further"
                        )
                    if time.monotonic() > deadline:
                        raise FetchError(
                            f"{url}: too slow (over {self.timeout * 4:.0f} s); gave up"
                        )
                    chunks.append(chunk)
                return 200, None, self._response(url, resp, b"".join(chunks))
        except httpx.TimeoutException as exc:
            raise FetchError(
                f"{url}: timed out after {self.timeout:g} s ({type(exc).__name__})"
            ) from exc
        except httpx.TooManyRedirects as exc:  # pragma: no cover - redirects are manual
            raise FetchError(f"{url}: too many redirects") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: cannot connect ({_short(exc)})") from exc

    @staticmethod
    def _response(url: str, resp: httpx.Response, body: bytes) -> Response:
        ctype = resp.headers.get("content-type", "")
        mime = ctype.split(";")[0].strip().lower()
        charset = None
        for param in ctype.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                charset = value.strip().strip("\"'") or None
        return Response(
            url=url,
            status=resp.status_code,
            content_type=mime,
            charset=charset,
            body=body,
            etag=resp.headers.get("etag"),
            last_modified=resp.headers.get("last-modified"),
        )


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:159] + "…"
