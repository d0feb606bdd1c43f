"""An answer without an LLM: the passages' own sentences that best match the question, cited.

Used with ``--no-llm``, and as the fallback when the LLM is unreachable, times out, or gives an
answer the passages do not support.

Example:
    >>> from rag.schema import Passage
    >>> ps = [Passage("DDPM 采样很慢。DDIM 只需 20~100 步就能达到相近效果。", "ddim", "DDIM", "s", "c", 1)]
    >>> words = lambda t: [w for w in ("ddim", "步") if w in t.lower()]
    >>> extractive_answer("DDIM 需要多少步?", ps, terms=words).text
    'DDIM 只需 20~100 步就能达到相近效果。[1]'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.schema import Passage
from rag.text.sentences import quotable_sentences


@dataclass
class Extract:
    """An extractive answer and the passage numbers it cites."""

    text: str
    cited: list[int]


def extractive_answer(
    question: str,
    passages: Sequence[Passage],
    terms: Callable[[str], list[str]],
    similarity: Callable[[str, list[str]], np.ndarray] | None = None,
    max_sentences: int = 2,
    max_passages: int = 3,
) -> Extract:
    """Pick the best ``max_sentences`` sentences of the top passages.

    Args:
        question: The question.
        passages: Retrieved passages, best first (``[n]`` = passages[n-1]).
        terms: Tokenizer used for lexical matching (the BM25 one).
        similarity: Optional ``(question, sentences) -> cosine array`` for cross-lingual
            questions.
        max_sentences: Sentences in the answer.
        max_passages: How many top passages to draw from.
    """
    from rag.answer.coverage import normalize_name, question_entities

    q_terms = set(terms(question))
    names = [normalize_name(e) for e in question_entities(question)]
    candidates: list[tuple[float, int, int, str]] = []  # score, passage no, position, sentence
    for pno, p in enumerate(passages[:max_passages], start=1):
        for pos, s in enumerate(quotable_sentences(p.text)):
            s_terms = set(terms(s))
            overlap = len(q_terms & s_terms) / max(1, len(q_terms))
            flat = normalize_name(s)
            named = sum(1 for n in names if n in flat) / len(names) if names else 0.0
            score = overlap + 0.5 * named - 0.05 * (pno - 1) - 0.001 * pos
            candidates.append((score, pno, pos, s))
    if not candidates:
        return Extract(text="", cited=[])
    if similarity is not None:
        sims = similarity(question, [c[3] for c in candidates])
        candidates = [
            (0.5 * c[0] + float(sims[i]), c[1], c[2], c[3]) for i, c in enumerate(candidates)
        ]
    ranked = sorted(candidates, key=lambda c: -c[0])
    top = ranked[0][0]
    best = [c for c in ranked[:max_sentences] if c is ranked[0] or c[0] >= 0.6 * top > 0]
    best.sort(key=lambda c: (c[1], c[2]))
    cited: list[int] = []
    parts = []
    for _, pno, _, s in best:
        if pno not in cited:
            cited.append(pno)
        parts.append(f"{s}[{pno}]")
    return Extract(text="".join(parts) if _is_cjk(parts) else " ".join(parts), cited=cited)


def _is_cjk(parts: list[str]) -> bool:
    return any(re.search(r"[\u4e00-\u9fff]", p) for p in parts)
