"""The public Python API: open an index, retrieve passages, ask questions.

Example:
    >>> from rag import Assistant
    >>> assistant = Assistant.open()                                   # doctest: +SKIP
    >>> [p.title for p in assistant.retrieve("DPO 为什么不需要奖励模型?", k=2)]  # doctest: +SKIP
    ['DPO', ...]
    >>> answer = assistant.ask("DDIM 相比 DDPM 采样快多少倍?")             # doctest: +SKIP
    >>> answer.text, [c.title for c in answer.citations]               # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.errors import IndexMismatch, IndexNotFound, RagError
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

    Use :meth:`open` rather than the constructor, and :meth:`close` it when done (or use it as
    a context manager: ``with Assistant.open() as assistant: ...``).

    A long-running assistant follows the index: at most every :attr:`reload_check_seconds`
    (on a question, a search or :meth:`stats`) it reads the local index's pointer, and when an
    ingest has made a newer generation live it switches to it for the next requests. A request
    keeps the generation it started with to the end; an old generation's files are closed when
    its last request is done. (Milvus indexes are updated in place: nothing to switch.)
    """

    #: Seconds between two checks for a newer index generation (0: on every request).
    reload_check_seconds: float = 2.0

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder,
        llm: LLM | str | None = None,
    ) -> None:
        from rag.answer.tools import AnswerTools
        from rag.retrieval.retriever import Retriever
        from rag.text.tokenize_zh import BM25Tokenizer

        self.settings = settings
        self.store = store
        self.embedder = embedder
        # questions and evidence sentences only: stay on the disk copy of jieba's dictionary
        self.tokenizer = BM25Tokenizer(Path(settings.cache_dir) / "jieba", whole_after=None)
        self.retriever: Retriever = Retriever(store, embedder, self.tokenizer, settings)
        self.answer_tools = AnswerTools(
            self.tokenizer,
            embedder.embed_queries,
            embedder.embed_passages,
            cache_dir=Path(settings.cache_dir),
        )
        self._no_llm = llm == "none"
        self._llm: LLM | None = None if isinstance(llm, str) else llm
        self._llm_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._retired: list[Store] = []
        self._uses: dict[Store, int] = {}  # requests reading each open store
        self._checked = time.monotonic()
        self._warned = ""  # the last warning about the live index (said once)
        self._log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)

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
        store = _add_sentence_vectors(store, settings, embedder, auto_ingest, progress, say)
        if isinstance(llm, str) and llm not in ("none", "auto"):
            raise ValueError(f"llm must be 'none', 'auto', an LLM or None, not {llm!r}")
        assistant = cls(settings, store, embedder, llm=None if llm == "auto" else llm)
        assistant._log = say
        return assistant

    # ------------------------------------------------------------------ retrieval
    def retrieve(
        self, question: str, k: int | None = None, mode: str | None = None
    ) -> list[Passage]:
        """The ``k`` passages that best match ``question`` (``mode``: hybrid, dense, bm25)."""
        from rag.answer.guard import check_question

        question = check_question(question, self.settings)
        with self.reading() as retriever:
            return retriever.retrieve(question, k, mode)

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
        retriever, release = self._lease()
        chain = AnswerChain(retriever, factory, settings, self.answer_tools)
        weakref.finalize(chain, release)  # the chain reads one generation for as long as it lives
        return chain

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

    # ------------------------------------------------------------------ the live index
    @contextlib.contextmanager
    def reading(self) -> Iterator[Retriever]:
        """The current retriever (``.store`` is its index), kept open until the block ends."""
        retriever, release = self._lease()
        try:
            yield retriever
        finally:
            release()

    def _lease(self) -> tuple[Retriever, Callable[[], None]]:
        """The current retriever and the (idempotent) function that lets go of its store."""
        self._follow_index()
        with self._state_lock:
            retriever = self.retriever
            store = retriever.store
            self._uses[store] = self._uses.get(store, 0) + 1
        released = threading.Event()

        def release() -> None:
            with self._state_lock:
                if released.is_set():
                    return
                released.set()
                self._uses[store] -= 1
                idle = self._uses[store] == 0
                if idle:
                    del self._uses[store]
                retired = idle and any(store is r for r in self._retired)
                if retired:
                    self._retired = [r for r in self._retired if r is not store]
            if retired:
                store.close()

        return retriever, release

    def _follow_index(self) -> None:
        """Switch to a newer generation if an ingest made one live (checked now and then)."""
        now = time.monotonic()
        if now - self._checked < self.reload_check_seconds:
            return
        self._checked = now
        is_current = getattr(self.store, "is_current", None)
        if is_current is None or not self._reload_lock.acquire(blocking=False):
            return  # a store updated in place, or another request is switching right now
        try:
            if not is_current():
                self._switch(strict=False)
        except RagError as exc:  # keep answering from the open generation
            self._warn(f"warning: still answering from the index opened before: {exc}")
        finally:
            self._reload_lock.release()

    def _switch(self, strict: bool = True) -> None:
        """Open the live generation and make it the one new requests read."""
        from rag.retrieval.retriever import Retriever

        new = open_store(self.settings)
        built_with = new.manifest.get("embedder", {}).get("fingerprint")
        generation = str(new.manifest.get("generation", ""))
        if built_with and built_with != self.embedder.fingerprint:
            new.close()
            if strict:
                raise IndexMismatch(
                    f"the new index was built with another embedder "
                    f"({new.manifest.get('embedder', {}).get('name')!r}); rebuild it with "
                    "`rag ingest --rebuild`"
                )
            self._warn(
                f"warning: index generation {generation} was built with another embedder; still "
                "answering from the one opened before (restart to use the new one)"
            )
            return
        retriever = Retriever(new, self.embedder, self.tokenizer, self.settings)
        with self._state_lock:
            old, self.store, self.retriever = self.store, new, retriever
            busy = old in self._uses
            if busy:  # closed when its last request is done
                self._retired.append(old)
        if not busy:
            old.close()

    def _warn(self, message: str) -> None:
        if message != self._warned:
            self._warned = message
            self._log(message)

    # ------------------------------------------------------------------ housekeeping
    def reload(self) -> None:
        """Switch to the index as it is now (after an ingest) so new documents are searchable.

        Requests already running finish on the generation they started with.
        """
        with self._reload_lock:
            self._switch()
        self._checked = time.monotonic()

    def stats(self) -> dict[str, Any]:
        """Documents, chunks, embedder, generation and size of the index."""
        with self.reading() as retriever:
            return retriever.store.stats()

    def documents(self) -> list[dict[str, Any]]:
        """Every document's id, title, source, language and chunk count."""
        with self.reading() as retriever:
            return retriever.store.documents()

    def document_text(self, doc_id: str) -> str | None:
        """The full text of a document of the index (None if it is not there)."""
        with self.reading() as retriever:
            return retriever.store.document_text(doc_id)

    def close(self) -> None:
        """Release the index and stop the embedded model if this assistant started it."""
        with self._state_lock:
            stores = [self.store, *self._retired]
            self._retired = []
        for store in stores:
            store.close()
        if self._llm is not None:
            self._llm.close()

    def __enter__(self) -> Assistant:
        """``with Assistant.open() as assistant: ...`` closes it at the end (:meth:`close`)."""
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _add_sentence_vectors(
    store: Store,
    settings: Settings,
    embedder: Embedder,
    auto_ingest: bool,
    progress: bool,
    say: Callable[[str], None],
) -> Store:
    """Bring a local index from before sentence vectors up to date (or say how to).

    The default corpus's index is updated in place (its chunk vectors come from the embedding
    cache; only the sentences are embedded); any other index gets a hint, since only its owner
    knows what to ingest. Without sentence vectors retrieval ranks by the chunks' cosine alone.
    """
    if settings.vector_store != "local" or store.manifest.get("sentences") is not None:
        return store  # Milvus keeps none; a local index has them (or was built without)
    corpus = Path(settings.corpus_dir).resolve()
    roots = [str(Path(r).resolve()) for r in store.manifest.get("roots", [])]
    if not auto_ingest or roots != [str(corpus)] or not corpus.is_dir():
        say(
            f"note: the index at {settings.index_dir} has no sentence vectors (built before "
            "2026-12-02); `rag ingest` adds them and ranks passages a little better"
        )
        return store
    say(f"adding sentence vectors to the index of {corpus} (once)...")
    from ingest.pipeline import ingest

    try:
        report = ingest([corpus], settings, progress=progress, embedder=embedder, log=say)
    except RagError as exc:  # busy (another ingest), read-only, disk full: use it as it is
        say(f"note: could not add sentence vectors now ({exc}); the index works without them")
        return store
    say(report.summary())
    store.close()
    return open_store(settings)
