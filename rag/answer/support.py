"""How well a passage supports a sentence: lexical overlap, with an embedding fallback.

Lexical support is the share of the sentence's character bigrams (Chinese) and words (other
scripts) that occur in the passage. It is what catches an LLM that invents: a sentence the
passage supports shares most of its words with it. For an English answer over Chinese passages
the words differ, so the embedder's cosine similarity decides instead.

Example:
    >>> lexical_support("DDIM 不需要重新训练模型", "DDIM 可以直接使用 DDPM 训练好的模型, 不需要重新训练")
    0.8888888888888888
"""

from __future__ import annotations

import re

from rag.text.citations import CITATION

_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*")
_FUNCTION_BIGRAMS = frozenset({"的是", "是一", "一个", "可以", "我们", "这个", "因为", "所以"})


def features(text: str) -> set[str]:
    """Character bigrams of Chinese runs plus lowercased words of everything else."""
    text = CITATION.sub(" ", text)
    out: set[str] = set()
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            out.add(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    out.update(w.lower() for w in _WORD.findall(text))
    return out - _FUNCTION_BIGRAMS


def lexical_support(sentence: str, passage: str) -> float:
    """Share of the sentence's features found in the passage (0 when it has none)."""
    sent = features(sentence)
    if not sent:
        return 0.0
    return len(sent & features(passage)) / len(sent)
