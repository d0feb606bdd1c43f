"""The public Python API: open an index, retrieve passages, ask questions.

Example:
    >>> from rag import Assistant
    >>> assistant = Assistant.open()                                   # doctest: +SKIP
    >>> [p.title for p in assistant.retrieve("DPO 为什么不需要奖励模型?", k=2)]  # doctest: +SKIP
    ['DPO', ...]
    >>> answer = assistant.ask("DDIM 需要重新训练模型吗?")                 # doctest: +SKIP
    >>> answer.text, [c.title for c in answer.citations]               # doctest: +SKIP
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.errors import IndexMismatch, IndexNotFound
from rag.schema import Answer, Passage
from rag.store.base import Store
from rag.store.factory import open_store

if TYPE_CHECKING:
    from rag.answer.chain import AnswerChain, StreamEvent
    from rag.embed.embedder import Embedder
    from rag.llm.client import LLM
    from rag.retrieval.retriever import Retriever


def mismatch_message(manifest: dict[str, Any], settings: Settings, where: object) -> str:
    """Why an index cannot be searched with the configured embedder, and what to run."""
    built = manifest.get("embedder", {})
    was = f"{built.get('name')!r}" + (f" ({built['backend']})" if built.get("backend") else "")
    return (
        f"the index at {where} was built with embedder {was} but the configured embedder is "
        f"{settings.embedder!r} ({settings.embed_backend}); rebuild it with "
        "`rag ingest --rebuild`, or set RAG_EMBEDDER / RAG_EMBED_BACKEND back"
    )


class Assistant:
    """Question answering over an index of articles.

    Use :meth:`open` rather than the constructor.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder,
        llm: LLM | str | None = None,
    ) -> None:
        from rag.retrieval.retriever import Retriever
        from rag.text.tokenize_zh import BM25Tokenizer

        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.tokenizer = BM25Tokenizer(Path(settings.cache_dir) / "jieba")
        self.retriever: Retriever = Retriever(store, embedder, self.tokenizer, settings)
        self._no_llm = llm == "none"
        self._llm: LLM | None = None if isinstance(llm, str) else llm
        self._llm_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._retired: list[Store] = []

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        index: str | Path | None = None,
        *,
        settings: Settings | None = None,
        llm: LLM | str | None = None,
        auto_ingest: bool = True,
        progress: bool = True,
        log: Callable[[str], None] | None = None,
        **overrides: Any,
    ) -> Assistant:
        """Open an index (building the default corpus's index on first use).

        Args:
            index: Index directory (default ``settings.index_dir``).
            settings: Base settings (default: ``Settings.load()``, i.e. defaults + ``RAG_*``).
            llm: ``None`` (the configured endpoint, else the embedded local model, started on
                the first question), ``"none"`` (extractive answers only), or an :class:`LLM`.
            auto_ingest: Build the index from ``settings.corpus_dir`` when there is none yet.
            progress: Show progress bars while building.
            log: Where to send messages (default: stderr).
            **overrides: Any :class:`rag.config.Settings` field.

        Raises:
            IndexNotFound: no index and ``auto_ingest`` is off or there is no corpus.
            IndexCorrupt: the index is damaged (the message says how to rebuild).
            IndexMismatch: the index was built with another embedder.
        """
        say = log or (lambda msg: print(msg, file=sys.stderr))
        settings = (settings or Settings.load()).replace(
            index_dir=Path(index) if index is not None else None, **overrides
        )
        from rag.embed.embedder import Embedder

        embedder = Embedder.load(settings, progress=progress)
        try:
            store = open_store(settings)
        except IndexNotFound:
            corpus = Path(settings.corpus_dir)
            if not auto_ingest or not corpus.is_dir():
                raise
            say(f"no index yet: building it from {corpus} (first use)...")
            from ingest.pipeline import ingest

            report = ingest([corpus], settings, progress=progress, embedder=embedder, log=say)
            say(report.summary())
            store = open_store(settings)
        built_with = store.manifest.get("embedder", {}).get("fingerprint")
        if built_with and built_with != embedder.fingerprint:
            store.close()
            where = (
                settings.index_dir if settings.vector_store == "local" else settings.vector_store
            )
            raise IndexMismatch(mismatch_message(store.manifest, settings, where))
        if isinstance(llm, str) and llm not in ("none", "auto"):
            raise ValueError(f"llm must be 'none', 'auto', an LLM or None, not {llm!r}")
        return cls(settings, store, embedder, llm=None if llm == "auto" else llm)

    # ------------------------------------------------------------------ retrieval
    def retrieve(
        self, question: str, k: int | None = None, mode: str | None = None
    ) -> list[Passage]:
        """The ``k`` passages that best match ``question`` (``mode``: hybrid, dense, bm25)."""
        from rag.answer.guard import check_question

        return self.retriever.retrieve(check_question(question, self.settings), k, mode)

    # ------------------------------------------------------------------ answers
    @property
    def llm(self) -> LLM | None:
        """The LLM in use (created on first access), or None when opened with ``llm="none"``."""
        with self._llm_lock:
            if self._no_llm:
                return None
            if self._llm is None:
                from rag.llm.factory import make_llm

                self._llm = make_llm(self.settings)
            return self._llm

    def chain(self, llm: LLM | str | None = None, **overrides: Any) -> AnswerChain:
        """An answer chain bound to this assistant.

        Args:
            llm: ``None`` (this assistant's LLM), ``"none"`` (extractive answers), or another
                :class:`rag.llm.client.LLM` for this chain only.
            **overrides: Settings for this chain only (``llm_temperature``, ``k``...).
        """
        from rag.answer.chain import AnswerChain

        settings = self.settings.replace(**overrides) if overrides else self.settings
        if llm == "none":
            factory = lambda: None  # noqa: E731
        elif llm is None:
            factory = lambda: self.llm  # noqa: E731
        elif isinstance(llm, str):
            raise ValueError(f"llm must be None, 'none' or an LLM, not {llm!r}")
        else:
            factory = lambda: llm  # noqa: E731
        return AnswerChain(self.retriever, factory, settings)

    def ask(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        k: int | None = None,
        mode: str | None = None,
        llm: LLM | str | None = None,
        **overrides: Any,
    ) -> Answer:
        """Answer ``question`` from the articles, citing passages as [n].

        Args:
            question: The question, in any language.
            history: Earlier turns, ``[{"role": "user"|"assistant", "content": ...}, ...]``.
            k: Passages to retrieve.
            mode: Retrieval mode.
            llm: ``"none"`` for an extractive answer without the LLM, or another LLM.
            **overrides: Settings for this question only (e.g. ``llm_temperature=0``).
        """
        return self.chain(llm, **overrides).ask(question, history=history, k=k, mode=mode)

    def ask_stream(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        k: int | None = None,
        mode: str | None = None,
        llm: LLM | str | None = None,
        **overrides: Any,
    ) -> Iterator[StreamEvent]:
        """Like :meth:`ask`, yielding events: passages first, then tokens, then the Answer."""
        return self.chain(llm, **overrides).stream(question, history=history, k=k, mode=mode)

    # ------------------------------------------------------------------ housekeeping
    def reload(self) -> None:
        """Reopen the store (after an ingest) so new documents are searchable."""
        with self._reload_lock:
            new = open_store(self.settings)
            old, self.store = self.store, new
            self.retriever.store = new
            # A question retrieving in another thread may still hold the old store: close it
            # at the next reload rather than now.
            for retired in self._retired:
                retired.close()
            self._retired = [old]

    def stats(self) -> dict[str, Any]:
        """Documents, chunks, embedder and size of the index."""
        return self.store.stats()

    def close(self) -> None:
        """Release the index and stop the embedded model if this assistant started it."""
        self.store.close()
        for retired in self._retired:
            retired.close()
        if self._llm is not None:
            self._llm.close()
