"""Do the articles cover the question? A calibrated probability from the retrieval evidence.

The LLM is not asked when they don't: a small model asked about something the passages lack
invents an answer. Raw similarity thresholds don't separate the cases (e5 cosines cluster in
0.75-0.92 and shift with the language pair), so the decision is a small logistic model per
question language over evidence features:

* ``top_dense``, ``dense_gap``: the best passage's e5 cosine and its lead over the others;
* ``top_sentence_sim``: the best e5 cosine of one *sentence* to the question;
* ``term_share``, ``top1_term_share``, ``title_term_share``, ``sentence_term_share``: the share of
  the question's words found in the top passages / the first passage / a title / one sentence
  (for English questions through the Chinese renderings of :mod:`rag.text.glossary`);
* ``entity_share``: the share of the question's names (``LoRA``, ``YOLOv8``) found at all;
* ``bm25_per_term``: the best BM25 score per question term.

The weights live in ``coverage_model.json`` beside this module, fitted by
``python -m rag.calibrate`` on the dev splits of our questions and of CMRC 2018 (with
leave-one-out near misses: the same question with its gold document removed). Two thresholds
cut the probability into three bands: below ``abstain_below`` the chain abstains; up to
``confident_above`` it answers under a visible low-confidence notice; above, it answers.
``RAG_ABSTAIN_THRESHOLD`` moves the first. A name the question gives that no passage mentions
(:func:`distinctive_names`) decides the low-confidence band: not covered; a name an English
question writes in pinyin, whose Chinese the index has and no passage does
(:meth:`QuestionTerms.names_unheard`), decides at any probability.

Example:
    >>> from rag.schema import Passage
    >>> model = CoverageModel.load()
    >>> p = Passage("DDIM 只需采样 20~100 步", "ddim", "DDIM", "s", "c", 0.03, dense_score=0.86)
    >>> decide_coverage("LoRA 的秩一般取多少?", [p], lambda t: ["lora", "秩"], model=model).covered
    False
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.evidence import EvidenceSet
from rag.answer.question_terms import QuestionTerms
from rag.errors import RagError
from rag.schema import Passage
from rag.text.glossary import acronym_renderings
from rag.text.language import english_prose_spans, question_language

MODEL_FILE = Path(__file__).with_name("coverage_model.json")

FEATURES = (
    "top_dense",
    "dense_gap",
    "top_sentence_sim",
    "term_share",
    "top1_term_share",
    "title_term_share",
    "sentence_term_share",
    "entity_share",
    "bm25_per_term",
)
# More similar evidence must never make "covered" less likely: these weights are kept >= 0.
MONOTONE = ("top_dense", "dense_gap", "top_sentence_sim")

# a name may open with digits ("64DD", "3D"): read whole, not as "DD" (missing from "64DD")
# (an identifier keeps its underscores: "tf.feature_column" is one name, not "tf.feature")
_LATIN = re.compile(r"(?<![A-Za-z0-9_])[0-9]*[A-Za-z][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)*")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")  # a module path: tf.feature_column
_ORDINAL = re.compile(r"[0-9]+(?:st|nd|rd|th|s)", re.I)
# a code identifier (snake_case): written the same in every language, never translated
_IDENTIFIER = re.compile(r"[A-Za-z0-9]_[A-Za-z0-9]")
_CJK_TERM = re.compile(r"[\u3400-\u9fff]{2,}")
_COMMON_ACRONYMS = frozenset({"ai", "ml", "dl", "nlp", "cv", "gpu", "cpu", "api"})


class CoverageModelError(RagError, ValueError):
    """The coverage model file is missing, damaged, or was fitted on other features."""


def normalize_name(name: str) -> str:
    """Lowercase, without hyphens, dots, spaces or a plural ``s``: ``Kimi-VL`` -> ``kimivl``."""
    name = re.sub(r"[-_.\s]", "", name.lower())
    return name[:-1] if len(name) > 3 and name.endswith("s") and not name.endswith("ss") else name


def question_entities(question: str) -> list[str]:
    """Names in a question: Latin terms in Chinese text; acronyms/CamelCase/digits in English,
    and the Chinese terms an English question quotes ("the 'wind vane' (风向标) form").

    >>> question_entities("What is the 'wind vane' (风向标) product form of Taobao?")
    ['风向标']

    English prose inside a Chinese question (a follow-up carried over with the turns before it)
    is read as English: only its names count.

    >>> question_entities("What is DeepSeek-V3? 它用了什么策略? How many parameters does it activate?")
    ['DeepSeek-V3']
    """
    chinese = question_language(question) == "zh"
    out = [] if chinese else list(dict.fromkeys(_CJK_TERM.findall(question)))
    prose = english_prose_spans(question)
    for m in _LATIN.finditer(question):
        term = m.group(0)
        english = not chinese or any(a <= m.start() < b for a, b in prose)
        # "one-process-per-GPU" is English words, not a name (DeepSeek-V3, R1-Zero are)
        for part in _compound_parts(term) if english else [term]:
            _add_entity(part, not english, out)
    return out


def _add_entity(term: str, chinese: bool, out: list[str]) -> None:
    """Add ``term`` to ``out`` when it is a name: any Latin word of two letters in Chinese text,
    an acronym, CamelCase or a word with digits in English."""
    if _ORDINAL.fullmatch(term):  # "7th", "1960s": no names
        return
    upper = sum(1 for c in term if c.isupper())
    letters = sum(1 for c in term if c.isalpha())
    named = upper >= 2 or (any(c.isdigit() for c in term) and letters >= 2)
    named = named or bool(_IDENTIFIER.search(term))  # bucketized_column, tf_export
    wanted = (chinese and letters >= 2) or named
    if wanted and term.lower() not in _COMMON_ACRONYMS and term not in out:
        out.append(term)


def _compound_parts(term: str) -> list[str]:
    """A hyphenated term with a plain English word in it, cut into its parts; others whole.

    >>> _compound_parts("one-process-per-GPU"), _compound_parts("DeepSeek-R1-Zero")
    (['one', 'process', 'per', 'GPU'], ['DeepSeek-R1-Zero'])
    """
    parts = term.split("-")
    if any(len(p) >= 2 and p.isalpha() and p.islower() for p in parts):
        return parts
    return [term]


def coverage_features(
    question: str,
    passages: Sequence[Passage],
    evidence: EvidenceSet,
    qterms: QuestionTerms,
    missing: Sequence[str] | None = None,
) -> dict[str, float]:
    """The evidence features of :data:`FEATURES` for one question and its passages
    (``missing``: :func:`missing_entities`, when the caller has it already)."""
    dense = sorted((p.dense_score or 0.0 for p in passages), reverse=True)
    top_dense = dense[0] if dense else 0.0
    gap = top_dense - float(np.mean(dense[1:])) if len(dense) > 1 else 0.0
    top3 = passages[:3]
    names = question_entities(question)
    if missing is None:
        missing = missing_entities(names, passages, qterms)
    found_names = len(names) - len(missing)
    bm25 = max((p.bm25_score or 0.0 for p in passages), default=0.0)
    return {
        "top_dense": top_dense,
        "dense_gap": gap,
        # no sentence scored by e5 (no embedder at hand): the passage's own similarity
        "top_sentence_sim": evidence.best_similarity
        if any(c.similarity is not None for c in evidence.candidates)
        else top_dense,
        "term_share": qterms.share("\n".join(f"{p.title}\n{p.text}" for p in top3)),
        "top1_term_share": qterms.share(f"{passages[0].title}\n{passages[0].text}")
        if passages
        else 0.0,
        "title_term_share": max((qterms.share(p.title) for p in top3), default=0.0),
        "sentence_term_share": evidence.best_lexical,
        "entity_share": found_names / len(names) if names else 1.0,
        "bm25_per_term": bm25 / max(1, len(qterms.terms)),
    }


def missing_entities(
    names: Sequence[str], passages: Sequence[Passage], qterms: QuestionTerms
) -> list[str]:
    """The question's names that no passage mentions: not as written (``Kimi-VL`` is
    ``KimiVL``), nor, for an English word a Chinese question writes in lowercase, in Chinese
    ("rerank" as 重排: the question was refused with "no passage mentions rerank"). A module path
    is mentioned by its last part ("tf.feature_column" in an article that writes FeatureColumn).

    >>> from rag.text.tokenize_zh import BM25Tokenizer
    >>> p = Passage("Tensorflow 提供的 FeatureColumn API", "d", "t", "d.md", "d#0", 1.0)
    >>> q = QuestionTerms("tf.feature_column 有哪些类型?", BM25Tokenizer())
    >>> question_entities(q.question)
    ['tf.feature_column']
    >>> missing_entities(["tf.feature_column", "tf.data"], [p], q)
    ['tf.data']
    """
    text = "\n".join(f"{p.title}\n{p.text}" for p in passages)
    haystack = normalize_name(text)

    words: set[str] | None = None

    def mentioned(name: str) -> bool:
        nonlocal words
        norm = normalize_name(name)
        if norm in haystack and _whole_acronym(name, text):
            return True
        # an acronym the passage writes out in Chinese: "MTP" as 多 token 预测
        if any(normalize_name(z) in haystack for z in acronym_renderings(name)):
            return True
        if len(norm) >= _TYPO_MIN:  # "flashatention": FlashAttention, misspelt
            if words is None:
                words = {normalize_name(w) for w in _LATIN.findall(text)}
            if any(_one_typo(norm, w) for w in words):
                return True
        last = name.rsplit(".", 1)[-1]
        return bool(_DOTTED.fullmatch(name)) and len(last) >= 3 and mentioned(last)

    return [n for n in names if not mentioned(n) and not qterms.rendered_in(n.lower(), text)]


_TYPO_MIN = 8  # shorter names differ by a letter and are other models (ResNet, ResNeXt)


def _one_typo(a: str, b: str) -> bool:
    """``a`` is ``b`` with one letter dropped, added, changed or two swapped (two for names of
    12 letters or more), its digits and first letter as in ``b``: a misspelt name, not another
    version of it.

    >>> _one_typo("flashatention", "flashattention"), _one_typo("deepseekv2", "deepseekv3")
    (True, False)
    >>> _one_typo("rectifeidflow", "rectifiedflow"), _one_typo("transformer", "transformers")
    (True, True)
    >>> _one_typo("reparameterization", "parameterization")
    False
    """
    if a == b or a[:1] != b[:1] or re.sub(r"\D", "", a) != re.sub(r"\D", "", b):
        return a == b
    limit = 2 if len(a) >= 12 else 1
    if abs(len(a) - len(b)) > limit:
        return False
    # Damerau-Levenshtein (optimal string alignment), rows of len(b) + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return False
        prev2, prev = prev, row
    return prev[-1] <= limit


def distinctive_names(missing: Sequence[str]) -> list[str]:
    """The missing names that decide a question the model is not confident about: one of three
    or more letters and digits (``GPT-4``, ``BERT``, ``PASCAL``). Asked "What is GPT-4's context
    length?", the articles, which never mention GPT-4, were answered from under a low-confidence
    notice. Two-letter ones (``US``, ``EU``) are often written in Chinese (美国) and only count
    towards the probability.

    >>> distinctive_names(["GPT-4", "US"]), distinctive_names(["VL"])
    (['GPT-4'], [])
    """
    return [n for n in missing if len(normalize_name(n)) >= 3]


def _whole_acronym(name: str, text: str) -> bool:
    """A short acronym (2 to 4 letters), or a name in capitals of up to 6, is mentioned only as a
    word of its own, or in plural: "DDP" is not in a text that only says "DDPM" (a DDP question
    over the DDIM article was answered from it), nor "FLASH" (the FLASH paper) in one that only
    says "FlashAttention"; "SSM" is in "SSMs", "CTR" in "CTR/CVR". Other names: True.

    >>> _whole_acronym("DDP", "DDPM 的采样"), _whole_acronym("SSM", "SSMs 与 CTR/CVR")
    (False, True)
    >>> _whole_acronym("GANs", "VAE 和 GAN"), _whole_acronym("CTR", "CTR/CVR")
    (True, True)
    >>> _whole_acronym("FLASH", "FlashAttention 的分块"), _whole_acronym("FLASH", "FLASH: GAU")
    (False, True)
    """
    short = 2 <= len(name) <= 4 or (len(name) <= 6 and name.isupper())
    if not (short and name.isascii() and name.isalpha()):
        return True
    if name.endswith("s") and name[:-1].isupper():  # "SSMs", "GANs": the acronym in plural
        name = name[:-1]
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}s?(?![A-Za-z0-9])", text, re.I) is not None


@dataclass
class LanguageModel:
    """Logistic regression on standardised features, for one question language."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def probability(self, x: np.ndarray) -> float:
        z = float(((x - self.mean) / self.scale) @ self.weights + self.bias)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@dataclass
