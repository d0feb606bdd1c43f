"""Evidence selection: the few sentences of the retrieved passages that answer the question.

A 1.5B model answers best from little, well-chosen text. Each retrieved passage is cut into
sentences with the chunker's rules (long ones at commas; offsets kept, so every sentence maps
back to its article); each sentence is scored by the question's terms it contains (jieba terms;
for an English question, the Chinese renderings of its words, see :mod:`rag.text.glossary`) and,
for the most promising ones, by e5 similarity to the question. The best sentences are kept in
reading order, grouped under their passage, so ``[n]`` still names a passage.

On the dev questions over the 37 articles, the 4 sentences chosen contain the gold answer for
33 of 38 Chinese and 61 of 74 English questions (the 5 passages hold it for 105 of 112).

Example:
    >>> from rag.schema import Passage
    >>> p = Passage("DDPM 采样很慢。DDIM 只需 20~100 步就能达到相近效果。", "ddim", "DDIM", "s", "c", 1.0)
    >>> terms = lambda t: [w for w in ("ddim", "步", "采样") if w in t.lower()]
    >>> chosen = EvidenceSelector(terms, max_sentences=1).select("DDIM 需要多少步?", [p]).chosen
    >>> [(e.passage, e.text) for e in chosen]
    [(0, 'DDIM 只需 20~100 步就能达到相近效果。')]
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.answer.evaluative import judgement_spoken
from rag.answer.question_terms import QuestionTerms
from rag.answer.term_weights import rarity_weights
from rag.schema import Passage
from rag.text.glossary import Glossary
from rag.text.language import CJK
from rag.text.placeholders import PLACEHOLDER
from rag.text.sentences import evidence_spans


@dataclass
class Evidence:
    """One sentence of a passage and how well it matches the question.

    ``passage`` indexes the passages given to :meth:`EvidenceSelector.select` (0-based);
    ``start``/``end`` are offsets into its text (``passage.start + start`` into the article).
    """

    passage: int
    start: int
    end: int
    text: str
    lexical: float = 0.0  # share of the question's terms in the sentence
    weighted: float = 0.0  # the share with the title's terms (Chinese: weighted by rarity)
    similarity: float | None = None  # e5 cosine to the question (None: not scored)
    score: float = 0.0


@dataclass
class EvidenceSet:
    """The chosen sentences (reading order) and every scored candidate."""

    chosen: list[Evidence]
    candidates: list[Evidence] = field(default_factory=list)
    terms: QuestionTerms | None = None

    @property
    def best_similarity(self) -> float:
        """The highest e5 similarity of a sentence to the question (0 when none was scored)."""
        return max((c.similarity for c in self.candidates if c.similarity is not None), default=0.0)

    @property
    def best_lexical(self) -> float:
        """The highest share of the question's terms found in one sentence."""
        return max((c.lexical for c in self.candidates), default=0.0)

    def passages_used(self) -> list[int]:
        """Indices of the passages that contribute a chosen sentence, in passage order."""
        return sorted({e.passage for e in self.chosen})

    def ranked(self) -> list[Evidence]:
        """All candidates, best first."""
        return sorted(self.candidates, key=lambda c: -c.score)


