"""Evaluation metrics: ranking quality on document ids, and answer quality on answer text.

Retrieval metrics follow trec_eval's definitions with binary relevance (``success_k`` = hit@k,
``recall_k``, ``recip_rank`` on a run cut at 10 = MRR@10, ``ndcg_cut_10``);
``tests/eval/test_eval_metrics.py`` checks them against ``pytrec_eval``. Answer metrics follow the
CMRC 2018 script for Chinese (F1 from the longest common substring of the character segments,
punctuation removed, max over gold answers) and SQuAD for English (token-level F1).

Example:
    >>> ranked = dedupe_docs(["ddim", "ddim", "rectified-flow", "dpo"])
    >>> ranked
    ['ddim', 'rectified-flow', 'dpo']
    >>> gold = {"rectified-flow"}
    >>> hit_at(ranked, gold, 1), hit_at(ranked, gold, 3), reciprocal_rank(ranked, gold)
    (0.0, 1.0, 0.5)
    >>> round(cmrc_f1("1990年代", ["1990年"]), 3)
    0.8
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rag.text.citations import CITATION
from rag.text.language import CJK

_ARTICLES = re.compile(r"\b(a|an|the)\b")


# ---------------------------------------------------------------------------- retrieval
def dedupe_docs(doc_ids: Iterable[str]) -> list[str]:
    """A ranked chunk list as a ranked document list: each document at its first occurrence."""
    seen: set[str] = set()
    out = []
    for doc_id in doc_ids:
        if doc_id not in seen:
            seen.add(doc_id)
            out.append(doc_id)
    return out


def gold_rank(ranked: Sequence[str], gold: set[str]) -> int | None:
    """1-based rank of the first gold document, or None when none was retrieved."""
    for i, doc_id in enumerate(ranked, start=1):
        if doc_id in gold:
            return i
    return None


def hit_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """1.0 when any gold document is in the top ``k`` (trec_eval ``success_k``)."""
    return 1.0 if any(d in gold for d in ranked[:k]) else 0.0


def recall_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Share of the gold documents found in the top ``k``.

    >>> recall_at(["a", "b", "c"], {"a", "z"}, 3)
    0.5
    """
    if not gold:
        return 0.0
    return len(gold.intersection(ranked[:k])) / len(gold)


