"""The answer chain: rewrite -> retrieve -> evidence -> coverage -> draft -> generate -> check.

The LLM is never trusted blindly. The chain picks the few sentences that answer the question
(:mod:`rag.answer.evidence`), decides from them whether the articles cover it at all
(:mod:`rag.answer.coverage`, a calibrated probability with a low-confidence band), shows an
extractive draft at once, asks the model with a short prompt, and checks every clause the model
writes against the passages (:mod:`rag.answer.claims`): unsupported clauses are removed with a
notice, wrong citations repaired, and when nothing supported is left the extractive answer
stands in (or, when coverage was already doubtful, the chain abstains).

Example:
    >>> from rag import Assistant
    >>> chain = Assistant.open().chain()                         # doctest: +SKIP
    >>> for event in chain.stream("DDIM 相比 DDPM 采样快多少倍?"):  # doctest: +SKIP
    ...     print(event.kind, event.text)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rag.answer.budget import TokenBudget
from rag.answer.claims import CheckedAnswer, check_answer
from rag.answer.contradicted import CONTRADICTED, contradicting_extract
from rag.answer.coverage import Coverage, decide_coverage
from rag.answer.drift import DRIFTED, drifted_from
from rag.answer.evaluative import UNJUDGED, unmet_figure, unmet_judgement, unmet_reason
from rag.answer.evidence import EvidenceSet, usable_passages
from rag.answer.extractive import Extract, extractive_answer
from rag.answer.guard import check_question
from rag.answer.injection import redacted
from rag.answer.judge import judge
from rag.answer.notices import NOTICES, REASONS_ZH, fallback_reason
from rag.answer.off_point import OFF_POINT, off_point
from rag.answer.prompt import PromptBuilder
from rag.answer.quote import with_quote
from rag.answer.rewrite import clean_rewrite, heuristic_rewrite, needs_rewrite, rewrite_messages
from rag.answer.sentence_cap import STOP_NOTICES, stop_at
from rag.answer.tools import AnswerTools
from rag.answer.warmup import prime_prompt_cache
from rag.config import Settings
from rag.errors import LLMError
from rag.llm.client import LLM, StreamState
from rag.retrieval.retriever import Retriever
from rag.schema import Answer, Passage
from rag.text.language import question_language

EventKind = Literal["status", "passages", "draft", "token", "notice", "answer"]


@dataclass
class StreamEvent:
    """One step of a streamed answer.

    ``status``: what the chain is doing; ``passages``: the retrieved passages (before anything
    else); ``draft``: the extractive answer, shown at once while the model reads (``answer``
    holds it as an :class:`Answer`, ``passages`` the passages its ``[n]`` and the model's
    tokens number); ``token``: a piece of the LLM's raw answer; ``notice``: something the
    user should know (fallback, removed clauses); ``answer``: the final, checked
    :class:`Answer`.
    """

    kind: EventKind
    text: str = ""
    passages: list[Passage] = field(default_factory=list)
    answer: Answer | None = None


History = list[dict[str, str]]


@dataclass
class _Turn:
    """One question on its way through the chain: what every step reads and adds to."""

    question: str
    lang: str
    history: History | None
    t0: float
    standalone: str = ""
    rewritten_by_llm: bool = False
    llm: LLM | None = None
    passages: list[Passage] = field(default_factory=list)
    query_vector: np.ndarray | None = None
    sounds: dict[str, list[str]] = field(default_factory=dict)  # pinyin words (Retrieval.sounds)
    offsets: list[float] | None = None  # per passage: the language-bias correction (Retrieval)
    usable: list[bool] | None = None  # the passages that may give evidence (None: all)
    evidence: EvidenceSet | None = None
    numbered: list[Passage] = field(default_factory=list)  # [n] = numbered[n-1]
    coverage: Coverage | None = None
    extract: Extract | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    checked: CheckedAnswer | None = None  # the claim check of the model's answer, when it ran
    model_text: str | None = None  # the model's answer as written


@dataclass
class _Reply:
    """The LLM's raw answer and what the stream reported."""

    raw: str
    usage: dict[str, int]
    finish_reason: str | None


