"""A blog on loopback for the crawler tests, made from articles in data/articles (all 37, or
a few for the quick tests: :func:`load_articles` with ``ids``).

Layout (every page with an ETag and a Last-Modified, answering conditional requests with 304):

- ``/``, ``/page/2/`` ... ``/page/N/``: listing pages in the seed pages' structure — a header,
  ``LATEST UPDATES``, entries with title, category, date, excerpt and a "read more" link, and a
  pager ``1 2 3 ... N`` with a "next" link (``per_page`` entries a page);
- ``/posts/<id>.html``: each article as a full page (navigation, sidebar, footer around it);
- ``/feed.xml`` (RSS 2.0, every article), ``/atom.xml`` (Atom, the :data:`ATOM_ENTRIES` newest),
  ``/sitemap.xml`` (articles and listing pages), ``/robots.txt`` (forbids ``/drafts/``);
- listed among the entries, pages that must not end up indexed: ``/drafts/unpublished.html``
  (forbidden by robots.txt), ``/go/elsewhere`` (redirects to another host: ``localhost``),
  ``/posts/missing.html`` (404), ``/posts/slow.html`` (answers after ``slow_seconds``, unless
  the client hangs up first) and ``/posts/huge.html`` (announces 20 MiB in its Content-Length;
  the body is written lazily, so a client that refuses it from the header costs no 20 MiB);
- not linked, for single-URL tests: ``/files/data.bin`` (application/octet-stream),
  ``/empty.html`` (no main content), ``/chunked.html`` (a body of :data:`CHUNKED_BYTES` without
  Content-Length), ``/old-url.html`` (redirects on the same host).

The server counts every request: ``site.log`` is a list of ``[method, path, status]`` in order
of arrival (status 0 until it is answered, -1 when the client hung up before the answer; a
fourth item ``"hung up"`` when it stopped reading the body). :meth:`Site.downloads` lists the
paths whose body was sent in full; :meth:`Site.wait_idle` waits until no request is being
answered (so a test counts a finished run).
"""

from __future__ import annotations

import hashlib
import html
import itertools
import re
import select
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

PER_PAGE = 9
ATOM_ENTRIES = 5
HUGE_BYTES = 20 * 1024 * 1024
CHUNKED_BYTES = 40 * 8_000


@dataclass
class Article:
    doc_id: str
    title: str
    text: str
    date: str


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    last_modified: float = 1_760_000_000.0

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


def load_articles(folder: Path, ids: Sequence[str] | None = None) -> list[Article]:
    """The articles of ``folder`` (only those whose file is named ``<id>.md`` when ``ids``)."""
    out = []
    for i, path in enumerate(sorted(folder.glob("*.md"))):
        if ids is not None and path.stem not in ids:
            continue
        raw = path.read_text(encoding="utf-8")
        _, front, body = raw.split("---\n", 2)
        meta = yaml.safe_load(front)
        day = 1 + (i * 7) % 28
        out.append(
            Article(meta["id"], meta["title"], body.strip(), f"2025-{1 + i % 12:02d}-{day:02d}")
        )
    return out


