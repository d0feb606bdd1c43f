"""`rag ingest URL`: a real blog served on loopback (tests/fixture_site.py), crawled for real.

Every request goes to 127.0.0.1 (or "localhost", which the crawler must refuse as another host);
the server counts them. The slow page answers after 1.5 s against a 0.5 s client timeout. Most
tests crawl the 7-article site (``small_site``); one crawls all 37 articles (``full_site``).
"""

from __future__ import annotations

import itertools
import json
import socket
from collections import Counter
from pathlib import Path

import pytest

from ingest.web.cache import WebCache
from ingest.web.crawl import crawl
from ingest.web.discover import kind_of, listing_links
from rag.config import Settings
from tests.fixture_site import ATOM_ENTRIES, CHUNKED_BYTES, Site


def _quiet(_msg: str) -> None:
    pass


def _free_port_url(path: str = "/") -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}{path}"


# ------------------------------------------------------------------------------ discovery
def test_listing_page_gives_entries_and_pagination(full_site: Site) -> None:
    site = full_site
    page = site.pages["/"].body.decode()
    links = listing_links(page, site.url("/"))
    assert links.is_listing and len(links.entries) == 9
    assert links.entries[0] == site.article_url(site.articles[0].doc_id)
    assert site.url("/drafts/unpublished.html") in links.entries  # robots decides, not discovery
    assert site.url("/page/2/") in links.pages and site.url("/page/5/") in links.pages
    assert site.url("/about.html") not in links.pages + links.entries  # navigation is not content
    article = site.pages[f"/posts/{site.articles[0].doc_id}.html"].body.decode()
    assert not listing_links(article, site.url("/posts/x.html")).is_listing  # sidebar links
    assert kind_of("application/rss+xml", site.pages["/feed.xml"].body) == "feed"
    assert kind_of("application/xml", site.pages["/sitemap.xml"].body) == "sitemap"


# ------------------------------------------------------------------------------ the crawl
def test_crawl_indexes_every_allowed_article_once_and_reruns_with_304s(
    full_site: Site, web_settings: Settings
) -> None:
    """The whole 37-article blog, twice: the second run downloads nothing (the one full crawl)."""
    site = full_site
    web_settings.index_dir.mkdir(parents=True)
    cache = WebCache(web_settings.index_dir / "web-cache.sqlite")
    site.wait_idle()
    site.log.clear()
    site.agents.clear()
    first = crawl(site.url("/"), web_settings, cache, _quiet)
    site.wait_idle()

    assert len(first.documents) == len(site.articles) == 37
    assert {d.source for d in first.documents} == {
        site.article_url(a.doc_id) for a in site.articles
    }
    per_path = Counter(r[1] for r in site.log)
    for a in site.articles:  # each article page requested exactly once
        assert per_path[f"/posts/{a.doc_id}.html"] == 1
    assert len(site.listing_paths) == 5
    for path in site.listing_paths:  # pagination followed 1 2 3 ... 5
        assert per_path[path] == 1
    assert per_path["/drafts/unpublished.html"] == 0  # robots.txt: never requested
    assert per_path["/posts/elsewhere.html"] == 0  # the other host's page: never requested
    skipped, errors = " | ".join(first.skipped), " | ".join(first.errors)
    assert "/drafts/unpublished.html: forbidden by" in skipped and "robots.txt" in skipped
    assert "/go/elsewhere: redirects to another host (localhost:" in skipped
    assert "/posts/missing.html: HTTP 404" in errors
    assert "/posts/slow.html: timed out after 0.5 s" in errors
    assert "/posts/huge.html: 21.0 MB is over the 20.0 MB limit" in errors
    assert all("\n" not in m for m in first.skipped + first.errors)  # one line each
    assert site.agents == {web_settings.crawl_user_agent}

    doc = next(d for d in first.documents if d.source.endswith("/posts/dpo.html"))
    article = next(a for a in site.articles if a.doc_id == "dpo")
    assert doc.title == article.title
    assert article.text[:60] in doc.text  # the article, not the page around it
    assert "```\nimport torch" in doc.text  # code block kept, fenced, its lines intact
    for furniture in ("相关文章", "© 2026", "首页"):
        assert furniture not in doc.text

    site.log.clear()
    second = crawl(site.url("/"), web_settings, cache, _quiet)
    site.wait_idle()
    statuses = Counter(r[2] for r in site.log)
    assert len(second.documents) == 37
    assert statuses[304] == 1 + len(site.listing_paths) + 37  # robots + pages
    assert site.downloads() == []  # nothing downloaded: the 20 MiB page is refused again...
    assert ["GET", "/posts/huge.html", 200, "hung up"] in site.log  # ... from its headers
    assert second.stats["fetched"] == 0 and second.stats["not_modified"] == statuses[304] - 1
    cache.close()


