"""Files and web addresses added from the page.

Files are checked (type, size, name) and saved only under the upload folder: names are
sanitized (no directories, no hidden files, no ``..``) and files are written atomically; the
folder is then indexed like any other (see :meth:`rag.ui.chat.ChatUI.upload`). A web address
(a blog, feed, sitemap, article or PDF) is crawled into the index as ``rag ingest URL`` does,
with the server's ``RAG_CRAWL_*`` settings (:func:`crawl_into_index`).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.errors import UploadError
from rag.ui.render import _esc, _source_html

if TYPE_CHECKING:
    from rag.api import Assistant

ALLOWED_EXTENSIONS = (".md", ".markdown", ".txt", ".html", ".htm", ".jsonl", ".pdf")
MAX_UPLOAD_FILES = 20
_HTTP_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


def safe_filename(name: str, max_len: int = 100) -> str:
    """A file name safe to write into the upload folder.

    Any directory part is dropped (``/`` and ``\\``), characters other than letters (any
    script), digits, ``.``, ``_`` and ``-`` become ``_``, and leading dots go (no hidden
    files, no ``..``).

    Raises:
        UploadError: nothing usable is left.

    Example:
        >>> safe_filename("../../etc/passwd"), safe_filename("/abs/path.md")
        ('passwd', 'path.md')
        >>> safe_filename("a b?.md"), safe_filename("..\\\\笔记 1.txt")
        ('a_b.md', '笔记_1.txt')
    """
    base = unicodedata.normalize("NFKC", str(name)).replace("\x00", "")
    base = re.split(r"[\\/]", base)[-1].strip()
    base = re.sub(r"[^\w.\-]+", "_", base)
    base = re.sub(r"_{2,}", "_", base).lstrip("._-")
    stem, dot, ext = base.rpartition(".")
    if dot and stem:
        stem = stem.rstrip("_-. ") or "file"
        ext = ext[:12]
        base = f"{stem[: max(1, max_len - len(ext) - 1)]}.{ext}"
    else:
        base = base[:max_len]
    if not base or base in (".", ".."):
        raise UploadError(f"{name!r}: not a usable file name")
    return base


def validate_upload(path: Path, name: str, max_mb: float) -> str:
    """Check one uploaded file; return the name to save it under.

    Args:
        path: Where the upload currently is (Gradio's temporary copy).
        name: The name the user's browser sent.
        max_mb: ``settings.max_file_mb``.

    Raises:
        UploadError: wrong extension, empty, over the size limit, or an unusable name.

    Example:
        >>> validate_upload(Path("/nonexistent"), "x.exe", 20)
        Traceback (most recent call last):
        rag.errors.UploadError: x.exe: only .md, .markdown, .txt, .html, .htm, .jsonl, .pdf files can be added
    """
    safe = safe_filename(name)
    display = Path(str(name).replace("\\", "/")).name or safe
    if Path(safe).suffix.lower() not in ALLOWED_EXTENSIONS:
        raise UploadError(f"{display}: only {', '.join(ALLOWED_EXTENSIONS)} files can be added")
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise UploadError(f"{display}: the upload could not be read ({exc.strerror})") from exc
    if size == 0:
        raise UploadError(f"{display}: the file is empty")
    if size > max_mb * 1e6:
        raise UploadError(f"{display}: {size / 1e6:.1f} MB is over the {max_mb:g} MB limit")
    return safe


def save_upload(src: Path, safe_name: str, upload_dir: Path) -> Path:
    """Copy an upload into ``upload_dir`` as ``safe_name`` (atomically; never outside it).

    Raises:
        UploadError: the target would fall outside ``upload_dir``.
    """
    root = Path(upload_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    target = root / safe_name
    if target.parent != root or safe_name in ("", ".", ".."):
        raise UploadError(f"{safe_name}: would be written outside {root}")
    tmp = root / f".{uuid.uuid4().hex}.part"  # hidden: loaders skip it if we crash
    try:
        shutil.copyfile(src, tmp)
        if target.is_symlink():
            target.unlink()
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def save_uploads(
    files: Sequence[tuple[Path, str]], upload_dir: Path, max_mb: float
) -> tuple[list[Path], list[str]]:
    """Validate and save several uploads.

    Args:
        files: ``(temporary path, name sent by the browser)`` pairs.
        upload_dir: The folder uploads are kept in (and indexed from).
        max_mb: Size limit per file.

    Returns:
        The saved paths and one message per refused file.
    """
    saved: list[Path] = []
    errors: list[str] = []
    if len(files) > MAX_UPLOAD_FILES:
        errors.append(f"{len(files)} files at once; only the first {MAX_UPLOAD_FILES} were taken")
        files = files[:MAX_UPLOAD_FILES]
    for path, name in files:
        try:
            safe = validate_upload(Path(path), name, max_mb)
            saved.append(save_upload(Path(path), safe, upload_dir))
        except UploadError as exc:
            errors.append(str(exc))
    return saved, errors


def check_url(url: str | None) -> str:
    """The address typed into the page's URL box, stripped.

    Raises:
        UploadError: not an http(s) address.

    Example:
        >>> check_url("  https://blog.example.org/ ")
        'https://blog.example.org/'
        >>> check_url("file:///etc/passwd")
        Traceback (most recent call last):
        rag.errors.UploadError: enter an http(s):// address: a blog, a feed, a sitemap, an article or a PDF
    """
    url = (url or "").strip()
    if not _HTTP_URL.match(url):
        raise UploadError(
            "enter an http(s):// address: a blog, a feed, a sitemap, an article or a PDF"
        )
    return url


def crawl_into_index(
    assistant: Assistant,
    url: str,
    lock: threading.Lock,
    say: Callable[..., Any],
) -> tuple[list[str], str]:
    """Crawl ``url`` into ``assistant``'s index and reload it: (report lines, summary), as HTML.

    The crawl follows the server's settings (``RAG_CRAWL_*``): robots.txt, one host, the page
    limit, and no loopback or private addresses unless the server allows them. Every page left
    out gets a line; a failed crawl leaves the index as it was.
    """
    from ingest.pipeline import ingest
    from rag.errors import StoreError

    say(0.1, desc=f"fetching {url} (robots.txt respected, one host)")
    before = {d["doc_id"] for d in assistant.store.documents()}
    lines: list[str] = []
    try:
        with lock:
            report = ingest(
                [url],
                assistant.settings,
                progress=False,
                embedder=assistant.embedder,
                log=lambda _m: None,  # the report lists every skip and error below
                lock_timeout=120.0,
            )
            say(0.9, desc="reloading the index")
            assistant.reload()
    except (StoreError, OSError) as exc:
        return [f"✗ indexing failed: {_esc(str(exc))}"], "the index was not changed"
    for d in assistant.store.documents():
        if d["doc_id"] not in before:
            lines.append(
                f"✓ added {_esc(d['title'])} <span class='rag-src-meta'>"
                f"({_source_html(d['source'])}, {d['chunks']} chunks)</span>"
            )
    lines += [f"✗ {_esc(m)}" for m in report.skipped + report.errors]
    say(1.0, desc="done")
    return lines, _esc(report.summary())


def default_upload_dir(settings: Settings) -> Path:
    """``uploads/`` beside the index directory (``data/uploads`` by default).

    >>> default_upload_dir(Settings.load(env={}, index_dir=Path("/x/data/index")))
    PosixPath('/x/data/uploads')
    """
    return Path(settings.index_dir).parent / "uploads"


def _file_path(f: Any) -> str:
    if isinstance(f, dict):
        return str(f.get("path") or f.get("name"))
    return str(getattr(f, "path", None) or getattr(f, "name", None) or f)


def _file_name(f: Any) -> str:
    if isinstance(f, dict) and f.get("orig_name"):
        return str(f["orig_name"])
    return Path(_file_path(f)).name