class CoverageModel:
    """The fitted coverage decision (see module docstring).

    Args:
        features: Feature names, in the order of the weights.
        models: One :class:`LanguageModel` per question language (``zh``, ``en``).
        abstain_below: Below this probability the chain abstains.
        confident_above: Below this (and above ``abstain_below``) it answers with a notice.
        meta: How it was fitted: data, counts, scores (kept in the JSON file).
    """

    features: tuple[str, ...]
    models: dict[str, LanguageModel]
    abstain_below: float
    confident_above: float
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> CoverageModel:
        """Read the model file; fail loudly when it does not fit the code's features."""
        path = path or MODEL_FILE
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            features = tuple(data["features"])
            models = {
                lang: LanguageModel(
                    np.array(m["mean"], float),
                    np.array(m["scale"], float),
                    np.array(m["weights"], float),
                    float(m["bias"]),
                )
                for lang, m in data["models"].items()
            }
            model = cls(
                features,
                models,
                float(data["abstain_below"]),
                float(data["confident_above"]),
                data.get("meta", {}),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CoverageModelError(
                f"cannot read the coverage model {path}: {exc}; refit it with "
                "`python -m rag.calibrate`"
            ) from exc
        if features != FEATURES:
            raise CoverageModelError(
                f"the coverage model {path} was fitted on features {list(features)} but the code "
                f"computes {list(FEATURES)}; refit it with `python -m rag.calibrate`"
            )
        for lang, m in models.items():
            if not (len(m.weights) == len(m.mean) == len(m.scale) == len(FEATURES)):
                raise CoverageModelError(f"the coverage model {path} is damaged ({lang} weights)")
        return model

    def to_json(self) -> dict[str, Any]:
        """The JSON form written by ``python -m rag.calibrate``."""
        return {
            "features": list(self.features),
            "models": {
                lang: {
                    "mean": m.mean.round(6).tolist(),
                    "scale": m.scale.round(6).tolist(),
                    "weights": m.weights.round(6).tolist(),
                    "bias": round(m.bias, 6),
                }
                for lang, m in self.models.items()
            },
            "abstain_below": self.abstain_below,
            "confident_above": self.confident_above,
            "meta": self.meta,
        }

    def probability(self, features: dict[str, float], lang: str) -> float:
        """P(covered) for a question in ``lang`` (``zh``; anything else uses ``en``)."""
        model = self.models.get(lang) or self.models["en" if lang != "zh" else "zh"]
        return model.probability(np.array([features[f] for f in self.features], float))


# In the low-confidence band, the probability above which the chain still trusts "covered" when
# the model's own answer fails the check (it shows the extractive answer instead of abstaining).
LIKELY = 0.5


@dataclass
class Coverage:
    """The decision, its probability and the evidence behind it."""

    covered: bool
    reason: str
    probability: float = 0.0
    confident: bool = False  # covered and above the low-confidence band
    features: dict[str, float] = field(default_factory=dict)
    missing_entities: list[str] = field(default_factory=list)

    @property
    def likely(self) -> bool:
        """Covered more likely than not (``probability`` ≥ :data:`LIKELY`), confident or not."""
        return self.covered and self.probability >= LIKELY

    @property
    def top_dense(self) -> float:
        return self.features.get("top_dense", 0.0)

    @property
    def overlap(self) -> float:
        return self.features.get("term_share", 0.0)

    def note(self) -> str:
        """One line for ``Answer.notice``: what was decided and why.

        Example:
            >>> c = Coverage(False, "no passage mentions GPT-4", 0.15,
            ...              features={"top_dense": 0.81, "term_share": 1.0},
            ...              missing_entities=["GPT-4"])
            >>> c.note()  # doctest: +NORMALIZE_WHITESPACE
            "not covered: no passage mentions GPT-4 (p=0.15; best similarity 0.810, 100% of
            the question's words found, not GPT-4 as written)"
        """
        head = "not covered" if not self.covered else "low confidence"
        words = f"{self.overlap:.0%} of the question's words found"
        if self.missing_entities and self.overlap > 0:
            # "GPT-4" is missing although "gpt" is found: say which the share leaves out
            words += f", not {', '.join(self.missing_entities)} as written"
        return (
            f"{head}: {self.reason} (p={self.probability:.2f}; best similarity "
            f"{self.features.get('top_sentence_sim', self.top_dense):.3f}, {words})"
        )


def decide_coverage(
    question: str,
    passages: Sequence[Passage],
    terms: Callable[[str], list[str]],
    *,
    model: CoverageModel,
    evidence: EvidenceSet | None = None,
    qterms: QuestionTerms | None = None,
    abstain_below: float | None = None,
) -> Coverage:
    """Do the retrieved ``passages`` cover ``question``?

    Args:
        question: The (standalone) question.
        passages: Retrieved passages, best first, with ``dense_score`` filled in.
        terms: The BM25 tokenizer.
        model: The fitted model (:meth:`CoverageModel.load`).
        evidence: The selected sentences (:class:`rag.answer.evidence.EvidenceSelector`);
            without it the sentence features fall back to words alone.
        qterms: The question's terms (built from ``terms`` when not given).
        abstain_below: Override of the model's abstention threshold (``RAG_ABSTAIN_THRESHOLD``).
    """
    if not passages:
        return Coverage(False, "nothing was retrieved")
    qterms = qterms or (evidence.terms if evidence and evidence.terms else None)
    qterms = qterms or QuestionTerms(question, terms)
    if evidence is None:
        evidence = EvidenceSet([], [], qterms)
    missing = missing_entities(question_entities(question), passages, qterms)
    feats = coverage_features(question, passages, evidence, qterms, missing)
    lang = question_language(question)
    p = model.probability(feats, lang)
    low = model.abstain_below if abstain_below is None else abstain_below
    # a name the passages never mention decides the low-confidence band (a threshold of 0
    # still turns abstention off); a name written in pinyin whose Chinese the index has and no
    # passage does ("Tsai Min": 蔡敏) decides above it too: the index knows whom the question
    # is about, and the passages are about someone else (its features are unchanged)
    unheard = qterms.names_unheard("\n".join(f"{x.title}\n{x.text}" for x in passages))
    # so does a code identifier no passage writes ("What does bucketized_column do?" was
    # answered, p 0.71, from the FeatureColumn article, which never names it)
    code = [n for n in missing if _IDENTIFIER.search(n)]
    unmet = low > 0 and bool(distinctive_names(missing) or unheard or code)
    if p < low or (unmet and (unheard or code or p < model.confident_above)):
        named = [*missing, *unheard] if unmet else missing
        reason = (
            f"no passage mentions {', '.join(named)}"
            if named
            else "no passage is close enough to the question"
        )
        return Coverage(False, reason, p, False, feats, missing)
    if p < max(low, model.confident_above):
        return Coverage(True, "the passages may not answer this", p, False, feats, missing)
    return Coverage(True, "the passages match the question", p, True, feats, missing)