def test_feed_atom_and_sitemap_lead_to_the_same_articles(
    small_site: Site, web_settings: Settings
) -> None:
    site = small_site
    expected = {site.article_url(a.doc_id) for a in site.articles}
    rss = crawl(site.url("/feed.xml"), web_settings, None, _quiet)
    assert {d.source for d in rss.documents} == expected and not rss.errors
    atom = crawl(site.url("/atom.xml"), web_settings, None, _quiet)
    assert {d.source for d in atom.documents} == {
        site.article_url(a.doc_id) for a in site.articles[:ATOM_ENTRIES]
    }
    assert json.loads(json.dumps(atom.stats))["requests"] == 2 + ATOM_ENTRIES  # robots, feed
    sitemap = crawl(site.url("/sitemap.xml"), web_settings, None, _quiet)
    assert {d.source for d in sitemap.documents} == expected  # listing pages are not articles


def test_max_pages_bounds_the_crawl(small_site: Site, web_settings: Settings) -> None:
    site = small_site
    site.wait_idle()
    site.log.clear()
    result = crawl(site.url("/"), web_settings.replace(crawl_max_pages=5), None, _quiet)
    assert len([r for r in site.log if r[1] != "/robots.txt"]) == 5
    assert any("stopped at --max-pages 5" in s for s in result.skipped)


def test_delay_between_requests_to_one_host(small_site: Site, web_settings: Settings) -> None:
    site = small_site
    site.wait_idle()
    site.times.clear()
    polite = web_settings.replace(crawl_delay=0.2, crawl_concurrency=2, crawl_max_pages=3)
    crawl(site.url("/atom.xml"), polite, None, _quiet)
    starts = sorted(t for t, _p in site.times)
    assert len(starts) == 4  # robots.txt + 3 pages
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.15, gaps


# ------------------------------------------------------------------------------ refusals
def test_loopback_is_refused_without_allow_private(
    small_site: Site, base_settings: Settings
) -> None:
    site = small_site
    site.wait_idle()
    site.log.clear()
    result = crawl(site.url("/"), base_settings, None, _quiet)
    assert result.documents == [] and site.log == []
    assert "private or loopback address" in result.skipped[0]
    assert "--allow-private" in result.skipped[0]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/files/data.bin",
            "not a web page, feed, sitemap or PDF (content type application/octet-stream)",
        ),
        ("/empty.html", "no main content found (an empty page, or built by JavaScript?)"),
        ("/posts/missing.html", "HTTP 404 Not Found"),
    ],
)
def test_bad_pages_get_one_line_naming_the_url(
    small_site: Site, web_settings: Settings, path: str, expected: str
) -> None:
    result = crawl(small_site.url(path), web_settings, None, _quiet)
    assert result.documents == []
    assert result.errors == [f"{small_site.url(path)}: {expected}"]


def test_unreachable_host_and_other_schemes(web_settings: Settings) -> None:
    url = _free_port_url("/blog/")
    result = crawl(url, web_settings, None, _quiet)
    assert len(result.errors) == 1 and result.errors[0].startswith(f"{url}: cannot connect")
    ftp = crawl("ftp://127.0.0.1/x", web_settings, None, _quiet)
    assert ftp.errors == ["ftp://127.0.0.1/x: not an http(s) URL; only http and https are fetched"]


def test_body_without_length_is_cut_at_the_size_limit(
    small_site: Site, web_settings: Settings
) -> None:
    """The streaming limit: no Content-Length, so the body is counted while it is read."""
    limit_mb = 0.1
    assert 2 * limit_mb * 1e6 < CHUNKED_BYTES
    url = small_site.url("/chunked.html")
    result = crawl(url, web_settings.replace(max_file_mb=limit_mb), None, _quiet)
    assert result.errors == [f"{url}: more than the 0.1 MB limit (--max-file-mb); not read further"]