class EvidenceSelector:
    """Pick the sentences of the retrieved passages that best answer a question.

    Args:
        terms: The BM25 tokenizer.
        embed_queries: ``texts -> vectors`` for questions (e5 ``query:``); None: words only.
        embed_passages: ``texts -> vectors`` for sentences (e5 ``passage:``).
        glossary: Chinese renderings of English words (for English questions).
        max_sentences: Sentences kept (4: the gold answer is in them for 94 of 112 dev
            questions, 3: 89, 5: 98; each sentence costs ~40 prompt tokens).
        rescore: How many of the best sentences by words are scored by e5 (the rest keep their
            word score only; 12 chose the same sentences as scoring all of them on dev).
        lexical_weight: Weight of the word share next to the cosine similarity.
        cache_size: Sentence vectors kept in memory (a long-running server reuses them).
        flag: ``text -> spans`` of sentences that must never be evidence (instructions to the
            model hidden in a document, :func:`rag.answer.injection.instruction_sentences`).
        max_gap: A sentence scoring more than this below the best one is not kept (the budget
            is a ceiling, not a quota: weak sentences only cost prompt time).
    """

    def __init__(
        self,
        terms: Callable[[str], list[str]],
        embed_queries: Callable[[Sequence[str]], np.ndarray] | None = None,
        embed_passages: Callable[[Sequence[str]], np.ndarray] | None = None,
        glossary: Glossary | None = None,
        max_sentences: int = 4,
        rescore: int = 12,
        lexical_weight: float = 0.15,
        cache_size: int = 4096,
        flag: Callable[[str], list[tuple[int, int]]] | None = None,
        max_gap: float = 0.12,
    ) -> None:
        self.terms = terms
        self.flag = flag
        self.embed_queries = embed_queries
        self.embed_passages = embed_passages
        self.glossary = glossary
        self.max_sentences = max_sentences
        self.rescore = rescore
        self.lexical_weight = lexical_weight
        self.max_gap = max_gap
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def remember(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Add known sentence vectors (the index stores one per sentence) to the cache."""
        with self._lock:
            for text, vec in vectors.items():
                self._vectors[text] = vec
                self._vectors.move_to_end(text)
            while len(self._vectors) > self._cache_size:
                self._vectors.popitem(last=False)

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """e5 passage vectors of sentences, cached by text (safe across threads).

        A sentence the cache lacks is embedded alone: the int8 model quantises a batch's
        activations together, so a sentence embedded beside others gets a vector up to 0.01 off
        in a dimension, and the cache would keep whichever batch came first: what an answer
        said could depend on the questions asked before it (a quote of one sentence or of two).
        """
        assert self.embed_passages is not None
        unique = list(dict.fromkeys(texts))
        with self._lock:  # a server's requests share the cache: read it in one step
            found = {t: self._vectors[t] for t in unique if t in self._vectors}
            for t in found:
                self._vectors.move_to_end(t)
        missing = [t for t in unique if t not in found]
        if missing:  # embedded outside the lock, so other questions are not held up
            fresh = {t: self.embed_passages([t])[0] for t in missing}
            found.update(fresh)
            self.remember(fresh)
        return np.stack([found[t] for t in texts])

    def _candidates(self, qterms: QuestionTerms, passages: Sequence[Passage]) -> list[Evidence]:
        """Every sentence of ``passages`` (but flagged ones) with the question's terms it holds."""
        candidates: list[Evidence] = []
        found: list[set[str]] = []
        for i, p in enumerate(passages):
            flagged = self.flag(p.text) if self.flag is not None else []
            for s, e in evidence_spans(p.text):
                if not any(fs < e and s < fe for fs, fe in flagged):
                    terms = set(qterms.found(p.text[s:e]))
                    candidates.append(Evidence(i, s, e, p.text[s:e], qterms.share_of(terms)))
                    found.append(terms)
        # The article's title names what its sentences speak of: "…功能发汗退热…" under the title
        # 短叶水蜈蚣 holds the plant's name for the score (not for `lexical`, which coverage reads).
        titled = {i: set(qterms.found(p.title or "")) for i, p in enumerate(passages)}
        found = [f | titled[c.passage] for c, f in zip(candidates, found, strict=True)]
        if qterms.english:  # terms found through renderings: their rarity measured no gain
            for c, terms in zip(candidates, found, strict=True):
                c.weighted = qterms.share_of(terms)
            return candidates
        weigh = rarity_weights(qterms.terms, found)
        for c, terms in zip(candidates, found, strict=True):
            c.weighted = weigh(terms)
        return candidates

    def select(
        self,
        question: str,
        passages: Sequence[Passage],
        query_vector: np.ndarray | None = None,
        max_sentences: int | None = None,
        budget_tokens: int | None = None,
        count_tokens: Callable[[str], int] | None = None,
        glossary: Glossary | None = None,
        usable: Sequence[bool] | None = None,
        sounds: dict[str, list[str]] | None = None,
        offsets: Sequence[float] | None = None,
    ) -> EvidenceSet:
        """Score every sentence of ``passages`` and keep the best.

        Args:
            question: The (standalone) question.
            passages: Retrieved passages, best first.
            query_vector: The question's e5 vector if already computed (retrieval has it).
            max_sentences: Override of the number kept.
            budget_tokens: Keep sentences (best first) only while their tokens fit this budget
                (the best one is always kept); needs ``count_tokens``.
            count_tokens: Counts the tokens of a sentence (the prompt's counter).
            glossary: The glossary for this question (default: the selector's).
            usable: Per passage, whether its sentences may be chosen (default: all). Every
                sentence is still scored (:attr:`EvidenceSet.candidates`), so what the coverage
                decision reads does not change.
            sounds: Pinyin words of an English question -> Chinese terms (see
                :class:`QuestionTerms`).
            offsets: Per passage, what retrieval's same-language bias correction added to its
                cosine (:mod:`rag.retrieval.language_bias`); added to its sentences' too.
        """
        qterms = QuestionTerms(question, self.terms, glossary or self.glossary, sounds)
        candidates = self._candidates(qterms, passages)
        if not candidates:
            return EvidenceSet([], [], qterms)
        # a question asking for a judgement (缺点, "drawback") is answered where it is spoken of
        judged = judgement_spoken(question)
        spoken = [judged is not None and bool(judged.search(c.text.lower())) for c in candidates]
        if self.embed_passages is not None and (
            query_vector is not None or self.embed_queries is not None
        ):
            by_words = sorted(
                range(len(candidates)),
                key=lambda i: -(candidates[i].lexical + spoken[i] - 0.02 * candidates[i].passage),
            )
            scored = by_words[: self.rescore] if self.rescore else by_words
            if query_vector is None:
                assert self.embed_queries is not None
                query_vector = self.embed_queries([question])[0]
            sims = self.sentence_vectors([candidates[i].text for i in scored]) @ query_vector
            for i, sim in zip(scored, sims, strict=True):
                shift = offsets[candidates[i].passage] if offsets else 0.0
                candidates[i].similarity = float(sim) + shift
        for c, judging in zip(candidates, spoken, strict=True):
            base = c.similarity if c.similarity is not None else 0.0
            c.score = base + self.lexical_weight * (c.weighted + judging) - 0.005 * c.passage
        keep = max_sentences or self.max_sentences
        chosen: list[Evidence] = []
        spent = 0
        ranked = sorted(candidates, key=lambda c: -c.score)
        if usable is not None:
            ranked = [c for c in ranked if usable[c.passage]] or ranked
        floor = ranked[0].score - self.max_gap
        seen: set[str] = set()
        for c in ranked:
            if len(chosen) >= keep or (chosen and c.score < floor):
                break
            if c.text in seen:  # overlapping chunks hold the same sentence twice
                continue
            seen.add(c.text)
            if budget_tokens is not None and count_tokens is not None:
                cost = count_tokens(c.text)
                if chosen and spent + cost > budget_tokens:
                    continue
                spent += cost
            chosen.append(c)
        chosen = with_whole_lists(chosen, candidates)
        chosen.sort(key=lambda c: (c.passage, c.start))
        return EvidenceSet([without_list_marks(c) for c in chosen], candidates, qterms)


# an enumeration comma where a long sentence was cut: the list goes on in the next piece
_LIST_GOES_ON = "、"


def with_whole_lists(chosen: list[Evidence], candidates: Sequence[Evidence]) -> list[Evidence]:
    """``chosen`` with the pieces of any list a chosen piece cuts: a sentence over the length
    limit is cut at commas (:func:`rag.text.sentences.evidence_spans`), sometimes after an
    enumeration comma, mid-list. "五月艾分布在哪些地区?" was given "分布于越南、老挝、…湖北、贵州、"
    and the model copied it, cut, as its answer; the piece after it ("广西、河南、山东、广东等地，…")
    and the one before a piece that opens mid-list belong to it.

    Example:
        >>> a = Evidence(0, 0, 6, "分布于越南、")
        >>> b = Evidence(0, 6, 12, "老挝、缅甸等地，")
        >>> [e.text for e in with_whole_lists([a], [a, b])]
        ['分布于越南、', '老挝、缅甸等地，']
        >>> [e.text for e in with_whole_lists([b], [a, b])]
        ['老挝、缅甸等地，', '分布于越南、']
        >>> [e.text for e in with_whole_lists([b], [b])]
        ['老挝、缅甸等地，']
    """
    if not any(c.text.endswith(_LIST_GOES_ON) for c in candidates):
        return chosen
    out = list(chosen)
    have = {(c.passage, c.start) for c in out}
    i = 0
    while i < len(out) and len(out) < len(chosen) + 4:  # a list is at most a few pieces long
        c = out[i]
        i += 1
        after, before = next_piece(c, candidates), previous_piece(c, candidates)
        # (cut: the piece that ends mid-list; piece: the one it belongs with, the few spaces the
        # splitter trims away between them)
        for cut, piece in ((c, after), (before, before)):
            if piece is None or cut is None or not cut.text.endswith(_LIST_GOES_ON):
                continue
            if _gap(c, piece) <= _TRIMMED and (piece.passage, piece.start) not in have:
                out.append(piece)
                have.add((piece.passage, piece.start))
    return out


_TRIMMED = 3  # spaces the splitter trims between two pieces of one sentence


def _gap(a: Evidence, b: Evidence) -> int:
    """Characters between two pieces of one passage."""
    return b.start - a.end if b.start >= a.end else a.start - b.end


def next_piece(e: Evidence, candidates: Sequence[Evidence]) -> Evidence | None:
    """The candidate that follows ``e`` in its passage (None at the passage's end)."""
    after = [c for c in candidates if c.passage == e.passage and c.start >= e.end]
    return min(after, key=lambda c: c.start) if after else None


def previous_piece(e: Evidence, candidates: Sequence[Evidence]) -> Evidence | None:
    """The candidate before ``e`` in its passage (None at the passage's start)."""
    before = [c for c in candidates if c.passage == e.passage and c.end <= e.start]
    return max(before, key=lambda c: c.end) if before else None


# A list flattened into one line ("分两步走: 1. 先训练奖励模型 1. 然后用强化学习…") leaves its
# markers at the ends of the sentences; shown, the model copies them ("what is good" (1) [1]).
_MARK_AT_END = re.compile(r"(?<=[\u3400-\u9fff，。、：:；;！？!?\"”’）)」』])\s+\d{1,2}\.$")
_MARK_AT_START = re.compile(r"^\d{1,2}\.\s+")


def without_list_marks(e: Evidence) -> Evidence:
    """``e`` without a list marker left at its start or end by a flattened list (the offsets
    narrowed with the text, so they still map back to the passage).

    Example:
        >>> without_list_marks(Evidence(0, 10, 26, "先训练一个奖励模型来判断哪个回答更好 1.")).text
        '先训练一个奖励模型来判断哪个回答更好'
        >>> e = without_list_marks(Evidence(0, 10, 20, "1. 然后用强化学习优化"))
        >>> e.text, e.start
        ('然后用强化学习优化', 13)
        >>> without_list_marks(Evidence(0, 0, 15, "The value is 1.")).text
        'The value is 1.'
    """
    text, start, end = e.text, e.start, e.end
    tail = _MARK_AT_END.search(text)
    if tail:
        text, end = text[: tail.start()], end - (len(text) - tail.start())
    head = _MARK_AT_START.match(text)
    if head and head.end() < len(text):
        text, start = text[head.end() :], start + head.end()
    if text == e.text:
        return e
    return dataclasses.replace(e, start=start, end=end, text=text)


# Generic section names the flattened articles left at the start of a sentence ("引言与背景
# FlashAttention的关键创新在于…"): the extractive answer drops them (the model's evidence keeps
# them: without, 11 of 19 dev answers were reworded, one gold fact lost). Only names that can't
# begin a sentence of their own; topic headings (均值估计问题) are left alone.
_HEADING_AT_START = re.compile(  # (match() anchors it where a heading may start)
    r"(?:简介|引言|前言|背景|引言与背景|背景介绍|概述|模型概述|模型架构|基本概念|基础概念|"
    r"环境准备|总结|小结|结论)\s+(?=\S)"
)


# A placeholder at the start of a sentence stands for the formula the previous one introduced
# ("…计算出RF。 [公式] 其中,RF是感受野。"): it belongs to that sentence, not to this one.
_PLACEHOLDERS_AT_START = re.compile(r"(?:" + PLACEHOLDER.pattern + r"\s*)+(?=\S)")


def without_heading(e: Evidence) -> Evidence:
    """``e`` without a generic section name (简介, 引言与背景, 基本概念 …) left at its start by a
    flattened heading, or a placeholder left there by the previous sentence's formula (the
    offsets narrowed with the text).

    Example:
        >>> e = without_heading(Evidence(0, 0, 18, "引言与背景 FlashAttention的关键创新"))
        >>> e.text, e.start
        ('FlashAttention的关键创新', 6)
        >>> without_heading(Evidence(0, 40, 54, "[公式] 其中,RF是感受野。")).text
        '其中,RF是感受野。'
        >>> without_heading(Evidence(0, 0, 20, "[Math] 概述 KimiVL 是一个模型")).text
        'KimiVL 是一个模型'
        >>> without_heading(Evidence(0, 0, 12, "为了加速 DDPM 的采样过程")).text
        '为了加速 DDPM 的采样过程'
    """
    start = 0
    for pattern in (_PLACEHOLDERS_AT_START, _HEADING_AT_START):
        head = pattern.match(e.text, start)
        if head and head.end() < len(e.text):
            start = head.end()
    if not start:
        return e
    return dataclasses.replace(e, start=e.start + start, text=e.text[start:])


# "…中间的logits和注意力分数 在深度学习中,": a sentence cut at a comma after the next one began
# (the flattened article lost the full stop between them)
_NEXT_BEGUN = re.compile(r"(?<=\S)\s+(?=[^\s]{1,10}[,，]$)(?=[^\s]*[\u3400-\u9fff])")


def without_next_begun(e: Evidence) -> Evidence:
    """``e`` without the opening words of the next sentence left at its end, where a sentence
    cut at a comma ran on into the next one after a lost full stop.

    Example:
        >>> without_next_begun(Evidence(0, 0, 20, "无需存储注意力分数 在深度学习中,")).text
        '无需存储注意力分数'
        >>> without_next_begun(Evidence(0, 0, 12, "使用 DDIM 采样,")).text
        '使用 DDIM 采样,'
    """
    m = _NEXT_BEGUN.search(e.text)
    if not m or not CJK.search(e.text[: m.start()][-1:]):
        return e
    return dataclasses.replace(e, end=e.start + m.start(), text=e.text[: m.start()])


def usable_passages(
    passages: Sequence[Passage], fusion: str | None, gap: float
) -> list[bool] | None:
    """Which passages may give evidence: those within ``gap`` of the best fused score.

    Under z-score fusion a passage's score is in standard deviations of the candidate pool, so
    a gap means the same on every question. A passage far behind the best one is usually
    another article that shares a word or two with the question; a small model given its
    sentences tends to summarise them too ("[2] SPP replaces the last pooling layer…" in an
    answer about FM and FFM). On the 112 dev questions, a gap of 1.5 left the evidence holding
    the gold answer as often (102) with 72 instead of 144 sentences from other articles; the
    embedded model's answers held it as often too (89 both ways), from ~3 % shorter prompts.
    Other fusions and modes (RRF, dense, BM25 alone) have no such scale: every passage is usable.

    Example:
        >>> from rag.schema import Passage
        >>> ps = [Passage("a", "a", "a", "a", "a#0", s) for s in (4.6, 3.4, 0.9)]
        >>> usable_passages(ps, "zscore", 1.5), usable_passages(ps, "rrf", 1.5)
        ([True, True, False], None)
    """
    if gap <= 0 or fusion != "zscore" or not passages:
        return None
    top = max(p.score for p in passages)
    return [p.score >= top - gap for p in passages]
