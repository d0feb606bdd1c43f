"""A small model that keeps talking: cut its answer after a few sentences.

The prompt asks for the answer in one or two sentences. Asked "What is generally considered the
first SSM work in deep learning?" over the opening of a Chinese article, the embedded model
translated the whole evidence instead: nine sentences, ~15 s of generation on 2 cores, one of
them invented, while the answer (S4, 2021) was in the first. The chain asks :func:`cap_at` after
each streamed piece; once the model starts a sentence past the cap it stops the stream and keeps
the sentences before it (citation marks after a sentence's full stop stay with it).

On the dev answers of both question sets over the articles (111 stored answers of the embedded
model), 4 had three sentences or more and none held its gold fact only after the second. On the
test split it cost one answer (q052 of ``questions.jsonl``: the model copied its five evidence
sentences and the gold came after the third); ``RAG_ANSWER_MAX_SENTENCES`` moves the cap.

Example:
    >>> text = "DDIM 更快 [1]。它复用模型 [1]。第三句。第四句开始"
    >>> text[: cap_at(text, 3)]
    'DDIM 更快 [1]。它复用模型 [1]。第三句。'
    >>> cap_at("It is fast. [1] It reuses the model", 2) is None
    True
    >>> cap_at("One. Two. T", 2) is None  # the third has no words of its own yet
    True
    >>> "One. Two. Three is"[: cap_at("One. Two. Three is", 2)]
    'One. Two.'
"""

from __future__ import annotations

import re

from rag.answer.claims.clauses import split_sentences
from rag.answer.repetition import loop_start
from rag.text.citations import CITATION

__all__ = ["STOP_NOTICES", "cap_at", "stop_at"]

# What the user is told when the chain stops the model (a cut after the cap needs no notice:
# the sentences kept are the model's answer as it began it).
STOP_NOTICES = {"repetition": ["the model repeated itself; its answer is cut before the loop"]}

_WORD = re.compile(r"[\w\u3400-\u9fff]")
_ENDS = frozenset("。！？.!?；\n")


def cap_at(text: str, max_sentences: int) -> int | None:
    """Where to cut ``text`` so that it keeps ``max_sentences`` sentences, or None (not yet).

    Args:
        text: The answer streamed so far.
        max_sentences: Sentences to keep (0: no cap).

    Returns:
        The offset of the end of the last kept sentence, once a sentence after it has begun
        (at least two letters or characters of its own); None otherwise.
    """
    if max_sentences <= 0 or not any(c in _ENDS for c in text):
        return None
    spans = split_sentences(text)
    if len(spans) <= max_sentences:
        return None
    s, e = spans[max_sentences]
    if len(_WORD.findall(CITATION.sub("", text[s:e]))) < 2:
        return None
    return spans[max_sentences - 1][1]


def stop_at(text: str, max_sentences: int) -> tuple[int, str] | None:
    """Where and why to stop the model: in a loop (``repetition``), past the sentence cap
    (``sentence_limit``), or None to let it go on.

    Example:
        >>> stop_at("It is fast [1]. " + "[公式] " * 8, 3)
        (15, 'repetition')
        >>> stop_at("One. Two. Three. Four is", 3), stop_at("One. Two.", 3)
        ((16, 'sentence_limit'), None)
    """
    cut = loop_start(text)
    if cut is not None:
        return cut, "repetition"
    cut = cap_at(text, max_sentences)
    return None if cut is None else (cut, "sentence_limit")
