"""Plain-text loader: the whole file is one document, titled by its first line.

Example:
    >>> parse_text("FlashAttention\\n分块计算注意力", "fa.txt", "fa").title
    'FlashAttention'
"""

from __future__ import annotations

from ingest.clean import clean_text
from ingest.loaders.base import detect_lang, first_line_title
from rag.schema import Document


def parse_text(text: str, source: str, default_id: str) -> Document:
    """Turn a text file into a :class:`Document`."""
    body = clean_text(text)
    return Document(
        doc_id=default_id,
        text=body,
        title=first_line_title(body) or default_id,
        source=source,
        lang=detect_lang(body),
    )