class AnswerChain:
    """Answer questions from retrieved passages.

    Args:
        retriever: Finds passages.
        llm_factory: Returns the LLM (started lazily), or None for extractive answers only.
        settings: Budgets, generation settings, ``abstain_threshold``.
        tools: Shared glossary, models and sentence-vector cache (one per assistant).
    """

    def __init__(
        self,
        retriever: Retriever,
        llm_factory: Callable[[], LLM | None],
        settings: Settings,
        tools: AnswerTools | None = None,
    ) -> None:
        self.retriever = retriever
        self.llm_factory = llm_factory
        self.settings = settings
        self.budget = TokenBudget()
        self.tools = tools or AnswerTools(
            retriever.tokenizer,
            retriever.embedder.embed_queries,
            retriever.embedder.embed_passages,
        )
        self.prompts = PromptBuilder(settings.context_tokens, settings.history_tokens, self.budget)

    # ------------------------------------------------------------------ public
    def ask(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        k: int | None = None,
        mode: str | None = None,
        use_llm: bool = True,
    ) -> Answer:
        """The final answer (runs :meth:`stream` to the end)."""
        answer = None
        for event in self.stream(question, history, k, mode, use_llm):
            if event.kind == "answer":
                answer = event.answer
        assert answer is not None  # stream always ends with an answer
        return answer

    def stream(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        k: int | None = None,
        mode: str | None = None,
        use_llm: bool = True,
    ) -> Iterator[StreamEvent]:
        """Yield status, passages, the draft, tokens and notices, then the final answer.

        Raises:
            QuestionError: the question is empty or too long (before anything else happens).
        """
        turn = self._start(question, history, use_llm)
        if history and needs_rewrite(turn.question, history):
            yield StreamEvent("status", "rewriting the follow-up question")
            self._standalone(turn)
        yield StreamEvent("status", "retrieving passages")
        self._retrieve(turn, k, mode)
        yield StreamEvent("passages", passages=turn.passages)
        coverage = self._evidence_and_coverage(turn)
        if not coverage.covered:
            text = NOTICES["abstain"][turn.lang]
            yield self._answer(turn, text, [], True, "none", coverage.note())
            return
        yield self._draft(turn)
        if turn.llm is None:
            yield from self._extractive(turn, turn.notices[0] if turn.notices else None)
            return
        reply = yield from self._generate(turn, turn.llm)
        if reply is not None:
            yield from self._check(turn, turn.llm, reply)

    # ------------------------------------------------------------------ steps
    def _start(self, question: str, history: History | None, use_llm: bool) -> _Turn:
        """Check the question and get the LLM (its failure becomes a notice, not an error)."""
        t0 = time.perf_counter()
        question = check_question(question, self.settings)
        turn = _Turn(question, question_language(question), history, t0, standalone=question)
        if use_llm:
            try:
                turn.llm = self.llm_factory()
            except LLMError as exc:
                turn.notices.append(str(exc))
        return turn

    def _standalone(self, turn: _Turn) -> None:
        """Rewrite a follow-up as a standalone question (by the LLM, else a heuristic)."""
        assert turn.history is not None
        t = time.perf_counter()
        fallback = heuristic_rewrite(turn.question, turn.history)
        turn.standalone = fallback
        if turn.llm is not None:
            messages = rewrite_messages(turn.question, turn.history, turn.lang)
            try:
                done = turn.llm.complete(messages, max_tokens=64, temperature=0.0)
            except LLMError:
                pass
            else:
                turn.standalone = clean_rewrite(done.text, fallback, turn.question)
                turn.rewritten_by_llm = turn.standalone != fallback
        turn.timings["rewrite"] = time.perf_counter() - t

    def _retrieve(self, turn: _Turn, k: int | None, mode: str | None) -> None:
        retrieval = self.retriever.run(turn.standalone, k, mode)
        turn.passages = retrieval.passages
        turn.query_vector = retrieval.query_vector
        turn.sounds = retrieval.sounds
        turn.offsets = retrieval.offsets()
        gap = self.settings.evidence_passage_gap
        turn.usable = usable_passages(turn.passages, retrieval.fusion.get("method"), gap)
        self.tools.selector.remember(self.retriever.sentence_vectors(retrieval))
        turn.timings["retrieve"] = retrieval.timings.get("total", 0.0)

    def _evidence_and_coverage(self, turn: _Turn) -> Coverage:
        """Choose the evidence sentences, then decide whether they cover the question."""
        t = time.perf_counter()
        turn.evidence = self.tools.selector.select(
            turn.standalone,
            turn.passages,
            turn.query_vector,
            max_sentences=self.settings.evidence_sentences or None,
            budget_tokens=self.settings.evidence_tokens,
            count_tokens=self.budget.count,
            glossary=self.tools.glossary,
            usable=turn.usable,
            sounds=turn.sounds or None,
            offsets=turn.offsets,
        )
        turn.numbered = turn.passages  # [n] is the n-th passage as retrieved
        turn.timings["evidence"] = time.perf_counter() - t
        t = time.perf_counter()
        turn.coverage = decide_coverage(
            turn.standalone,
            turn.passages,
            self.retriever.tokenizer,
            model=self.tools.coverage_model,
            evidence=turn.evidence,
            abstain_below=self.settings.abstain_threshold,
        )
        turn.timings["coverage"] = time.perf_counter() - t
        return turn.coverage

    def _draft(self, turn: _Turn) -> StreamEvent:
        """The extractive answer, at once: the reader has something while the model reads."""
        assert turn.evidence is not None
        turn.extract = extractive_answer(turn.evidence)
        turn.timings["draft"] = time.perf_counter() - turn.t0
        # no draft that does not answer (YOLO's core idea for "YOLO 的缺点是什么?")
        text = "" if self._unmet(turn) else turn.extract.text
        cited = self._cited(turn) if text else []
        draft = self._answer(turn, text, cited, False, "extractive", None)
        assert draft.answer is not None
        return StreamEvent("draft", text, list(turn.numbered), draft.answer)

    def _generate(self, turn: _Turn, llm: LLM) -> Generator[StreamEvent, None, _Reply | None]:
        """Prompt the LLM and stream its tokens; on failure, the extractive answer instead."""
        assert turn.evidence is not None
        ask_with = turn.standalone if turn.rewritten_by_llm else turn.question
        history = None if turn.rewritten_by_llm else turn.history
        if self.settings.evidence_sentences:
            prompt = self.prompts.build(
                ask_with, turn.passages, history, turn.lang, turn.evidence.chosen
            )
        else:
            safe = [redacted(p) for p in turn.passages]
            prompt = self.prompts.build(ask_with, safe, history, turn.lang)
            turn.numbered = [turn.passages[safe.index(p)] for p in prompt.passages]
        yield StreamEvent("status", f"asking {llm.name}")
        prime_prompt_cache(llm, self.prompts, turn.lang)  # restored from disk, once per process
        uncovered = self._judge(turn, llm, prompt.messages)
        if uncovered:
            yield self._answer(turn, NOTICES["abstain"][turn.lang], [], True, llm.name, uncovered)
            return None
        state = StreamState()
        t = time.perf_counter()
        try:
            raw, n_pieces = yield from self._tokens(turn, llm, prompt.messages, state)
        except LLMError as exc:
            turn.timings["generate"] = time.perf_counter() - t
            yield from self._extractive(turn, str(exc))
            return None
        turn.timings["generate"] = time.perf_counter() - t
        raw = raw.strip()
        usage = state.usage or {"prompt_tokens": prompt.tokens, "completion_tokens": n_pieces}
        if not raw:
            yield from self._extractive(turn, "the LLM returned an empty answer", usage)
            return None
        return _Reply(raw, usage, state.finish_reason)

    def _tokens(
        self, turn: _Turn, llm: LLM, messages: list[dict[str, str]], state: StreamState
    ) -> Generator[StreamEvent, None, tuple[str, int]]:
        """Stream the model's tokens; stop it where it falls into a loop (``repetition.py``) or
        starts a sentence past the cap (``sentence_cap.py``)."""
        text, n = "", 0
        stream = llm.stream(
            messages,
            max_tokens=self.settings.llm_max_tokens,
            temperature=self.settings.llm_temperature,
            state=state,
        )
        for piece in stream:
            if not n:
                turn.timings["first_token"] = time.perf_counter() - turn.t0
            n += 1
            text += piece
            yield StreamEvent("token", piece)
            stop = stop_at(text, self.settings.answer_max_sentences)
            if stop is not None:
                close = getattr(stream, "close", None)
                if close is not None:  # the server stops generating when the stream closes
                    close()
                cut, state.finish_reason = stop
                turn.notices.extend(STOP_NOTICES.get(state.finish_reason, []))
                return text[:cut], n
        return text, n

    def _judge(self, turn: _Turn, llm: LLM, messages: list[dict[str, str]]) -> str | None:
        """In the low-confidence band, the model's yes/no on the sources; a notice if "no"."""
        assert turn.coverage is not None
        limit = self.settings.judge_threshold
        if turn.coverage.confident or limit <= 0:
            return None
        t = time.perf_counter()
        p = judge(llm, messages, turn.lang)
        turn.timings["judge"] = time.perf_counter() - t
        if p is None or p >= limit:
            return None
        return (
            f"not covered: the model found no answer in the sources (P(yes)={p:.2f}, "
            f"below {limit:.2f}); {turn.coverage.note()}"
        )

    def _check(self, turn: _Turn, llm: LLM, reply: _Reply) -> Iterator[StreamEvent]:
        """Check every clause; keep what the passages support, else fall back or abstain."""
        assert turn.coverage is not None
        t = time.perf_counter()
        checked = check_answer(
            reply.raw,
            [redacted(p) for p in turn.numbered],
            question=turn.standalone,
            lang=turn.lang,
            terms=self.retriever.tokenizer,
            glossary=self.tools.claims_glossary,
            similarity=self.tools.similarity,
        )
        turn.timings["verify"] = time.perf_counter() - t
        turn.model_text, turn.checked = reply.raw, checked
        figure = unmet_figure(turn.standalone, checked.text)  # "how many" and no number
        cited = [turn.numbered[n - 1].text for n in checked.cited]
        unjudged = bool(cited) and unmet_judgement(turn.standalone, cited) is not None
        terms = None if turn.coverage.confident or not turn.evidence else turn.evidence.terms
        drift = drifted_from(terms, turn.numbered, checked.cited)  # off the question's subject
        why = DRIFTED if drift else UNJUDGED if unjudged else None
        plain = not (checked.abstained or checked.empty or checked.restated or figure)
        shown = turn.coverage.confident or turn.coverage.likely  # the draft would be shown
        if plain and shown and not why and not self._unmet(turn):  # beside the question's point?
            missed = off_point(turn.evidence, checked, turn.extract, turn.numbered, turn.passages)
            why = OFF_POINT if missed else None
        if not plain or why:
            yield from self._no_answer(turn, llm, reply, checked, why)
            return
        if checked.notice:
            turn.notices.append(checked.notice)
        if not turn.coverage.confident:
            turn.notices.insert(0, turn.coverage.note())
        same_numbers = turn.numbered is turn.passages  # the draft numbers passages as [n] does
        quoted = with_quote(checked, turn.extract if same_numbers else None, turn.lang)
        text, cited = quoted.text, quoted.cited
        yield self._answer(
            turn,
            text,
            [turn.numbered[n - 1] for n in cited],
            False,
            llm.name,
            "; ".join(turn.notices) or None,
            usage=reply.usage,
            finish_reason=reply.finish_reason,
            checked=checked,
        )

    def _no_answer(
        self, turn: _Turn, llm: LLM, reply: _Reply, checked: CheckedAnswer, why: str | None = None
    ) -> Iterator[StreamEvent]:
        """The model found nothing (or nothing it wrote holds): trust the coverage decision.

        After a confident "covered", the extractive answer is the answer (with a notice); in
        the low-confidence band, below an even chance (:data:`~rag.answer.coverage.LIKELY`)
        the chain abstains, above it the extract is shown under the low-confidence notice (the
        check is weakest on English questions over Chinese text). A question that judges (缺点)
        or names (DPO) what the extract's passages never speak of abstains (`evaluative`).
        """
        assert turn.coverage is not None
        why = why or fallback_reason(checked)  # (given: drifted off the question, `_check`)
        against = contradicting_extract(checked, turn.numbered, turn.passages, turn.evidence)
        if against is not None:  # the sentence that says otherwise, not the draft's
            why, turn.extract = CONTRADICTED, against
        # "YOLO 的缺点是什么?" over a YOLO article that names no drawback: its core idea is no answer
        unmet = unmet_judgement(turn.standalone, [p.text for p in self._cited(turn)])
        likely = turn.coverage.confident or turn.coverage.likely
        if likely and turn.extract and turn.extract.text and not unmet:
            yield from self._extractive(turn, why, reply.usage)
            return
        judged = f"not covered: the passages say nothing of '{unmet}'" if unmet else ""
        notice = f"{judged or turn.coverage.note()}; {why}"
        text = NOTICES["abstain"][turn.lang]
        yield self._answer(
            turn, text, [], True, llm.name, notice, usage=reply.usage, checked=checked
        )

    def _extractive(
        self, turn: _Turn, reason: str | None = None, usage: dict[str, int] | None = None
    ) -> Iterator[StreamEvent]:
        """The evidence's own best sentences, cited (no LLM, or the LLM failed: ``reason``)."""
        assert turn.coverage is not None
        if reason:
            yield StreamEvent("notice", reason)
        extract = turn.extract or Extract("", [])
        why = self._unmet(turn)
        if why:
            notice, no = "; ".join(n for n in (why, reason) if n), NOTICES["abstain"][turn.lang]
            yield self._answer(turn, no, [], True, "extractive", notice, usage=usage)
            return
        text = extract.text or NOTICES["abstain"][turn.lang]
        if reason:
            shown = REASONS_ZH.get(reason, reason) if turn.lang == "zh" else reason
            text = f"{text}\n{NOTICES['fallback'][turn.lang].format(reason=shown)}"
        low = None if turn.coverage.confident else turn.coverage.note()
        notice = "; ".join(n for n in (reason, low) if n) or None
        yield self._answer(
            turn, text, self._cited(turn), not extract.text, "extractive", notice, usage=usage
        )

    # ------------------------------------------------------------------ helpers
    def _unmet(self, turn: _Turn) -> str:
        """Why the extract does not answer the question ("not covered: …"), or ""."""
        text = turn.extract.text if turn.extract else ""
        return unmet_reason(turn.standalone, text, self._cited(turn), turn.passages)

    def _cited(self, turn: _Turn) -> list[Passage]:
        return [turn.passages[n - 1] for n in (turn.extract.cited if turn.extract else [])]

    def _answer(
        self,
        turn: _Turn,
        text: str,
        citations: list[Passage],
        abstained: bool,
        llm: str,
        notice: str | None,
        *,
        usage: dict[str, int] | None = None,
        finish_reason: str | None = None,
        checked: CheckedAnswer | None = None,
    ) -> StreamEvent:
        """The final event: every :class:`Answer` of the chain is built here.

        ``passages`` are what ``[n]`` numbers: the retrieved ones (whole-passage prompts: the
        ones that fit the budget).
        """
        turn.timings["total"] = time.perf_counter() - turn.t0
        # (an answer the check removed whole falls back to the extract: still say what went)
        checked = checked or turn.checked
        removed = checked.removed if checked else []
        answer = Answer(
            text=text,
            citations=citations,
            passages=list(turn.numbered or turn.passages),
            abstained=abstained,
            llm=llm,
            timings=dict(turn.timings),
            notice=notice,
            question=turn.question,
            standalone_question=turn.standalone,
            usage=usage or {},
            finish_reason=finish_reason,
            coverage=round(turn.coverage.probability, 4) if turn.coverage else None,
            unsupported_claims=[{"text": c.text, "reason": c.reason} for c in removed],
            model_text=turn.model_text,
            claims=[c.verdict() for c in turn.checked.clauses] if turn.checked else [],
        )
        return StreamEvent("answer", answer=answer)