def _paragraphs(text: str) -> list[str]:
    """The article cut into 2-4 paragraphs at sentence ends (the text itself unchanged)."""
    cuts = [m.end() for m in re.finditer(r"[。！？]", text)]
    if len(cuts) < 3:
        return [text]
    step = max(1, len(cuts) // 3)
    marks = [0, *cuts[step - 1 :: step][:2], len(text)]
    return [text[a:b].strip() for a, b in itertools.pairwise(marks) if text[a:b].strip()]


def article_html(a: Article, related: list[Article]) -> str:
    paras = "\n".join(f"<p>{html.escape(p)}</p>" for p in _paragraphs(a.text))
    side = "".join(
        f'<li><a href="/posts/{r.doc_id}.html">{html.escape(r.title)}</a></li>' for r in related
    )
    code = (
        '<pre><code class="language-python">import torch\nx = torch.randn(2, 3)\nprint(x.shape)\n'
        "</code></pre>"
    )
    return f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{html.escape(a.title)} | INCOMING TRANSMISSION</title>
<link rel="alternate" type="application/rss+xml" href="/feed.xml" title="RSS">
<meta property="article:published_time" content="{a.date}T08:00:00+08:00"></head>
<body><header><div class="logo">INCOMING TRANSMISSION</div>
<nav><a href="/">首页</a> <a href="/page/2/">归档</a> <a href="/about.html">关于</a></nav></header>
<main><article class="post"><h1>{html.escape(a.title)}</h1>
<p class="meta"><time datetime="{a.date}">{a.date}</time> · Python</p>
{paras}
<h2>代码示例</h2>
{code}
</article>
<aside><h3>相关文章</h3><ul>{side}</ul></aside></main>
<footer>© 2026 INCOMING TRANSMISSION · <a href="/feed.xml">RSS</a></footer></body></html>"""


@dataclass
class Entry:
    href: str
    title: str
    date: str
    excerpt: str


def _pager(n: int, last: int) -> str:
    show = sorted({1, 2, 3, n - 1, n, n + 1, last} & set(range(1, last + 1)))
    parts, prev = [], 0
    for p in show:
        if p - prev > 1:
            parts.append("<span>...</span>")
        href = "/" if p == 1 else f"/page/{p}/"
        parts.append(f"<span>{p}</span>" if p == n else f'<a href="{href}">{p}</a>')
        prev = p
    if n < last:
        parts.append(f'<a rel="next" href="/page/{n + 1}/">下一页 »</a>')
    return '<nav class="pagination">' + " ".join(parts) + "</nav>"


def listing_html(entries: list[Entry], n: int, last: int) -> str:
    items = []
    for i, e in enumerate(entries):
        more = "阅读全文 »" if i % 2 == 0 else "Read more"
        items.append(
            f'<div class="entry"><span class="tag">Python</span><span class="date">{e.date}</span>'
            f'<h2 class="entry-title"><a href="{e.href}">{html.escape(e.title)}</a></h2>'
            f'<p class="excerpt">{html.escape(e.excerpt)}...</p>'
            f'<a class="more" href="{e.href}">{more}</a></div>'
        )
    return f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>INCOMING TRANSMISSION - 第 {n} 页</title>
<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>
<body><header><div class="logo">INCOMING TRANSMISSION</div><nav><a href="/">首页</a></nav></header>
<main><h1>LATEST UPDATES</h1>
{"".join(items)}
{_pager(n, last)}
</main><footer>© 2026 INCOMING TRANSMISSION</footer></body></html>"""


@dataclass
class Site:
    """The fixture blog's pages and the HTTP server that serves them."""

    articles: list[Article]
    pages: dict[str, Page] = field(default_factory=dict)
    log: list[list] = field(default_factory=list)  # [method, path, status] by arrival
    times: list[tuple[float, str]] = field(default_factory=list)
    agents: set[str] = field(default_factory=set)
    slow_seconds: float = 1.5
    per_page: int = PER_PAGE
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _busy: int = 0  # requests being answered
    _idle: threading.Condition = field(default_factory=threading.Condition)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def article_url(self, doc_id: str) -> str:
        return f"{self.base}/posts/{doc_id}.html"

    # ------------------------------------------------------------------ content
    def build(self) -> None:
        arts = self.articles
        for i, a in enumerate(arts):
            related = [arts[(i + k) % len(arts)] for k in (1, 2, 3)]
            self.pages[f"/posts/{a.doc_id}.html"] = Page(article_html(a, related).encode())
        self.pages["/drafts/unpublished.html"] = Page(
            article_html(
                Article(
                    "unpublished", "未发布的草稿", "这是一篇还没有发布的草稿。" * 8, "2026-01-01"
                ),
                [],
            ).encode()
        )
        entries = [Entry(f"/posts/{a.doc_id}.html", a.title, a.date, a.text[:80]) for a in arts]
        specials = [
            Entry("/drafts/unpublished.html", "未发布的草稿", "2026-01-02", "草稿"),
            Entry("/go/elsewhere", "转载: 另一个网站的文章", "2026-01-03", "外站"),
            Entry("/posts/missing.html", "已删除的文章", "2026-01-04", "已删除"),
            Entry("/posts/slow.html", "很慢的页面", "2026-01-05", "慢"),
            Entry("/posts/huge.html", "很大的页面", "2026-01-06", "大"),
        ]
        # Specials among the first pages, the articles after them, as a blog lists new posts.
        ordered = entries[:4] + specials + entries[4:]
        per = self.per_page
        last = (len(ordered) + per - 1) // per
        for n in range(1, last + 1):
            chunk = ordered[(n - 1) * per : n * per]
            path = "/" if n == 1 else f"/page/{n}/"
            self.pages[path] = Page(listing_html(chunk, n, last).encode())
        self.listing_paths = ["/"] + [f"/page/{n}/" for n in range(2, last + 1)]
        self.pages["/robots.txt"] = Page(
            b"User-agent: *\nDisallow: /drafts/\n\nSitemap: /sitemap.xml\n", "text/plain"
        )
        self.pages["/feed.xml"] = Page(self._rss(arts).encode(), "application/rss+xml")
        atom = self._atom(arts[:ATOM_ENTRIES]).encode()
        self.pages["/atom.xml"] = Page(atom, "application/atom+xml")
        locs = [f"/posts/{a.doc_id}.html" for a in arts] + self.listing_paths
        self.pages["/sitemap.xml"] = Page(self._sitemap(locs).encode(), "application/xml")
        self.pages["/files/data.bin"] = Page(bytes(range(256)) * 64, "application/octet-stream")
        self.pages["/empty.html"] = Page(
            b"<html><head><title>Empty</title></head><body><nav><a href='/'>Home</a></nav>"
            b"<div id='app'></div><script>render()</script></body></html>"
        )
        slow = Article("slow", "很慢的页面", "这个页面的服务器要过很久才回答。" * 6, "2026-01-05")
        self.pages["/posts/slow.html"] = Page(article_html(slow, []).encode())

    def _rss(self, arts: list[Article]) -> str:
        items = "".join(
            f"<item><title>{html.escape(a.title)}</title><link>{self.base}/posts/{a.doc_id}.html</link>"
            f"<description>{html.escape(a.text[:80])}</description></item>"
            for a in arts
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>INCOMING TRANSMISSION</title><link>{self.base}/</link>{items}</channel></rss>"
        )

    def _atom(self, arts: list[Article]) -> str:
        entries = "".join(
            f'<entry><title>{html.escape(a.title)}</title><link href="/posts/{a.doc_id}.html"/>'
            f"<id>urn:{a.doc_id}</id><updated>{a.date}T00:00:00Z</updated></entry>"
            for a in arts
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            f'xml:base="{self.base}/"><title>INCOMING TRANSMISSION</title>'
            f"<id>urn:blog</id><updated>2026-01-01T00:00:00Z</updated>{entries}</feed>"
        )

    def _sitemap(self, paths: list[str]) -> str:
        urls = "".join(f"<url><loc>{self.base}{p}</loc></url>" for p in paths)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )

    def change(self, path: str, old: str, new: str) -> None:
        """Edit a page (its ETag and Last-Modified change)."""
        page = self.pages[path]
        body = page.body.decode()
        assert old in body
        self.pages[path] = Page(body.replace(old, new, 1).encode(), page.content_type, time.time())

    # ------------------------------------------------------------------ server
    def start(self) -> Site:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
                self.record[2] = status
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    if "Transfer-Encoding" not in headers:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if body:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.record.append("hung up")  # the client stopped reading (size limit)

            def do_GET(self) -> None:
                with site._idle:
                    site._busy += 1
                try:
                    self._get()
                finally:
                    with site._idle:
                        site._busy -= 1
                        site._idle.notify_all()

            def _get(self) -> None:
                self.record = [self.command, self.path, 0]  # status 0: no answer (yet)
                site.log.append(self.record)
                site.times.append((time.monotonic(), self.path))
                site.agents.add(self.headers.get("User-Agent", ""))
                path = self.path.split("?")[0]
                if path == "/go/elsewhere":
                    target = f"http://localhost:{site.port}/posts/elsewhere.html"
                    return self._send(302, {"Location": target})
                if path == "/old-url.html":
                    return self._send(
                        301, {"Location": "/posts/" + site.articles[0].doc_id + ".html"}
                    )
                if path == "/posts/slow.html" and not self._wait(site.slow_seconds):
                    self.record[2] = -1  # the client timed out and hung up: nothing sent
                    self.close_connection = True
                    return None
                if path == "/chunked.html":
                    return self._chunked()
                if path == "/posts/huge.html":
                    return self._huge()
                page = site.pages.get(path)
                if page is None:
                    body = b"<html><body><h1>404 Not Found</h1></body></html>"
                    return self._send(404, {"Content-Type": "text/html"}, body)
                last_mod = formatdate(page.last_modified, usegmt=True)
                if self.headers.get("If-None-Match") == page.etag:
                    return self._send(304, {"ETag": page.etag, "Last-Modified": last_mod})
                headers = {
                    "Content-Type": page.content_type,
                    "ETag": page.etag,
                    "Last-Modified": last_mod,
                }
                return self._send(200, headers, page.body)

            def _wait(self, seconds: float) -> bool:
                """Sleep ``seconds``; False as soon as the client hangs up."""
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    if self._client_gone():
                        return False
                    time.sleep(0.02)
                return True

            def _client_gone(self) -> bool:
                readable, _, _ = select.select([self.connection], [], [], 0)
                if not readable:
                    return False
                try:
                    return self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    return True

            def _chunked(self) -> None:
                self.record[2] = 200
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    block = b"<p>" + b"y" * (CHUNKED_BYTES // 40 - 7) + b"</p>"
                    for _ in range(40):  # CHUNKED_BYTES, never announced
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _huge(self) -> None:
                """20 MiB announced, written 64 KiB at a time until the client hangs up."""
                self.record[2] = 200
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(HUGE_BYTES))
                    self.send_header("ETag", '"huge"')
                    self.end_headers()
                    block = b"x" * 65_536
                    for _ in range(HUGE_BYTES // len(block)):
                        self.wfile.write(block)
                except (BrokenPipeError, ConnectionResetError):
                    self.record.append("hung up")  # refused from its Content-Length
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hangs up early (size limit, timeout) is expected here

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.build()
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ------------------------------------------------------------------ counting
    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is being answered (a hung-up client is noticed at once)."""
        with self._idle:
            assert self._idle.wait_for(lambda: self._busy == 0, timeout), "server still busy"

    def downloads(self) -> list[str]:
        """Paths answered 200 whose whole body the client read, in order."""
        return [r[1] for r in self.log if r[2] == 200 and len(r) == 3]

    def requests(self, path: str | None = None, status: int | None = None) -> int:
        return sum(
            1
            for _m, p, s in self.log
            if (path is None or p == path) and (status is None or s == status)
        )
