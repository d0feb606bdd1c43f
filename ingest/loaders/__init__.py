"""Loaders: files -> :class:`rag.schema.Document` objects, by format.

Formats: ``markdown`` (.md, .markdown), ``text`` (.txt), ``html`` (.html, .htm), ``jsonl``
(.jsonl), ``pdf`` (.pdf; :mod:`ingest.loaders.pdf`, one document per file, pages kept) and
``feed`` (a saved blog listing page; only when asked for with ``fmt="feed"``).
``auto`` picks by extension. Unknown extensions, empty and binary files are skipped with a
message; a file that cannot be decoded is reported with its name; nothing raises for one bad file.

Example:
    >>> from pathlib import Path
    >>> result = load_paths([Path("data/articles")])      # doctest: +SKIP
    >>> len(result.documents), result.skipped             # doctest: +SKIP
    (37, [])
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.loaders.base import slugify
from ingest.loaders.feed import feed_documents
from ingest.loaders.html import parse_html
from ingest.loaders.jsonl import parse_jsonl
from ingest.loaders.markdown import parse_markdown
from ingest.loaders.pdf import load_pdf_file
from ingest.loaders.text import parse_text
from ingest.read import LoadError, SkipFile, read_text
from rag.schema import Document

EXTENSIONS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".pdf": "pdf",
}
FORMATS = ("auto", "markdown", "text", "html", "jsonl", "feed", "pdf")


@dataclass
class LoadResult:
    """Documents loaded from some paths, and what could not be used.

    Attributes:
        documents: The documents, in path order.
        origins: ``doc_id -> absolute path`` of the file each document came from.
        skipped: Messages for files left out on purpose (empty, binary, unknown type).
        errors: Messages for files or lines that could not be read (named, with the fix).
        roots: The absolute paths that were asked for (files or directories).
        web: One summary per crawled URL (:mod:`ingest.web`): requests, pages fetched...
    """

    documents: list[Document] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    web: list[dict[str, object]] = field(default_factory=list)


def iter_files(root: Path, skipped: list[str]) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, base)`` under ``root`` in sorted order; ``base`` is what ids are relative to.

    Hidden files and directories are skipped, and so are symlinks that point outside ``root``.
    """
    if root.is_file():
        yield root, root.parent
        return
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    skipped.append(f"{path}: symlink to {target}, outside {root}; not followed")
                    continue
            yield path, root


def _default_id(path: Path, base: Path) -> str:
    try:
        rel = path.relative_to(base)
    except ValueError:
        rel = Path(path.name)
    return slugify(str(rel.with_suffix("")), max_len=80)


def _display_source(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_paths(
    paths: Sequence[Path],
    fmt: str = "auto",
    max_bytes: int | None = None,
    on_file: object = None,
) -> LoadResult:
    """Load every supported file under ``paths``.

    Args:
        paths: Files and directories.
        fmt: One of :data:`FORMATS`; ``auto`` chooses by extension.
        max_bytes: Files larger than this are refused with a message naming the limit.
        on_file: Optional callable ``(path) -> None`` called once per file (progress bars).

    Returns:
        A :class:`LoadResult`; documents with an id already seen are reported and left out.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    result = LoadResult(roots=[str(Path(p).resolve()) for p in paths])
    feed_pages: list[tuple[str, str, Path]] = []

    def add(doc: Document, path: Path) -> None:
        if not doc.text.strip():
            result.skipped.append(f"{path}: no text after cleaning")
            return
        if doc.doc_id in result.origins:
            result.errors.append(
                f"{path}: duplicate document id {doc.doc_id!r} "
                f"(already from {result.origins[doc.doc_id]}); skipped"
            )
            return
        result.documents.append(doc)
        result.origins[doc.doc_id] = str(path.resolve())

    for root in paths:
        root = Path(root)
        if not root.exists():
            result.errors.append(f"{root}: no such file or directory")
            continue
        for path, base in iter_files(root, result.skipped):
            if callable(on_file):
                on_file(path)
            kind = fmt if fmt != "auto" else EXTENSIONS.get(path.suffix.lower())
            if kind is None:
                result.skipped.append(f"{path}: unsupported file type {path.suffix or '(none)'}")
                continue
            if kind == "pdf":  # binary: its own reader (size limit, pages, one-line errors)
                try:
                    doc, notes = load_pdf_file(
                        path, _display_source(path), _default_id(path, base), max_bytes
                    )
                except LoadError as exc:
                    result.errors.append(str(exc))
                    continue
                result.skipped.extend(notes)
                add(doc, path)
                continue
            try:
                text = read_text(path, max_bytes)
            except SkipFile as exc:
                result.skipped.append(str(exc))
                continue
            except LoadError as exc:
                result.errors.append(str(exc))
                continue
            source, default_id = _display_source(path), _default_id(path, base)
            try:
                if kind == "feed":
                    feed_pages.append((text, path.name, path))
                elif kind == "markdown":
                    add(parse_markdown(text, source, default_id), path)
                elif kind == "text":
                    add(parse_text(text, source, default_id), path)
                elif kind == "html":
                    add(parse_html(text, source, default_id), path)
                elif kind == "jsonl":
                    docs, line_errors = parse_jsonl(text, source, default_id)
                    result.errors.extend(line_errors)
                    for doc in docs:
                        add(doc, path)
            except LoadError as exc:
                result.errors.append(str(exc))
            except (ValueError, RecursionError) as exc:  # a malformed file must not stop the run
                result.errors.append(f"{path}: could not be parsed as {kind} ({exc})")
    if feed_pages:
        by_name = {name: path for _, name, path in feed_pages}
        for doc in feed_documents([(text, name) for text, name, _ in feed_pages]):
            add(doc, by_name[doc.meta["seeds"][0]])
    return result
