"""The retriever: dense (FAISS), BM25 (jieba terms) or hybrid (z-score fusion by default).

Every passage carries both component scores and its rank in each list whatever the mode, so
callers (the abstention check, the UI) can judge the evidence; :attr:`Retrieval.fusion` says how
the hybrid list was made (the BM25 terms, how much of the question BM25's best passage matched,
and the BM25 weight that followed). See :mod:`rag.retrieval.fusion` and
:mod:`rag.retrieval.query`.

Example:
    >>> from rag import Assistant
    >>> retriever = Assistant.open().retriever                     # doctest: +SKIP
    >>> [p.doc_id for p in retriever.retrieve("DPO 为什么不需要奖励模型?", k=3)]  # doctest: +SKIP
    ['dpo', ...]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.config import Settings
from rag.embed.embedder import Embedder
from rag.retrieval.fusion import bm25_share, reciprocal_rank_fusion, zscore_fusion
from rag.retrieval.language_bias import LanguageBias
from rag.retrieval.named import named_groups, pin_named
from rag.retrieval.pinyin_names import PinyinNames
from rag.retrieval.query import SparseQuery, matched_share, sparse_query
from rag.schema import Passage
from rag.store.base import Store
from rag.text.language import question_language
from rag.text.tokenize_zh import BM25Tokenizer

MODES = ("hybrid", "dense", "bm25")


@dataclass
class Retrieval:
    """Passages, how long each step took (seconds), and how the lists were fused.

    ``fusion`` (hybrid): ``method``, ``bm25_terms``, and for z-score fusion ``coverage`` (share
    of the question's words in BM25's best passage) and ``bm25_weight``.
    """

    passages: list[Passage]
    timings: dict[str, float] = field(default_factory=dict)
    fusion: dict[str, Any] = field(default_factory=dict)
    query_vector: np.ndarray | None = None  # the question's embedding (the answer chain reuses it)
    ids: list[int] = field(default_factory=list)  # the store's ids of the passages' chunks
    # pinyin words of an English question -> the index's terms they read as (Retriever.sounds)
    sounds: dict[str, list[str]] = field(default_factory=dict)
    # store id -> what its cosine lost to the same-language bias correction (negative: gained)
    penalties: dict[int, float] = field(default_factory=dict)

    def offsets(self) -> list[float] | None:
        """Per passage, what the same-language bias correction added to its cosine (None: no
        passage was corrected); the answer chain adds it to the passage's sentences too."""
        if not self.penalties:
            return None
        return [-self.penalties.get(i, 0.0) for i in self.ids]


