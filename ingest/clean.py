"""Light, offset-safe cleaning of document text before chunking.

Cleaning never rewrites words: it removes invisible characters, trailing spaces and runs of blank
lines, so what the reader sees in a passage is what the author wrote.

Example:
    >>> clean_text("a\\u200b b  \\n\\n\\n\\nc")
    'a b\\n\\nc'
"""

from __future__ import annotations

import re

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_RUNS = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Remove invisible and control characters, trailing spaces and extra blank lines."""
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _TRAILING_SPACE.sub("\n", text)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()