def test_same_host_redirect_is_followed_and_the_final_url_is_the_source(
    small_site: Site, web_settings: Settings
) -> None:
    result = crawl(small_site.url("/old-url.html"), web_settings, None, _quiet)
    assert [d.source for d in result.documents] == [
        small_site.article_url(small_site.articles[0].doc_id)
    ]


def test_other_hosts_can_be_allowed(small_site: Site, web_settings: Settings) -> None:
    site = small_site
    allowed = web_settings.replace(crawl_hosts=f"localhost:{site.port}")
    result = crawl(site.url("/go/elsewhere"), allowed, None, _quiet)
    # Followed now: the other host answers 404 for that page (it is the same test server).
    assert result.errors == [
        f"{site.url('/go/elsewhere')}: HTTP 404 Not Found "
        f"(redirected to http://localhost:{site.port}/posts/elsewhere.html)"
    ]


# ------------------------------------------------------------------------------ end to end
def test_rag_ingest_url_then_ask_cites_the_url(
    small_site: Site, base_settings: Settings, embedder, tmp_path: Path, capsys, monkeypatch
) -> None:
    """The command a person types, twice, then after one article changed; then `rag ask`."""
    from rag.cli import main
    from rag.embed.embedder import Embedder

    site = small_site
    n = len(site.articles)
    # The CLI would load the same model again (slow on 2 cores): hand it the session's.
    monkeypatch.setattr(
        Embedder, "load", classmethod(lambda cls, settings, progress=True: embedder)
    )
    # An index that already holds a local document, which no crawl may lose.
    local = tmp_path / "notes"
    local.mkdir()
    (local / "note.txt").write_text("Rectified Flow 让 ODE 轨迹变直, 采样更快。", encoding="utf-8")
    common = ["--index", str(tmp_path / "index"), "--quiet"]
    assert main(["ingest", str(local), *common]) == 0
    capsys.readouterr()
    crawl_opts = ["--allow-private", "--delay", "0", "--timeout", "0.5", "--json"]

    site.wait_idle()
    site.log.clear()
    assert main(["ingest", site.url("/"), *common, *crawl_opts]) == 0
    site.wait_idle()
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["added"] == n and report["documents"] == n + 1
    assert report["web"][0]["documents"] == n
    for line in (
        "skipped: " + site.url("/drafts/unpublished.html") + ": forbidden by",
        "skipped: " + site.url("/go/elsewhere") + ": redirects to another host",
        "error: " + site.url("/posts/missing.html") + ": HTTP 404",
        "error: " + site.url("/posts/slow.html") + ": timed out",
        "error: " + site.url("/posts/huge.html") + ": 21.0 MB is over the 20.0 MB limit",
    ):
        assert line in out.err, line

    site.log.clear()
    assert main(["ingest", site.url("/"), *common, *crawl_opts]) == 0
    site.wait_idle()
    report = json.loads(capsys.readouterr().out)
    assert report["up_to_date"] and report["embedded"] == 0
    assert site.downloads() == []  # everything answered 304 (or failed as before)

    original = site.pages["/posts/ddim.html"]
    try:
        site.change(
            "/posts/ddim.html",
            "</article>",
            "<p>新增: DDIM 的采样步数可以少到二十步。</p></article>",
        )
        site.log.clear()
        assert main(["ingest", site.url("/"), *common, *crawl_opts]) == 0
        site.wait_idle()
    finally:
        site.pages["/posts/ddim.html"] = original  # the site is shared by other tests
    report = json.loads(capsys.readouterr().out)
    assert report["changed"] == 1 and report["unchanged"] == n - 1
    assert site.downloads() == ["/posts/ddim.html"]

    # A host that is down: one line naming it, and everything indexed stays.
    down = _free_port_url()
    assert main(["ingest", down, *common, *crawl_opts]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["documents"] == n + 1
    assert f"error: {down}: cannot connect" in out.err

    assert (
        main(["ask", "FlashAttention 的关键创新是什么?", *common, "--no-llm", "--no-stream"]) == 0
    )
    answer = capsys.readouterr().out
    assert site.article_url("flashattention") in answer[answer.index("Sources:") :], answer
