"""JSONL loader: one document a line, ``text`` required, ``id``, ``title``, ``url`` optional.

A broken line is reported with its line number and skipped; the good lines are kept.

Example:
    >>> docs, errors = parse_jsonl('{"id": "p1", "text": "第一段"}\\nnot json\\n', "c.jsonl", "c")
    >>> [d.doc_id for d in docs], errors
    (['p1'], ['c.jsonl:2: not valid JSON (Expecting value)'])
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ingest.clean import clean_text
from ingest.loaders.base import detect_lang, first_line_title
from rag.schema import Document

_KNOWN = {"id", "text", "title", "url", "lang"}


def json_objects(text: str, source: str, errors: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each JSON-object line; a message in ``errors`` for the rest.

    Example:
        >>> errors = []
        >>> list(json_objects('{"a": 1}\\n\\n[2]\\n{', "f.jsonl", errors)), errors
        ([(1, {'a': 1})], ['f.jsonl:3: expected a JSON object', 'f.jsonl:4: not valid JSON (Expecting property name enclosed in double quotes)'])
    """
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{source}:{line_no}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            errors.append(f"{source}:{line_no}: expected a JSON object")
            continue
        yield line_no, record


def parse_jsonl(text: str, source: str, default_id: str) -> tuple[list[Document], list[str]]:
    """Return the documents of a JSONL file and one message per line that could not be used."""
    docs: list[Document] = []
    errors: list[str] = []
    seen: set[str] = set()
    for line_no, record in json_objects(text, source, errors):
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            errors.append(f'{source}:{line_no}: missing or empty "text"')
            continue
        doc_id = str(record.get("id") or f"{default_id}-{line_no}")
        if doc_id in seen:
            errors.append(f"{source}:{line_no}: duplicate id {doc_id!r} (line skipped)")
            continue
        seen.add(doc_id)
        body = clean_text(body)
        title = str(record.get("title") or first_line_title(body) or doc_id)
        url = record.get("url")
        meta = {k: v for k, v in record.items() if k not in _KNOWN}
        docs.append(
            Document(
                doc_id=doc_id,
                text=body,
                title=title,
                source=str(url) if url else f"{source}#L{line_no}",
                lang=str(record.get("lang") or detect_lang(body)),
                meta=meta,
            )
        )
    return docs, errors
