"""Markdown loader: optional YAML front matter (``id``, ``title``, ``lang``, anything else kept).

Example:
    >>> doc = parse_markdown("---\\nid: dpo\\ntitle: DPO\\n---\\n直接偏好优化", "dpo.md", "x")
    >>> doc.doc_id, doc.title, doc.text
    ('dpo', 'DPO', '直接偏好优化')
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ingest.clean import clean_text
from ingest.loaders.base import detect_lang, first_line_title
from ingest.read import LoadError
from rag.schema import Document

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    """Return the front matter mapping and the body after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"{source}: front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise LoadError(f"{source}: front matter must be a mapping of keys to values")
    return meta, text[match.end() :]


def parse_markdown(text: str, source: str, default_id: str) -> Document:
    """Turn a Markdown file's text into a :class:`Document`."""
    meta, body = split_front_matter(text, source)
    body = clean_text(body)
    heading = _HEADING.search(body)
    title = str(meta.pop("title", "") or (heading.group(1) if heading else first_line_title(body)))
    doc_id = str(meta.pop("id", "") or default_id)
    lang = str(meta.pop("lang", "") or detect_lang(body))
    return Document(doc_id=doc_id, text=body, title=title, source=source, lang=lang, meta=meta)
