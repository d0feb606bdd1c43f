"""Fit the coverage model (:mod:`rag.answer.coverage`) on questions with known answers.

The data, all made from what is in the repository (``data/eval/MORE.md`` says how):

* our questions over the 37 articles (``questions.jsonl``, ``questions_more.jsonl``: zh and en,
  answerable and unanswerable) on the articles index;
* the CMRC 2018 trial questions (zh) and 300 of them in English (``cmrc_trial_en.jsonl``) on
  an index of the CMRC paragraphs;
* a *leave-one-out near miss* for every answerable question: the same question with its gold
  document removed from the candidates: exactly the hard case of a topic the corpus nearly
  covers.

Only the ``dev`` split is fitted (CMRC: paragraphs of even index); ``test`` is reported. One
logistic model per question language, with the weights of the similarity features kept >= 0 so
that a more similar passage never lowers P(covered). The abstention threshold is the highest
probability that wrongly refuses at most ``max_refused`` of the answerable dev questions in
every language; the low-confidence band ends where ``band_negatives`` of the unanswerable dev
questions fall below it.

Example:
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0.0, 0.0, 1.0, 1.0])
    >>> m = fit_language_model(x, y, nonneg=[0])
    >>> m.probability(np.array([0.0])) < 0.5 < m.probability(np.array([3.0]))
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rag.answer.coverage import (
    FEATURES,
    MONOTONE,
    CoverageModel,
    LanguageModel,
    coverage_features,
)
from rag.answer.evidence import EvidenceSelector
from rag.answer.question_terms import QuestionTerms
from rag.text.glossary import Glossary
from rag.text.language import question_language


@dataclass
class Case:
    """One calibration example: a question, a variant of its candidates, and its features."""

    set: str  # articles | cmrc_zh | cmrc_en
    qid: str
    question: str
    lang: str
    split: str
    variant: str  # asis | loo (gold documents removed)
    label: int  # 1: the candidates answer it
    features: dict[str, float] = field(default_factory=dict)


def collect(
    name: str,
    questions: Iterable[dict[str, Any]],
    retrieve: Callable[[str], tuple[list[Any], np.ndarray | None]],
    selector: EvidenceSelector,
    terms: Callable[[str], list[str]],
    glossary: Glossary,
    k: int = 5,
    sounds: Callable[[str], dict[str, list[str]]] | None = None,
) -> list[Case]:
    """Features of every question as asked and, if answerable, with its gold documents removed.

    Args:
        name: The set's name (stored with each case).
        questions: Dicts with ``question``, ``gold_doc_ids``, ``split`` and optionally ``id``,
            ``lang``.
        retrieve: ``question -> (passages best first, at least ~40 deep; query vector)``.
        selector: The evidence selector (the chain's settings).
        terms: The BM25 tokenizer.
        glossary: For English questions.
        k: Passages the chain uses.
        sounds: The pinyin words of an English question (``Retriever.sounds``): the chain's
            evidence and coverage hear them, so the calibration features must too.
    """
    out: list[Case] = []
    for n, q in enumerate(questions):
        text = q["question"]
        lang = q.get("lang") or question_language(text)
        gold = set(q.get("gold_doc_ids") or [])
        ranked, vector = retrieve(text)
        variants = [("asis", ranked, 1 if gold else 0)]
        if gold:
            variants.append(("loo", [p for p in ranked if p.doc_id not in gold], 0))
        heard = sounds(text) if sounds is not None and lang != "zh" else None
        for variant, passages, label in variants:
            passages = passages[:k]
            g = glossary if lang != "zh" else None
            evidence = selector.select(text, passages, vector, glossary=g, sounds=heard or None)
            qterms = QuestionTerms(text, terms, g, heard or None)
            feats = coverage_features(text, passages, evidence, qterms) if passages else {}
            case = Case(
                name, str(q.get("id", n)), text, lang, q.get("split", "dev"), variant, label
            )
            case.features = feats or dict.fromkeys(FEATURES, 0.0)
            out.append(case)
    return out


def fit_language_model(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    l2: float = 1.0,
    nonneg: Sequence[int] = (),
    steps: int = 3000,
    rate: float = 1.0,
) -> LanguageModel:
    """Logistic regression on standardised features (gradient descent, L2, sign limits)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    w = np.zeros(z.shape[1])
    b = 0.0
    sw = np.ones(len(y)) if weights is None else np.asarray(weights, float)
    sw = sw / sw.sum()
    keep = list(nonneg)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        g = sw * (p - y)
        w -= rate * (z.T @ g + l2 * w / len(y))
        b -= rate * float(g.sum())
        if keep:
            w[keep] = np.maximum(w[keep], 0.0)
    return LanguageModel(mean, scale, w, b)


def _balanced(cases: Sequence[Case]) -> np.ndarray:
    """Equal total weight for each (set, label) group: no set or class dominates the fit."""
    groups: dict[tuple[str, int], int] = {}
    for c in cases:
        groups[(c.set.split("_")[0], c.label)] = groups.get((c.set.split("_")[0], c.label), 0) + 1
    return np.array([1.0 / groups[(c.set.split("_")[0], c.label)] for c in cases])


def fit(
    cases: Sequence[Case], max_refused: float = 0.02, band_negatives: float = 0.9
) -> CoverageModel:
    """One model per language on the ``dev`` cases, thresholds chosen on the same cases."""
    dev = [c for c in cases if c.split == "dev"]
    nonneg = [FEATURES.index(f) for f in MONOTONE]
    models = {}
    for lang in ("zh", "en"):
        part = [c for c in dev if c.lang == lang]
        x = np.array([[c.features[f] for f in FEATURES] for c in part])
        y = np.array([c.label for c in part], float)
        models[lang] = fit_language_model(x, y, _balanced(part), nonneg=nonneg)
    model = CoverageModel(FEATURES, models, 0.5, 0.5)
    low, high = 1.0, 0.0
    for lang in ("zh", "en"):
        pos = sorted(_probabilities(model, [c for c in dev if c.lang == lang and c.label]))
        neg = sorted(_probabilities(model, [c for c in dev if c.lang == lang and not c.label]))
        if pos:
            low = min(low, pos[int(max_refused * len(pos))])
        if neg:
            high = max(high, neg[min(len(neg) - 1, int(band_negatives * len(neg)))])
    model.abstain_below = round(float(low), 3)
    model.confident_above = round(float(max(high, low)), 3)
    return model


def _probabilities(model: CoverageModel, cases: Iterable[Case]) -> list[float]:
    return [model.probability(c.features, c.lang) for c in cases]


def report(model: CoverageModel, cases: Sequence[Case]) -> dict[str, Any]:
    """Per split, set and language: refusals of answerable questions, abstentions otherwise."""
    out: dict[str, Any] = {}
    keys = sorted({(c.split, c.set.split("_")[0], c.lang) for c in cases})
    for split, name, lang in keys:
        part = [c for c in cases if (c.split, c.set.split("_")[0], c.lang) == (split, name, lang)]
        p = dict(zip(map(id, part), _probabilities(model, part), strict=True))
        pos = [p[id(c)] for c in part if c.label]
        neg = [p[id(c)] for c in part if not c.label]
        real = [p[id(c)] for c in part if not c.label and c.variant == "asis"]

        def share(xs: list[float], test: Callable[[float], bool]) -> float | None:
            return round(sum(map(test, xs)) / len(xs), 4) if xs else None

        out[f"{split}/{name}/{lang}"] = {
            "answerable": len(pos),
            "unanswerable": len(neg),
            "answerable_refused": share(pos, lambda v: v < model.abstain_below),
            "answerable_low_confidence": share(
                pos, lambda v: model.abstain_below <= v < model.confident_above
            ),
            "unanswerable_abstained": share(neg, lambda v: v < model.abstain_below),
            "unanswerable_abstained_or_low": share(neg, lambda v: v < model.confident_above),
            "real_unanswerable_abstained": share(real, lambda v: v < model.abstain_below),
        }
    return out


def cases_to_jsonl(cases: Iterable[Case]) -> str:
    """The cases as JSON lines (kept beside the report, to refit without retrieving again)."""
    return "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in cases)
