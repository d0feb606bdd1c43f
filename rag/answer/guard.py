"""Checks on user input before any work is done.

Example:
    >>> from rag.config import Settings
    >>> check_question("  DPO 是什么?  ", Settings.load())
    'DPO 是什么?'
    >>> check_question("😀😀?", Settings.load())
    Traceback (most recent call last):
    rag.errors.QuestionError: the question has no words (only symbols): type a question about the articles
"""

from __future__ import annotations

import re

from rag.config import Settings
from rag.errors import QuestionError


def check_question(question: object, settings: Settings) -> str:
    """Return the stripped question, or raise :class:`QuestionError` with a clear message."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = question.replace("\x00", "").strip()
    if not text:
        raise QuestionError("the question is empty: type a question about the articles")
    if not re.search(r"\w", text):  # "😀😀", "???": nothing to search for
        raise QuestionError(
            "the question has no words (only symbols): type a question about the articles"
        )
    limit = settings.max_question_chars
    if len(text) > limit:
        raise QuestionError(
            f"the question is {len(text):,} characters long; the limit is {limit:,} "
            "(shorten it, or raise RAG_MAX_QUESTION_CHARS)"
        )
    return text
