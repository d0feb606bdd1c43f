"""The answer chain's shared helpers, loaded once per :class:`rag.Assistant` and on first use.

A chain is built for every question (its settings may differ per call), but the glossary
(~2.5 s to parse), the coverage and claim models and the cache of sentence vectors must not be:
they live here, one set per assistant, safe to share between threads.

Example:
    >>> tools = AnswerTools(terms=lambda t: t.split())
    >>> tools.selector.max_sentences
    4
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.answer.coverage import CoverageModel
from rag.answer.evidence import EvidenceSelector
from rag.answer.injection import instruction_sentences

if TYPE_CHECKING:
    from rag.text.glossary import Glossary


class AnswerTools:
    """Lazily built, shared helpers of the answer chain.

    Args:
        terms: The BM25 tokenizer.
        embed_queries: e5 vectors of questions (None: words only).
        embed_passages: e5 vectors of sentences.
        evidence_sentences: Sentences the evidence selector keeps at most.
        cache_dir: Where the parsed glossary is kept between processes.
        coverage_model: The coverage decision (default: the packaged ``coverage_model.json``).
    """

    def __init__(
        self,
        terms: Callable[[str], list[str]],
        embed_queries: Callable[[Sequence[str]], np.ndarray] | None = None,
        embed_passages: Callable[[Sequence[str]], np.ndarray] | None = None,
        evidence_sentences: int = 4,
        cache_dir: Path | None = None,
        coverage_model: CoverageModel | None = None,
    ) -> None:
        self.terms = terms
        self.cache_dir = cache_dir
        self.embed_queries = embed_queries
        self.embed_passages = embed_passages
        self._lock = threading.Lock()
        self._glossary: Glossary | None = None
        self._claims_glossary: Glossary | None = None
        self._coverage: CoverageModel | None = coverage_model
        self.selector = EvidenceSelector(
            terms,
            embed_queries,
            embed_passages,
            max_sentences=evidence_sentences,
            flag=instruction_sentences,
        )

    @property
    def glossary(self) -> Glossary:
        """English words -> Chinese renderings (parsed on first use)."""
        with self._lock:
            if self._glossary is None:
                from rag.text.glossary import Glossary

                self._glossary = Glossary.load(cache_dir=self.cache_dir)
            return self._glossary

    @property
    def claims_glossary(self) -> Glossary:
        """The glossary the claim model was calibrated with (senses of up to two words)."""
        with self._lock:
            if self._claims_glossary is None:
                from rag.text.glossary import Glossary

                self._claims_glossary = Glossary.load(max_sense_words=2, cache_dir=self.cache_dir)
            return self._claims_glossary

    @property
    def coverage_model(self) -> CoverageModel:
        """The fitted coverage decision (``coverage_model.json``)."""
        with self._lock:
            if self._coverage is None:
                self._coverage = CoverageModel.load()
            return self._coverage

    def similarity(self, clauses: list[str], sentences: list[str]) -> np.ndarray:
        """e5 cosine of answer clauses (as questions) to passage sentences (cached vectors)."""
        if self.embed_queries is None or not clauses or not sentences:
            return np.zeros((len(clauses), len(sentences)), np.float32)
        return self.embed_queries(clauses) @ self.selector.sentence_vectors(sentences).T