def reciprocal_rank(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    """1 / rank of the first gold document within the top ``k`` (0 when none): MRR@k per query."""
    rank = gold_rank(ranked[:k], gold)
    return 1.0 / rank if rank else 0.0


def ndcg_at(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    """nDCG@k with binary relevance and the log2(rank + 1) discount (trec_eval ``ndcg_cut``).

    >>> round(ndcg_at(["x", "a"], {"a"}), 4)
    0.6309
    """
    if not gold:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, d in enumerate(ranked[:k], start=1) if d in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal


def retrieval_scores(
    ranked: Sequence[str], gold: set[str], cutoffs: Sequence[int], k: int
) -> dict[str, float]:
    """All per-query retrieval metrics: ``hit@c`` and ``recall@c`` per cutoff, ``mrr@k``, ``ndcg@k``.

    >>> retrieval_scores(["a", "b"], {"b"}, [1, 3], 10)
    {'hit@1': 0.0, 'hit@3': 1.0, 'recall@1': 0.0, 'recall@3': 1.0, 'mrr@10': 0.5, 'ndcg@10': 0.6309297535714575}
    """
    out: dict[str, float] = {}
    for c in cutoffs:
        out[f"hit@{c}"] = hit_at(ranked, gold, c)
    for c in cutoffs:
        out[f"recall@{c}"] = recall_at(ranked, gold, c)
    out[f"mrr@{k}"] = reciprocal_rank(ranked, gold, k)
    out[f"ndcg@{k}"] = ndcg_at(ranked, gold, k)
    return out


# ---------------------------------------------------------------------------- answers
def strip_citations(text: str) -> str:
    """The answer text without ``[n]`` / ``[1, 2]`` / ``【n】`` citation markers.

    >>> strip_citations("DDIM 不需要重新训练[1]。它复用 DDPM 的模型[1, 2]。")
    'DDIM 不需要重新训练。它复用 DDPM 的模型。'
    """
    return CITATION.sub("", text)


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith(("P", "S")) and ch not in "+%$#"


def has_cjk(text: str) -> bool:
    """True when ``text`` holds a Chinese character."""
    return bool(CJK.search(text))


def cmrc_segments(text: str) -> list[str]:
    """CMRC 2018 mixed segmentation: each Chinese character alone, other runs split into words.

    Lower-cased; punctuation and whitespace removed (all Unicode punctuation, a superset of the
    official script's list).

    >>> cmrc_segments("《DDIM》采样 1000 步, 快 10~50 倍")
    ['ddim', '采', '样', '1000', '步', '快', '10', '50', '倍']
    """
    out: list[str] = []
    word: list[str] = []

    def flush() -> None:
        if word:
            out.append("".join(word))
            word.clear()

    for ch in text.lower().strip():
        if _is_punct(ch) or ch.isspace():
            flush()
        elif CJK.match(ch):
            flush()
            out.append(ch)
        else:
            word.append(ch)
    flush()
    return out


def _longest_common_substring(a: Sequence[str], b: Sequence[str]) -> int:
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def cmrc_f1(prediction: str, golds: Sequence[str]) -> float:
    """CMRC 2018 F1: longest common substring of the segments, max over the gold answers.

    >>> cmrc_f1("热图", ["热图"]), cmrc_f1("", ["热图"])
    (1.0, 0.0)
    """
    pred = cmrc_segments(prediction)
    best = 0.0
    for gold in golds:
        ref = cmrc_segments(gold)
        common = _longest_common_substring(ref, pred) if ref and pred else 0
        if common:
            p, r = common / len(pred), common / len(ref)
            best = max(best, 2 * p * r / (p + r))
    return best


def squad_normalize(text: str) -> str:
    """SQuAD answer normalization: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation and not _is_punct(ch))
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token-level F1 (bag of words), max over the gold answers.

    >>> round(token_f1("the Transformer encoder", ["transformer"]), 3)
    0.667
    """
    pred = squad_normalize(prediction).split()
    best = 0.0
    for gold in golds:
        ref = squad_normalize(gold).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            p, r = common / len(pred), common / len(ref)
            best = max(best, 2 * p * r / (p + r))
    return best


def answer_f1(prediction: str, golds: Sequence[str]) -> float:
    """F1 per gold answer by its script (Chinese: :func:`cmrc_f1`, else :func:`token_f1`), max."""
    prediction = strip_citations(prediction)
    return max(
        (cmrc_f1(prediction, [g]) if has_cjk(g) else token_f1(prediction, [g]) for g in golds),
        default=0.0,
    )


def _compact(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if not (_is_punct(ch) or ch.isspace()))


def contains_answer(prediction: str, golds: Sequence[str]) -> bool:
    """True when a gold answer occurs in the prediction (case, spaces, punctuation and
    compatibility forms ignored: 𝑐𝑡𝑟×𝑏𝑖𝑑, typeset in the article, is ctr×bid).

    >>> contains_answer("DDIM 只需 20~100 步[1]。", ["20～100 步"])
    True
    >>> contains_answer("排序的依据就是 ctr×bid [1]。", ["𝑐𝑡𝑟×𝑏𝑖𝑑"])
    True
    """
    text = _compact(strip_citations(prediction))
    return any(g and _compact(g) and _compact(g) in text for g in golds)


def citation_counts(clauses: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """ALCE-style citation counts of one answer from its clause verdicts.

    A sentence counts for citation recall when every clause of it is supported by a passage
    it cites; a sentence's citation is needed (precision) when that passage supports one of
    its clauses. ``clauses`` are :attr:`rag.schema.Answer.claims` entries (``sentence``,
    ``status``, ``cited``, ``support``).

    >>> citation_counts([
    ...     {"sentence": 0, "status": "supported", "cited": [1, 2], "support": [1]},
    ...     {"sentence": 1, "status": "unsupported", "cited": [1], "support": []},
    ... ])
    {'sentences': 2, 'sentences_cit_supported': 1, 'citations': 3, 'citations_needed': 1}
    """
    sents: dict[int, list[Mapping[str, Any]]] = {}
    for c in clauses:
        sents.setdefault(int(c["sentence"]), []).append(c)
    cited = [{x for c in cs for x in c["cited"]} for cs in sents.values()]
    support = [{x for c in cs for x in c["support"]} for cs in sents.values()]
    return {
        "sentences": len(sents),
        "sentences_cit_supported": sum(
            all(c["status"] == "supported" and set(c["cited"]) & set(c["support"]) for c in cs)
            for cs in sents.values()
        ),
        "citations": sum(len(c) for c in cited),
        "citations_needed": sum(len(c & s) for c, s in zip(cited, support, strict=True)),
    }


# ---------------------------------------------------------------------------- aggregates
def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean, None for no values."""
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile with linear interpolation (numpy's default), None for no values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    if not values:
        return None
    vals = sorted(values)
    pos = (len(vals) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """``n``, ``p50``, ``p95``, ``mean`` and ``max`` of a list of durations (seconds)."""
    return {
        "n": len(seconds),
        "p50": percentile(seconds, 50),
        "p95": percentile(seconds, 95),
        "mean": mean(seconds),
        "max": max(seconds) if seconds else None,
    }