class Retriever:
    """Find the passages of a store that best match a question.

    Args:
        store: Where the chunks are (any :class:`rag.store.base.Store`).
        embedder: The embedder the store was built with.
        tokenizer: BM25 tokenizer (the one used at ingest).
        settings: ``mode``, ``k``, ``candidates``, ``fusion`` and its weights, the BM25 query
            processing (``bm25_drop_question_words``, ``bm25_renderings``) and
            ``max_per_document``.
    """

    def __init__(
        self, store: Store, embedder: Embedder, tokenizer: BM25Tokenizer, settings: Settings
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.settings = settings
        self._names: tuple[int, PinyinNames] | None = None  # (vocabulary size, table)
        self._names_lock = threading.Lock()
        self._bias: LanguageBias | None = None
        self._bias_lock = threading.Lock()

    def sounds(self, question: str) -> dict[str, list[str]]:
        """Pinyin words of an English question -> index terms (:mod:`rag.retrieval.pinyin_names`);
        empty when the store can't list its vocabulary or ``bm25_pinyin`` is off."""
        vocabulary = getattr(self.store, "vocabulary", None)
        if vocabulary is None or not self.settings.bm25_pinyin:
            return {}
        from rag.retrieval.crosslingual import Renderings
        from rag.text.glossary import EN_STOPWORDS
        from rag.text.pinyin import Pinyin

        with self._names_lock:
            terms = vocabulary()
            if self._names is None or self._names[0] != len(terms):
                pinyin = Pinyin.load(self.settings.cache_dir)
                self._names = (len(terms), PinyinNames(pinyin, terms))
            names = self._names[1]
        dictionary = Renderings.load(self.settings.cache_dir)

        def is_english(word: str) -> bool:
            return word in EN_STOPWORDS or bool(dictionary.zh_for(word))

        return names.sounds(question, is_english)

    def retrieve(self, query: str, k: int | None = None, mode: str | None = None) -> list[Passage]:
        """The top ``k`` passages for ``query`` (``mode``: hybrid, dense or bm25)."""
        return self.run(query, k, mode).passages

    def sentence_vectors(self, retrieval: Retrieval) -> dict[str, np.ndarray]:
        """The stored vectors of the sentences of ``retrieval``'s passages, by sentence text.

        The answer chain's evidence step reuses them instead of embedding those sentences
        again; empty when the store keeps no sentence vectors.
        """
        fetch = getattr(self.store, "sentences", None)
        if fetch is None or not retrieval.ids:
            return {}
        out: dict[str, np.ndarray] = {}
        for p, (spans, vectors) in zip(retrieval.passages, fetch(retrieval.ids), strict=True):
            for (s, e), v in zip(spans.tolist(), vectors, strict=True):
                out[p.text[s:e]] = v
        return out

    def sparse_query(self, query: str) -> SparseQuery:
        """The BM25 terms of ``query`` (question words dropped, English words rendered)."""
        s = self.settings
        return sparse_query(
            query,
            self.tokenizer,
            drop_question_words=s.bm25_drop_question_words,
            renderings=s.bm25_renderings,
            known=getattr(self.store, "known_terms", None),
            cache_dir=s.cache_dir,
            sounds=self.sounds,
        )

    def run(self, query: str, k: int | None = None, mode: str | None = None) -> Retrieval:
        """Like :meth:`retrieve`, with per-step timings."""
        k = k or self.settings.k
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        s = self.settings
        timings: dict[str, float] = {}
        depth = max(s.candidates, k)
        t = time.perf_counter()
        vector = self.embedder.embed_queries([query])[0]
        timings["embed_query"] = time.perf_counter() - t
        t = time.perf_counter()
        sq = self.sparse_query(query)
        terms = sq.terms
        timings["tokenize"] = time.perf_counter() - t

        dense: list[tuple[int, float]] = []
        sparse: list[tuple[int, float]] = []
        if mode in ("dense", "hybrid"):
            t = time.perf_counter()
            dense = self.store.dense_search(vector, depth)
            timings["dense"] = time.perf_counter() - t
        if mode in ("bm25", "hybrid"):
            t = time.perf_counter()
            sparse = self.store.sparse_search(terms, depth, query=sq.text, **self._groups(sq))
            timings["bm25"] = time.perf_counter() - t

        t = time.perf_counter()
        penalty = self._language_penalties(query, [i for i, _ in dense + sparse]) if dense else {}
        if penalty:
            dense = sorted(_less(dict(dense), penalty).items(), key=lambda kv: -kv[1])
        timings["language_bias"] = time.perf_counter() - t
        t = time.perf_counter()
        dense_scores = dict(dense)
        sparse_scores = dict(sparse)
        sentence_scores: dict[int, float] = {}
        fusion: dict[str, Any] = {}
        if mode == "dense":
            ranked = self._with_sentences(
                vector, [i for i, _ in dense], dense_scores, sentence_scores, penalty
            )
            ranked.sort(key=lambda kv: -kv[1])
        elif mode == "bm25":
            ranked = sparse
        else:
            fusion = {"method": s.fusion, "bm25_terms": terms}
            weights = {"dense": s.dense_weight, "bm25": s.bm25_weight}
            if s.fusion == "rrf":
                ranked = reciprocal_rank_fusion(
                    {"dense": [i for i, _ in dense], "bm25": [i for i, _ in sparse]},
                    k=s.rrf_k,
                    weights=weights,
                )
            else:
                pool = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in sparse]))
                self._fill_scores(vector, sq, pool, dense_scores, sparse_scores, penalty)
                coverage = self._coverage(sq, sparse)
                w = bm25_share(coverage, s.bm25_weight_low, s.bm25_weight_high)
                fusion.update(coverage=coverage, bm25_weight=w)
                blended = dict(
                    self._with_sentences(vector, pool, dense_scores, sentence_scores, penalty)
                )
                ranked = zscore_fusion(pool, blended, sparse_scores, w, weights=weights)
        top = self._cut(ranked, k)
        ranked = self._named(top, ranked, sparse, sq) if mode == "hybrid" else top
        ids = [i for i, _ in ranked]
        self._fill_scores(vector, sq, ids, dense_scores, sparse_scores, penalty)
        timings["fusion"] = time.perf_counter() - t

        t = time.perf_counter()
        records = self.store.chunks(ids)
        dense_rank = {i: r for r, (i, _) in enumerate(dense, start=1)}
        bm25_rank = {i: r for r, (i, _) in enumerate(sparse, start=1)}
        passages = [
            Passage.from_chunk(
                r,
                float(score),
                dense_score=dense_scores.get(i),
                bm25_score=sparse_scores.get(i, 0.0),
                rank=rank,
                dense_rank=dense_rank.get(i),
                bm25_rank=bm25_rank.get(i),
                sentence_score=sentence_scores.get(i),
            )
            for rank, ((i, score), r) in enumerate(zip(ranked, records, strict=True), start=1)
        ]
        timings["fetch"] = time.perf_counter() - t
        timings["total"] = sum(timings.values())
        return Retrieval(passages, timings, fusion, vector, ids, sq.sounds, penalty)

    # ------------------------------------------------------------------ helpers
    def _language_penalties(self, query: str, ids: Sequence[int]) -> dict[int, float]:
        """What the minority-language chunks among ``ids`` lose (see :mod:`language_bias`)."""
        if not self.settings.language_bias or not ids:
            return {}
        with self._bias_lock:
            if self._bias is None:
                self._bias = LanguageBias(
                    self.store,
                    self.embedder.embed_queries,
                    getattr(self.embedder, "fingerprint", ""),
                    self.settings.cache_dir,
                )
        return self._bias.penalties(ids, question_language(query))

    def _with_sentences(
        self,
        vector: Any,
        ids: Sequence[int],
        dense_scores: dict[int, float],
        sentence_scores: dict[int, float],
        penalty: dict[int, float] | None = None,
    ) -> list[tuple[int, float]]:
        """``(id, (1 - w) * cosine + w * best sentence cosine)`` for ``ids`` (cosine known).

        Fills ``sentence_scores`` (less the chunk's ``penalty``); a chunk without sentence
        vectors keeps its cosine.
        """
        w = self.settings.sentence_weight
        scorer = getattr(self.store, "sentence_scores", None)
        if w > 0 and scorer is not None:
            sentence_scores.update(_less(scorer(vector, ids), penalty))
        return [
            (i, (1 - w) * dense_scores[i] + w * sentence_scores[i])
            if i in sentence_scores
            else (i, dense_scores[i])
            for i in ids
        ]

    def _fill_scores(
        self,
        vector: Any,
        sq: SparseQuery,
        ids: Sequence[int],
        dense_scores: dict[int, float],
        sparse_scores: dict[int, float],
        penalty: dict[int, float] | None = None,
    ) -> None:
        """Add the exact cosine (less the chunk's ``penalty``) and BM25 score of ``ids`` that
        are not known yet."""
        missing_dense = [i for i in ids if i not in dense_scores]
        if missing_dense:
            dense_scores.update(_less(self.store.dense_scores(vector, missing_dense), penalty))
        missing_sparse = [i for i in ids if i not in sparse_scores]
        if missing_sparse and sq.terms:
            sparse_scores.update(
                self.store.sparse_scores(
                    sq.terms, missing_sparse, query=sq.text, **self._groups(sq)
                )
            )

    def _groups(self, sq: SparseQuery) -> dict[str, Any]:
        """``groups=`` for the store when a word's renderings (``Settings.bm25_synonyms``) or a
        Chinese word's pieces (``Settings.bm25_compounds``) score as one word and the query has
        any."""
        s = self.settings
        groups = [
            *(sq.synonyms if s.bm25_synonyms else ()),
            *(sq.compounds if s.bm25_compounds else ()),
        ]
        return {"groups": groups} if groups else {}

    def _coverage(self, sq: SparseQuery, sparse: list[tuple[int, float]]) -> float:
        """Share of the question's words found in BM25's best passage (0 without one)."""
        if not sparse or not sq.groups:
            return 0.0
        (top,) = self.store.chunks([sparse[0][0]])
        return matched_share(sq.groups, f"{top.title}\n{top.text}")

    def _named(
        self,
        top: list[tuple[int, float]],
        ranked: list[tuple[int, float]],
        sparse: list[tuple[int, float]],
        sq: SparseQuery,
    ) -> list[tuple[int, float]]:
        """``top`` with a passage that names each person or place the question names in pinyin
        (:mod:`rag.retrieval.named`; ``bm25_pinyin``), looked for in BM25's order: BM25 scores
        the name as a word of the text, where "区政" is only inside the 区政府 of a passage that
        does not name 渠成 (the fused order had pinned it for "Qu Cheng"). A pinned passage keeps
        its fused score."""
        if not sq.sounds:
            return top
        from rag.retrieval.crosslingual import Renderings

        groups = named_groups(sq.sounds, Renderings.load(self.settings.cache_dir).rendered)
        if not groups:
            return top
        fused = dict(ranked)
        floor = min((s for _, s in top), default=0.0)
        candidates = [(i, fused.get(i, floor)) for i, _ in sparse]
        ids = list(dict.fromkeys([i for i, _ in top] + [i for i, _ in candidates]))
        texts = {
            i: f"{c.title}\n{c.text}" for i, c in zip(ids, self.store.chunks(ids), strict=True)
        }
        return pin_named(top, candidates, texts.__getitem__, groups)

    def _cut(self, ranked: list[tuple[int, float]], k: int) -> list[tuple[int, float]]:
        """The first ``k``, at most ``max_per_document`` passages of one document (0: no cap)."""
        cap = self.settings.max_per_document
        if cap <= 0 or not ranked:
            return ranked[:k]
        ids = [i for i, _ in ranked]
        docs = {i: r.doc_id for i, r in zip(ids, self.store.chunks(ids), strict=True)}
        seen: dict[str, int] = {}
        out = []
        for i, score in ranked:
            d = docs[i]
            if seen.get(d, 0) < cap:
                seen[d] = seen.get(d, 0) + 1
                out.append((i, score))
                if len(out) == k:
                    break
        return out


def _less(scores: dict[int, float], penalty: dict[int, float] | None) -> dict[int, float]:
    """``scores`` less each chunk's language-bias ``penalty`` (none: unchanged)."""
    return {i: v - penalty.get(i, 0.0) for i, v in scores.items()} if penalty else scores
