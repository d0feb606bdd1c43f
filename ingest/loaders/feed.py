"""Feed loader: a saved listing page of a blog, one article's opening text a line.

A listing page has a header, a ``LATEST UPDATES`` line, then one line per article. Lines shorter
than ``MIN_ARTICLE_CHARS`` are page furniture (a category tag such as ``Python``, a date, the
pager ``1 2 3 ... 5``) and are dropped. The same article may appear on several pages, cut at
different lengths: they are merged by their opening characters and the longest text is kept.

Example:
    >>> page = "LATEST UPDATES\\nPython\\n2026-01-11\\n" + "背景 DPO 直接偏好优化" * 5 + "\\n1 2 3 ... 5\\n"
    >>> [a.title for a in parse_feed([(page, "p1.txt")])]
    ['DPO']
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingest.clean import clean_text
from ingest.loaders.base import detect_lang, slugify
from rag.schema import Document

MIN_ARTICLE_CHARS = 40
KEY_CHARS = 40
_MARKER = re.compile(r"^\s*LATEST UPDATES\s*$", re.IGNORECASE | re.MULTILINE)

# Section headings an article often opens with; they say nothing about its subject.
_GENERIC_HEADINGS = (
    "引言与背景",
    "模型概述",
    "基础概念",
    "问题表示",
    "简介",
    "概述",
    "引言",
    "背景",
    "摘要",
    "前言",
    "介绍",
    "Overview",
    "Introduction",
    "Quick Start",
    "Background",
    "Abstract",
    "Summary",
)
_LATIN_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")
_BOOK_TITLE = re.compile(r"《([^》]{2,80})》")
_NOT_SUBJECTS = {
    "the",
    "a",
    "an",
    "of",
    "in",
    "and",
    "to",
    "paper",
    "github",
    "api",
    "python",
    "example",
}


@dataclass
class FeedArticle:
    """One article found in one or more listing pages."""

    key: str
    text: str
    sources: list[str] = field(default_factory=list)
    title: str = ""

    @property
    def doc_id(self) -> str:
        return f"{slugify(self.title, 40)}-{self.key[:6]}"


def opening_key(text: str) -> str:
    """A stable key of an article: a hash of its first ``KEY_CHARS`` normalized characters."""
    norm = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()[:KEY_CHARS]
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()


def article_lines(page: str) -> list[str]:
    """The article lines of a listing page (furniture removed)."""
    marker = _MARKER.search(page)
    body = page[marker.end() :] if marker else page
    lines = [line.strip() for line in body.split("\n")]
    return [line for line in lines if len(line) >= MIN_ARTICLE_CHARS]


def derive_title(text: str) -> str:
    """A short title from an article's opening text: the subject it opens with.

    Example:
        >>> derive_title("引言与背景 随机逼近(Stochastic Approximation)是一类随机迭代算法")
        '随机逼近'
        >>> derive_title("背景 RLHF 通常包括三个阶段。直接偏好优化(DPO)... DPO发现了捷径, DPO将两者合一")
        'DPO'
    """
    head = text.strip()
    for word in _GENERIC_HEADINGS:
        if head.startswith(word + " ") or head.startswith(word + ":"):
            head = head[len(word) + 1 :].lstrip()
            break
    head = re.sub(r"^\d+(\.\d+)*\.?\s*", "", head)  # "1. 搜索引擎概述" -> "搜索引擎概述"
    head = head.lstrip("💡 \"'“")
    terms = Counter(
        t for t in _LATIN_TERM.findall(text[:600]) if len(t) >= 2 and t.lower() not in _NOT_SUBJECTS
    )
    acronyms = {t: c for t, c in terms.items() if re.search(r"[A-Z].*[A-Z0-9]", t)}
    dominant = max(acronyms.items(), key=lambda kv: (kv[1], -text.find(kv[0])), default=None)
    # 1. the text opens with a Latin term ("TFRecord 是...", "FlashAttention的关键..."),
    #    unless another term clearly dominates ("RLHF" twice against "DPO" three times)
    opening = _LATIN_TERM.match(head)
    if opening and opening.group(0).lower() not in _NOT_SUBJECTS and len(opening.group(0)) >= 2:
        first = opening.group(0)
        if dominant and dominant[1] >= 3 and dominant[1] > terms.get(first, 0):
            return dominant[0]
        return first
    # 2. a term that dominates the opening
    if dominant and dominant[1] >= 3:
        return dominant[0]
    # 3. a Chinese subject before "是" or a parenthesis ("随机逼近(Stochastic ...)是一类")
    subject = re.match(r"([\u4e00-\u9fffA-Za-z0-9\-]{2,12}?)(?:\(|（|是|的概念|:|：)", head)
    if subject:
        return subject.group(1)
    # 4. a quoted paper title
    book = _BOOK_TITLE.search(text[:300])
    if book:
        return book.group(1).split(":")[0].strip()
    if acronyms:
        return max(acronyms.items(), key=lambda kv: (kv[1], -text.find(kv[0])))[0]
    # 5. the first words
    first = re.split(r"[,，。:：;；!！?？\s]", head, maxsplit=1)[0]
    return first[:16] or head[:16]


def parse_feed(
    pages: list[tuple[str, str]], titles: dict[str, str] | None = None
) -> list[FeedArticle]:
    """Merge the articles of several listing pages.

    Args:
        pages: ``(page_text, source_name)`` pairs, in order.
        titles: Optional curated titles by article key (see :func:`opening_key`).

    Returns:
        The distinct articles in order of first appearance, each with its longest text and
        every page it came from.
    """
    articles: dict[str, FeedArticle] = {}
    for page, source in pages:
        for line in article_lines(page):
            key = opening_key(line)
            article = articles.get(key)
            if article is None:
                article = articles[key] = FeedArticle(key=key, text=line)
            elif len(line) > len(article.text):
                article.text = line
            if source not in article.sources:
                article.sources.append(source)
    for article in articles.values():
        article.title = (titles or {}).get(article.key) or derive_title(article.text)
    return list(articles.values())


def feed_documents(
    pages: list[tuple[str, str]], titles: dict[str, str] | None = None
) -> list[Document]:
    """The articles of listing pages as :class:`Document` objects (text kept verbatim)."""
    docs = []
    for article in parse_feed(pages, titles):
        text = clean_text(article.text)
        docs.append(
            Document(
                doc_id=article.doc_id,
                text=text,
                title=article.title,
                source=", ".join(article.sources),
                lang=detect_lang(text),
                meta={"seeds": article.sources, "key": article.key},
            )
        )
    return docs


def read_titles(path: Path) -> dict[str, tuple[str, str]]:
    """Read curated ids and titles: a TSV of ``key-prefix<TAB>id<TAB>title`` lines.

    Lines starting with ``#`` are comments. A key prefix of at least 8 hex characters is enough.
    """
    out: dict[str, tuple[str, str]] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or len(parts[0]) < 8:
            raise ValueError(f"{path}:{line_no}: expected key<TAB>id<TAB>title")
        out[parts[0].strip()] = (parts[1].strip(), parts[2].strip())
    return out


def write_articles(
    pages: list[Path], out_dir: Path, curated: dict[str, tuple[str, str]] | None = None
) -> list[Path]:
    """Convert listing pages into one Markdown file per article, with front matter.

    Args:
        pages: The saved listing pages.
        out_dir: Where the ``<id>.md`` files go (created if missing).
        curated: Optional ``key-prefix -> (id, title)`` (see :func:`read_titles`).

    Returns:
        The files written, in order of first appearance.
    """
    curated = curated or {}
    texts = [(p.read_text(encoding="utf-8"), p.name) for p in pages]
    articles = parse_feed(texts)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for article in articles:
        doc_id, title = article.doc_id, article.title
        for prefix, (cid, ctitle) in curated.items():
            if article.key.startswith(prefix):
                doc_id, title = cid, ctitle
                break
        front = {
            "id": doc_id,
            "title": title,
            "lang": detect_lang(article.text),
            "seeds": article.sources,
            "key": article.key[:12],
        }
        body = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n"
        path = out_dir / f"{doc_id}.md"
        path.write_text(body + article.text + "\n", encoding="utf-8")
        written.append(path)
    return written
