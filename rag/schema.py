"""The records that flow through the pipeline: Document -> Chunk -> Passage -> Answer.

Field names of :class:`Passage` and :class:`Answer` are a public contract (the CLI's ``--json``,
the HTTP API and the evaluation report use them); do not rename them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Document:
    """One loaded document.

    Args:
        doc_id: Stable id (the ``id`` of a JSONL line or front matter, else a slug of the path).
        text: The document text, as displayed and as chunk offsets refer to it.
        title: Short human title.
        source: Where it came from (a path relative to the corpus, or a URL).
        lang: ``zh``, ``en`` or ``mixed``.
        meta: Anything else from the front matter (kept, not interpreted).
    """

    doc_id: str
    text: str
    title: str
    source: str
    lang: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A contiguous span of a document: ``text == document.text[start:end]``.

    The one declaration of a chunk's fields: a store returns chunks, the stored row
    (:class:`rag.store.base.ChunkRow`) extends it, :meth:`Passage.from_chunk` turns it into a
    retrieved passage, and the HTTP API's passage model is derived from :class:`Passage`.
    """

    chunk_id: str
    doc_id: str
    title: str
    source: str
    start: int
    end: int
    text: str
    n_tokens: int = 0


@dataclass
class Passage:
    """A retrieved chunk with its scores.

    ``score`` is the score of the mode that ranked it (the fused score for hybrid, see
    :mod:`rag.retrieval.fusion`; cosine for dense, BM25 for bm25); ``dense_score`` and
    ``bm25_score`` are the component scores when known, ``dense_rank`` and ``bm25_rank`` its
    rank in each list (None when it was not among that list's candidates); ``sentence_score``
    is the best cosine of one of its sentences to the question (None: the index has no
    sentence vectors), which dense and hybrid retrieval add to the chunk's cosine.
    """

    text: str
    doc_id: str
    title: str
    source: str
    chunk_id: str
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    rank: int = 0
    start: int = 0
    end: int = 0
    dense_rank: int | None = None
    bm25_rank: int | None = None
    sentence_score: float | None = None

    @classmethod
    def from_chunk(
        cls,
        chunk: Chunk,
        score: float,
        *,
        dense_score: float | None = None,
        bm25_score: float | None = None,
        rank: int = 0,
        dense_rank: int | None = None,
        bm25_rank: int | None = None,
        sentence_score: float | None = None,
    ) -> Passage:
        """The passage of a retrieved chunk, with its scores.

        Example:
            >>> c = Chunk("dpo#0", "dpo", "DPO", "dpo.md", 0, 3, "DPO", 5)
            >>> Passage.from_chunk(c, 0.5, rank=1).chunk_id
            'dpo#0'
        """
        return cls(
            text=chunk.text,
            doc_id=chunk.doc_id,
            title=chunk.title,
            source=chunk.source,
            chunk_id=chunk.chunk_id,
            score=score,
            dense_score=dense_score,
            bm25_score=bm25_score,
            rank=rank,
            start=chunk.start,
            end=chunk.end,
            dense_rank=dense_rank,
            bm25_rank=bm25_rank,
            sentence_score=sentence_score,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """What :meth:`rag.Assistant.ask` returns.

    Args:
        text: The answer, with ``[n]`` citations numbered as in ``passages``.
        citations: The cited passages, in order of first citation.
        passages: All passages given to the model (``[n]`` is ``passages[n-1]``).
        abstained: True when the articles do not cover the question.
        llm: Which model answered, or ``extractive``.
        timings: Seconds per stage (``retrieve``, ``first_token``, ``total``...).
        notice: A message for the user (LLM unreachable, citations dropped...), or None.
        question: The question as asked; ``standalone_question`` as retrieved with.
        usage: Token counts (``prompt_tokens``, ``completion_tokens``) when known.
        unsupported: Indices of answer sentences no passage supports (they carry no citation;
            the claim check removes such text instead, so this stays empty for its answers).
        finish_reason: Why the LLM stopped (``stop``, ``length``; the chain's ``repetition``,
            ``sentence_limit``), when an LLM answered.
        coverage: The calibrated probability that the articles cover the question (None when
            it was not computed).
        unsupported_claims: Clauses of the model's answer that no passage supports and that
            were removed, each ``{"text": ..., "reason": ...}``.
        model_text: The LLM's answer as it wrote it, before the claim check (None when no
            model answered).
        claims: Every clause of the model's answer with the check's verdict, each
            ``{"text", "sentence", "status", "cited", "support", "reason"}`` (``cited``: the
            passage numbers the model gave it; ``support``: the passages that support it).
    """

    text: str
    citations: list[Passage]
    passages: list[Passage]
    abstained: bool
    llm: str
    timings: dict[str, float] = field(default_factory=dict)
    notice: str | None = None
    question: str = ""
    standalone_question: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    unsupported: list[int] = field(default_factory=list)
    finish_reason: str | None = None  # the LLM's ("stop", "length"), when it answered
    coverage: float | None = None
    unsupported_claims: list[dict[str, str]] = field(default_factory=list)
    model_text: str | None = None
    claims: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The names of a chunk's fields, in order (what stores select and return).
CHUNK_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Chunk))


def chunk_fields(chunk: Chunk) -> dict[str, Any]:
    """The :class:`Chunk` fields of ``chunk`` (or of a record that extends it), by name."""
    return {name: getattr(chunk, name) for name in CHUNK_FIELDS}


def embedding_text(title: str, text: str, title_prefix: bool = True) -> str:
    """The text that is embedded and BM25-indexed for a chunk: its title line, then the text.

    Example:
        >>> embedding_text("DPO", "直接偏好优化"), embedding_text("DPO", "x", title_prefix=False)
        ('DPO\\n直接偏好优化', 'x')
    """
    return f"{title}\n{text}" if title_prefix and title else text
