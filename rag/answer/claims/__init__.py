"""Claim-level verification of an LLM answer against the passages it was given.

Each answer sentence is cut into clauses (at commas, semicolons and conjunctions such as 但/而且/
因此, "but", "while", "which"; a fragment too short to stand alone stays with its neighbour). A
clause is *supported* when one evidence sentence (or two adjacent ones) of a passage covers it:

(a) every number in the clause is in that sentence, exactly (``10~50``/``10-50``/``10 to 50``,
    ``1万``/``ten thousand``, ``2.8B``, ``1,000``, ``两种``/``two``, ``三板斧``/``three`` are
    normalised first);
(b) its names (Latin terms, model names, acronyms) are in the passages, literally;
(c) enough of its content words are in that sentence (jieba terms; for an English clause over
    Chinese text, the CC-CEDICT/ML-glossary renderings of its words);
(d) the polarity agrees (a negation on the matched predicate in one and not in the other);
(e) its e5 similarity with that sentence is high enough (mostly decisive for cross-lingual
    clauses).

(a), (b) and (d) are rules; (c) and (e) and a few counts are combined by a logistic model fitted
on the dev split of ``faithfulness.jsonl`` (``claims_model.json``: weights, feature names,
threshold). ``[n]`` is ``passages[n-1]``. Unsupported clauses are removed (the sentence too when
what is left cannot stand alone); citations are repaired to the passage that supports a clause.

Modules, bottom up: :mod:`~.words` (character classes, stop words, word forms),
:mod:`~.numbers` (figures), :mod:`~.names`, :mod:`~.units` (the records compared),
:mod:`~.negation` (polarity and comparison rules), :mod:`~.lexicon` (content units, renderings,
coverage), :mod:`~.result` (:class:`Clause`, :class:`CheckedAnswer`), :mod:`~.clauses`
(sentences, clauses, citations), :mod:`~.polar` (yes/no questions and answers),
:mod:`~.model` (:class:`ClaimModel`, features), :mod:`~.cohere` (one source per sentence where
several support it), :mod:`~.support` (a restatement cites its sentence's passage; a name the
question gave must be in the passage a clause rests on), :mod:`~.bound_figures` (a figure taken
from another statement of the passage), :mod:`~.compose` (the rebuilt answer),
:mod:`~.check`
(:func:`check_answer`); :mod:`~.fit`
refits the model (``python -m rag.eval.refit``).

Example:
    >>> from rag.schema import Passage
    >>> p = [Passage("DDIM 仅采样 20~100 步就能达到和 DDPM 采样 1000 步相近的生成效果，也就是提速 10~50 倍。",
    ...              "ddim", "DDIM", "ddim.md", "ddim#0", 1.0)]
    >>> from rag.text.tokenize_zh import BM25Tokenizer
    >>> terms = BM25Tokenizer()
    >>> c = check_answer("DDIM 可以提速 10~50 倍，但需要更多的计算资源 [1]。", p, terms=terms)
    >>> c.text, [r.reason for r in c.removed]
    ('DDIM 可以提速 10~50 倍 [1]。', ["'计算资源', '多' not in the passages"])
    >>> check_answer("DDIM 可以提速 100 倍 [1]。", p, terms=terms).removed[0].reason
    'number 100 not in [1]'
"""

from __future__ import annotations

from rag.answer.claims.check import check_answer
from rag.answer.claims.clauses import is_abstention, parse_citations
from rag.answer.claims.model import FEATURES, ClaimModel
from rag.answer.claims.numbers import numbers_in
from rag.answer.claims.result import CheckedAnswer, Clause

__all__ = [
    "FEATURES",
    "CheckedAnswer",
    "ClaimModel",
    "Clause",
    "check_answer",
    "is_abstention",
    "numbers_in",
    "parse_citations",
]
