"""Decide from the retrieval evidence alone whether the articles cover a question.

The LLM is not asked when they don't: a small model asked about something the passages lack
invents an answer. Evidence:

* ``missing_entities``: names in the question (``LoRA``, ``BERT``, ``YOLOv8``...) that appear in
  none of the retrieved passages. When every name the question asks about is missing, the
  articles are about something else.
* ``top_dense``: the best cosine similarity (e5 scores cluster high: related text 0.80-0.90).
* ``overlap``: the share of the question's content words found in the top passages.

The thresholds were calibrated on the ``dev`` split of ``data/eval/questions.jsonl`` with
``python -m rag.calibrate`` (see README, "Abstention"); the ``test`` split reports them.

Example:
    >>> from rag.schema import Passage
    >>> p = Passage("DDIM 只需采样 20~100 步", "ddim", "DDIM", "s", "c", 0.03, dense_score=0.86)
    >>> decide_coverage("LoRA 的秩一般取多少?", [p], lambda t: ["lora", "秩"]).covered
    False
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rag.schema import Passage

_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u9fff]")
_GENERIC_TERMS = frozenset(
    [
        "模型",
        "方法",
        "问题",
        "使用",
        "什么",
        "怎么",
        "为什么",
        "如何",
        "哪些",
        "一般",
        "主要",
        "作用",
        "区别",
        "原理",
        "需要",
        "通常",
        "可以",
        "是否",
        "一种",
        "之间",
        "相比",
        "比较",
        "介绍",
        "文章",
        "本文",
        "model",
        "models",
        "method",
        "methods",
        "use",
        "used",
    ]
)
_COMMON_ACRONYMS = frozenset({"ai", "ml", "dl", "nlp", "cv", "gpu", "cpu", "api"})


@dataclass(frozen=True)
class CoveragePolicy:
    """Thresholds of the coverage decision (calibrated, see module docstring).

    Cross-lingual similarity is lower with e5 (an English question against Chinese articles
    scores 0.80-0.85 where a Chinese one scores 0.88-0.95), so the dense thresholds are kept
    per question language.
    """

    dense_high_zh: float = 0.88  # at or above: covered whatever the words say
    dense_low_zh: float = 0.80  # below: not covered unless the words match strongly
    dense_high_en: float = 0.80
    dense_low_en: float = 0.76
    overlap_min: float = 0.5  # share of content words found in the top passages
    overlap_strong: float = 0.67
    top_passages: int = 3

    def dense(self, lang: str) -> tuple[float, float]:
        """``(high, low)`` similarity thresholds for a question language."""
        if lang == "zh":
            return self.dense_high_zh, self.dense_low_zh
        return self.dense_high_en, self.dense_low_en


@dataclass
class Coverage:
    """The decision and the evidence behind it."""

    covered: bool
    reason: str
    top_dense: float = 0.0
    top_bm25: float = 0.0
    overlap: float = 0.0
    entities: list[str] = field(default_factory=list)
    missing_entities: list[str] = field(default_factory=list)


def normalize_name(name: str) -> str:
    """Lowercase, without hyphens, dots, spaces or a plural ``s``: ``Kimi-VL`` -> ``kimivl``."""
    name = re.sub(r"[-_.\s]", "", name.lower())
    return name[:-1] if len(name) > 3 and name.endswith("s") and not name.endswith("ss") else name


def question_entities(question: str) -> list[str]:
    """Names in a question: Latin terms in Chinese text; acronyms/CamelCase/digits in English."""
    chinese = bool(_CJK.search(question))
    out = []
    for term in _LATIN.findall(question):
        upper = sum(1 for c in term if c.isupper())
        letters = sum(1 for c in term if c.isalpha())
        named = upper >= 2 or (any(c.isdigit() for c in term) and letters >= 2)
        wanted = (chinese and letters >= 2) or named
        if wanted and term.lower() not in _COMMON_ACRONYMS and term not in out:
            out.append(term)
    return out


def decide_coverage(
    question: str,
    passages: Sequence[Passage],
    terms: Callable[[str], list[str]],
    policy: CoveragePolicy | None = None,
) -> Coverage:
    """Do the retrieved ``passages`` cover ``question``?

    Args:
        question: The (standalone) question.
        passages: Retrieved passages, best first, with ``dense_score`` filled in.
        terms: The BM25 tokenizer (content words of a text).
        policy: Thresholds (default: the calibrated ones).
    """
    policy = policy or CoveragePolicy()
    if not passages:
        return Coverage(False, "nothing was retrieved")
    top = list(passages[: policy.top_passages])
    top_dense = max((p.dense_score or 0.0) for p in passages)
    top_bm25 = max((p.bm25_score or 0.0) for p in passages)
    haystack = normalize_name("\n".join(f"{p.title}\n{p.text}" for p in passages))
    entities = question_entities(question)
    missing = [e for e in entities if normalize_name(e) not in haystack]
    q_terms = [t for t in dict.fromkeys(terms(question)) if t not in _GENERIC_TERMS]
    p_terms: set[str] = set()
    for p in top:
        p_terms.update(terms(f"{p.title}\n{p.text}"))
    overlap = sum(1 for t in q_terms if t in p_terms) / len(q_terms) if q_terms else 0.0
    evidence = dict(
        top_dense=top_dense,
        top_bm25=top_bm25,
        overlap=overlap,
        entities=entities,
        missing_entities=missing,
    )
    if entities and (entities[0] in missing or len(missing) == len(entities)):
        return Coverage(False, f"no passage mentions {', '.join(missing)}", **evidence)
    high, low = policy.dense("zh" if _CJK.search(question) else "en")
    if top_dense >= high:
        return Coverage(True, "a passage is very similar to the question", **evidence)
    if top_dense >= low and overlap >= policy.overlap_min:
        return Coverage(True, "similar passages share the question's words", **evidence)
    if overlap >= policy.overlap_strong and top_bm25 > 0:
        return Coverage(True, "the passages contain the question's words", **evidence)
    return Coverage(False, "no passage is close enough to the question", **evidence)
