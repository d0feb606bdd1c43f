"""Run a question set through the retriever (every mode) and the answer chain, one question at a time.

Each question's outcome is appended to ``<out>/results.jsonl`` as soon as it is known, so a
long run that is interrupted still leaves its results, and ``resume=True`` (``--resume``)
continues it without asking those questions again. :func:`run_eval` then aggregates them
(:mod:`rag.eval.summary`) and writes the report (:mod:`rag.eval.report`).

Example:
    >>> from rag.config import Settings
    >>> config = EvalConfig(Path("data/eval/questions.jsonl"), no_llm=True)
    >>> result = run_eval(config, Settings.load())                 # doctest: +SKIP
    >>> result.summary["retrieval"]["hybrid"]["hit@5"]              # doctest: +SKIP
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.eval.config import EvalConfig, EvalResult
from rag.eval.metrics import (
    answer_f1,
    contains_answer,
    dedupe_docs,
    gold_rank,
    retrieval_scores,
)
from rag.eval.near_miss import HidingRetriever, hidden_documents, with_near_misses
from rag.eval.questions import Question, load_questions
from rag.eval.report import write_report
from rag.eval.summary import summarize
from rag.retrieval.retriever import Retriever

if TYPE_CHECKING:
    from rag.api import Assistant
    from rag.embed.embedder import Embedder


# ---------------------------------------------------------------------------- opening
def open_assistant(
    settings: Settings, embedder: Embedder, llm: str | None, say: Callable[[str], None]
) -> Assistant:
    """An Assistant over ``settings.index_dir`` sharing ``embedder`` (builds the default corpus if needed)."""
    from rag.api import Assistant
    from rag.errors import IndexMismatch, IndexNotFound
    from rag.store.factory import open_store

    try:
        store = open_store(settings)
    except IndexNotFound:
        corpus = Path(settings.corpus_dir)
        if not corpus.is_dir():
            raise
        from ingest.pipeline import ingest

        say(f"no index yet: building it from {corpus}...")
        say(ingest([corpus], settings, progress=False, embedder=embedder, log=say).summary())
        store = open_store(settings)
    built_with = store.manifest.get("embedder", {}).get("fingerprint")
    if built_with and built_with != embedder.fingerprint:
        store.close()
        raise IndexMismatch(
            f"the index at {settings.index_dir} was built with another embedder than "
            f"{settings.embedder!r}; rebuild it with `rag ingest --rebuild`"
        )
    return Assistant(settings, store, embedder, llm=llm)


def prepare_squad(
    config: EvalConfig, settings: Settings, embedder: Embedder, say: Callable[[str], None]
) -> tuple[Path, Settings]:
    """Convert a SQuAD file into ``<out>/corpus.jsonl`` + ``questions.jsonl`` and index the corpus.

    Returns the question file and the settings pointing at the corpus's own index.
    """
    from ingest.pipeline import ingest
    from rag.eval.squad import write_squad

    assert config.out_dir is not None
    conv = write_squad(config.questions, config.out_dir)
    say(f"converted {config.questions}: {conv.summary()}")
    index_dir = Path(config.index_dir) if config.index_dir else config.out_dir / "index"
    squad_settings = settings.replace(index_dir=index_dir)
    report = ingest(
        [conv.corpus_path], squad_settings, fmt="jsonl", progress=False, embedder=embedder, log=say
    )
    say(f"index {index_dir}: {report.summary()}")
    return conv.questions_path, squad_settings


def _english_answers(q: Question) -> list[str]:
    extra = q.meta.get("answers_en") or []
    return [a for a in extra if isinstance(a, str) and a.strip()]


def select_questions(questions: list[Question], config: EvalConfig) -> list[Question]:
    """The questions a run evaluates: its ``split``, a fixed seeded ``sample``, the ``limit``.

    Example:
        >>> from rag.eval.questions import Question
        >>> qs = [Question(f"q{i}", "?", [], [], "zh", i, {"split": "dev" if i % 2 else "test"})
        ...       for i in range(10)]
        >>> cfg = EvalConfig(Path("q.jsonl"), split="test", sample=3)
        >>> [q.qid for q in select_questions(qs, cfg)] == [q.qid for q in select_questions(qs, cfg)]
        True
        >>> len(select_questions(qs, cfg)), {q.meta["split"] for q in select_questions(qs, cfg)}
        (3, {'test'})
    """
    import random

    if config.split is not None:
        questions = [q for q in questions if q.meta.get("split") == config.split]
    if config.sample is not None and config.sample < len(questions):
        keep = set(random.Random(20261201).sample(range(len(questions)), config.sample))
        questions = [q for i, q in enumerate(questions) if i in keep]
    if config.limit is not None:
        questions = questions[: config.limit]
    return questions


def prepare_corpus(
    config: EvalConfig, settings: Settings, embedder: Embedder, say: Callable[[str], None]
) -> Settings:
    """Index ``config.corpus`` (JSONL) into ``--index`` (default ``<out>/index``); its settings.

    An index that is already up to date is kept (the ingest is incremental).
    """
    from ingest.pipeline import ingest

    assert config.out_dir is not None and config.corpus is not None
    index_dir = Path(config.index_dir) if config.index_dir else config.out_dir / "index"
    corpus_settings = settings.replace(index_dir=index_dir)
    report = ingest(
        [Path(config.corpus)],
        corpus_settings,
        fmt="jsonl",
        progress=False,
        embedder=embedder,
        log=say,
    )
    say(f"index {index_dir}: {report.summary()}")
    return corpus_settings


# ---------------------------------------------------------------------------- one question
class QueryVectors:
    """The embedder, remembering the last question's vector so every mode reuses it.

    Comparing three modes would otherwise embed each question three times (the bulk of the
    retrieval time). :attr:`seconds` is what the one real embedding took; it is added to the
    latency of every mode, so the latencies stay those of a user's single-mode query.
    """

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._key: tuple[str, ...] | None = None
        self._vecs: Any = None
        self.seconds = 0.0
        self.hit = False

    def embed_queries(self, texts: Sequence[str]) -> Any:
        key = tuple(texts)
        self.hit = key == self._key
        if not self.hit:
            t = time.perf_counter()
            self._vecs = self.embedder.embed_queries(texts)
            self.seconds = time.perf_counter() - t
            self._key = key
        return self._vecs

    def __getattr__(self, name: str) -> Any:
        return getattr(self.embedder, name)


def _titles(assistant: Assistant) -> dict[str, str]:
    docs = assistant.store.manifest.get("documents")
    if isinstance(docs, dict):
        return {d: str(v.get("title") or d) for d, v in docs.items() if isinstance(v, dict)}
    listing = getattr(assistant.store, "documents", None)
    if callable(listing):
        return {str(d.get("doc_id")): str(d.get("title")) for d in listing() if isinstance(d, dict)}
    return {}


def evaluate_question(
    q: Question,
    assistant: Assistant,
    config: EvalConfig,
    titles: dict[str, str],
    retriever: Retriever | None = None,
) -> dict[str, Any]:
    """Retrieve with every mode (and answer, unless retrieval only); the JSON-ready record.

    ``retriever`` (default: the assistant's) may share one query embedding across the modes
    (see :class:`QueryVectors`); the answer chain always runs exactly as a user's question.
    """
    from rag.answer.guard import check_question

    retriever = retriever or assistant.retriever
    vectors = retriever.embedder if isinstance(retriever.embedder, QueryVectors) else None
    hidden = hidden_documents(q)
    if hidden:  # a near miss: its gold documents are out of reach
        retriever = HidingRetriever(retriever, hidden)
    gold = set(q.gold_doc_ids or [])
    record: dict[str, Any] = {
        "id": q.qid,
        "question": q.question,
        "lang": q.lang,
        "line": q.line,
        "meta": q.meta,
        "gold_doc_ids": q.gold_doc_ids,
        "gold_titles": [titles.get(d, d) for d in q.gold_doc_ids or []],
        "answers": q.answers,
        "retrieval": {},
        "answer": None,
        "error": None,
    }
    try:
        question = check_question(q.question, assistant.settings)
        for mode in config.modes:
            t = time.perf_counter()
            passages = retriever.run(question, k=config.depth, mode=mode).passages
            seconds = time.perf_counter() - t
            if vectors is not None and vectors.hit:
                seconds += vectors.seconds
            ranked = dedupe_docs(p.doc_id for p in passages)[: config.k]
            entry: dict[str, Any] = {
                "docs": ranked,
                "titles": [titles.get(d, d) for d in ranked[:3]],
                "gold_rank": gold_rank(ranked, gold) if gold else None,
                "seconds": seconds,
                "top_dense": passages[0].dense_score if passages else None,
                "top_bm25": passages[0].bm25_score if passages else None,
            }
            if gold:
                entry["scores"] = retrieval_scores(ranked, gold, config.cutoffs(), config.k)
            record["retrieval"][mode] = entry
        if config.answers:
            t = time.perf_counter()
            answer = _ask(q, assistant, config, hidden)
            seconds = time.perf_counter() - t
            cited = [c.doc_id for c in answer.citations]
            scored = bool(q.answers) and not answer.abstained
            record["answer"] = {
                "text": answer.text,
                "abstained": answer.abstained,
                "llm": answer.llm,
                "cited_doc_ids": cited,
                "cited_gold": sum(1 for d in cited if d in gold),
                "passage_doc_ids": [p.doc_id for p in answer.passages],
                "unsupported": list(answer.unsupported),
                "supported": bool(answer.citations) and not answer.unsupported,
                "notice": answer.notice,
                "seconds": seconds,
                "timings": answer.timings,
                "usage": answer.usage,
                "coverage": answer.coverage,
                "unsupported_claims": answer.unsupported_claims,
                "model_text": answer.model_text,
                "claims": answer.claims,
                # what [n] numbered, so that the model's answer can be judged again later
                "passages": [
                    {"chunk_id": p.chunk_id, "doc_id": p.doc_id, "title": p.title, "text": p.text}
                    for p in answer.passages
                ]
                if answer.model_text is not None
                else None,
                "model_refused": "no direct answer" in (answer.notice or ""),
                # answered, but under the visible "low confidence: ..." notice
                "low_confidence": not answer.abstained
                and "low confidence:" in (answer.notice or ""),
                # an abstention on a question with gold answers scores 0; an English question's
                # answer may state the fact in English (``answers_en``) or quote the Chinese
                "contains": contains_answer(answer.text, q.answers + _english_answers(q))
                if scored
                else (False if q.answers else None),
                "f1": answer_f1(answer.text, q.answers) if scored else (0.0 if q.answers else None),
            }
    except Exception as exc:  # one bad question must not lose a long run
        record["error"] = f"{type(exc).__name__}: {exc}"
    return record


def _ask(q: Question, assistant: Assistant, config: EvalConfig, hidden: frozenset[str]) -> Any:
    """The answer a user would get; for a near miss, from a corpus without ``hidden``."""
    if not hidden:
        return assistant.ask(q.question, llm="none" if config.no_llm else None)
    from rag.answer.chain import AnswerChain

    def llm() -> Any:  # called by the chain, which turns an LLM failure into a notice
        return None if config.no_llm else assistant.llm

    with assistant.reading() as retriever:
        chain = AnswerChain(
            HidingRetriever(retriever, hidden), llm, assistant.settings, assistant.answer_tools
        )
        return chain.ask(q.question)


# ---------------------------------------------------------------------------- the run
def run_eval(
    config: EvalConfig,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    log: Callable[[str], None] | None = None,
    progress: bool = False,
    write: bool = True,
) -> EvalResult:
    """Evaluate ``config.questions`` and write the report into ``config.out_dir``.

    Args:
        config: What to run.
        settings: Index, embedder, LLM endpoint (``settings.index_dir`` is the index evaluated,
            unless the input is a SQuAD file or comes with ``config.corpus``: those get their
            own index).
        embedder: An already loaded embedder (else one is loaded).
        log: Progress messages (default: stderr).
        progress: A progress bar on stderr.
        write: Write report.json, report.md and the plots.

    Raises:
        FileNotFoundError: the question file does not exist.
        SquadError: a ``squad`` input is not in SQuAD format.
        StoreError: the index cannot be opened.
    """
    say = log or (lambda msg: print(msg, file=sys.stderr))
    config = config.resolved()
    assert config.out_dir is not None
    if not Path(config.questions).is_file():
        raise FileNotFoundError(f"no question file at {config.questions}")
    config.out_dir.mkdir(parents=True, exist_ok=True)
    if embedder is None:
        from rag.embed.embedder import Embedder

        embedder = Embedder.load(settings, progress=progress)
    question_file = Path(config.questions)
    if config.fmt == "squad":
        question_file, settings = prepare_squad(config, settings, embedder, say)
    elif config.corpus is not None:
        settings = prepare_corpus(config, settings, embedder, say)
    questions, input_errors = load_questions(question_file)
    for err in input_errors:
        say(f"error: {err} (line skipped)")
    questions = select_questions(questions, config)
    if config.near_misses:
        questions = with_near_misses(questions)

    llm = "none" if config.no_llm or not config.answers else None
    assistant = open_assistant(settings, embedder, llm, say)
    started = time.time()
    llm_start: float | None = None
    llm_status: str | None = None
    try:
        titles = _titles(assistant)
        if llm is None:
            llm_start, llm_status = _start_llm(assistant, say)
        records: list[dict[str, Any]] = []
        retriever = Retriever(
            assistant.store, QueryVectors(embedder), assistant.tokenizer, assistant.settings
        )
        bar = _bar(len(questions), progress)
        results = config.out_dir / "results.jsonl"
        done = previous_records(results, config) if config.resume else {}
        if config.resume:
            say(f"resuming: {sum(1 for q in questions if q.qid in done)} questions already done")
        with results.open("w", encoding="utf-8") as sink:
            for i, q in enumerate(questions, start=1):
                record = done.get(q.qid) or evaluate_question(
                    q, assistant, config, titles, retriever
                )
                if record["error"]:
                    say(f"error: question {q.qid} (line {q.line}): {record['error']}")
                records.append(record)
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()
                if bar is not None:
                    bar.update(1)
                elif config.answers and not config.no_llm:
                    say(
                        f"[{i}/{len(questions)}] {q.qid}: {record['answer'] and record['answer']['llm']}"
                    )
        if bar is not None:
            bar.close()
        context = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": time.time() - started,
            "question_file": str(question_file),
            "input_errors": input_errors,
            "titles": titles,
            "index_dir": str(settings.index_dir),
            "manifest": assistant.store.manifest,
            "settings": settings.public_dict(),
            "llm": _llm_info(assistant, config, llm_start, llm_status),
        }
    finally:
        assistant.close()
    summary = summarize(records, config, context)
    result = EvalResult(config, records, summary, config.out_dir, input_errors)
    if write:
        result.files = write_report(result)
    return result


def previous_records(path: Path, config: EvalConfig) -> dict[str, dict[str, Any]]:
    """Records of an earlier run that fit ``config`` (every mode, an answer if needed), by id.

    A line cut short by an interruption, or a question that failed, is evaluated again.
    """
    out: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(r, dict) or r.get("error") or "id" not in r:
            continue
        if not all(m in (r.get("retrieval") or {}) for m in config.modes):
            continue
        if config.answers and not r.get("answer"):
            continue
        out[str(r["id"])] = r
    return out


def _start_llm(assistant: Assistant, say: Callable[[str], None]) -> tuple[float | None, str | None]:
    """Start the embedded model before timing answers (its start-up is reported separately)."""
    from rag.errors import LLMError

    try:
        llm = assistant.llm
    except LLMError as exc:
        say(f"LLM unavailable ({exc}); answers will be extractive")
        return None, f"unavailable: {exc}"
    start = getattr(llm, "start", None)
    if not callable(start):
        return None, None
    say("starting the embedded LLM...")
    t = time.perf_counter()
    try:
        start()
    except LLMError as exc:
        say(f"the embedded LLM did not start ({exc}); answers will be extractive")
    return time.perf_counter() - t, getattr(llm, "status", None)


def _llm_info(
    assistant: Assistant, config: EvalConfig, start: float | None, status: str | None
) -> dict[str, Any]:
    if not config.answers:
        return {"mode": "retrieval only"}
    if config.no_llm:
        return {"mode": "extractive (--no-llm)"}
    s = assistant.settings
    return {
        "mode": "embedded" if s.uses_embedded_llm else "endpoint",
        "model": s.llm_model,
        "base_url": s.llm_base_url,
        "start_seconds": start,
        "status": status,
    }


def _bar(total: int, progress: bool) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="questions", unit="q", file=sys.stderr)
