"""The answer chain: rewrite -> retrieve -> decide coverage -> prompt -> generate -> verify.

The LLM is never trusted blindly: the chain abstains without calling it when the retrieval
evidence says the articles don't cover the question, checks every citation of its answer, and
falls back to an extractive answer (with a notice) when the LLM is down, slow, empty, or says
things the passages do not support.

Example:
    >>> from rag import Assistant
    >>> chain = Assistant.open().chain()                         # doctest: +SKIP
    >>> for event in chain.stream("DDIM 需要重新训练模型吗?"):     # doctest: +SKIP
    ...     print(event.kind, event.text)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rag.answer.coverage import Coverage, CoveragePolicy, decide_coverage
from rag.answer.extractive import Extract, extractive_answer
from rag.answer.guard import check_question
from rag.answer.injection import redact_instructions
from rag.answer.prompt import PromptBuilder
from rag.answer.rewrite import clean_rewrite, heuristic_rewrite, needs_rewrite, rewrite_messages
from rag.answer.verify import verify_answer
from rag.config import Settings
from rag.errors import LLMError
from rag.llm.client import LLM, StreamState
from rag.retrieval.retriever import Retriever
from rag.schema import Answer, Passage
from rag.text.language import question_language

EventKind = Literal["status", "passages", "token", "notice", "answer"]

NOTICES = {
    "fallback": {
        "zh": "（{reason}；以下是文章中最相关的原句。）",
        "en": "({reason}; showing the most relevant sentences of the articles instead.)",
    },
    "abstain": {
        "zh": "文章中没有涉及这个问题。以下是最接近的段落，供参考。",
        "en": "The articles don't cover this. The nearest passages are listed below.",
    },
    "no_direct": {
        "zh": "文章没有直接回答这个问题。最相关的原文：",
        "en": "The articles don't answer this directly. The most relevant sentences:",
    },
}


@dataclass
class StreamEvent:
    """One step of a streamed answer.

    ``status``: what the chain is doing; ``passages``: the retrieved passages (sent before any
    token); ``token``: a piece of the LLM's raw answer; ``notice``: something the user should
    know (fallback, dropped citations); ``answer``: the final, verified :class:`Answer`.
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
    timings: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


@dataclass
class _Draft:
    """The LLM's raw answer, the passages it numbered, and what the stream reported."""

    raw: str
    numbered: list[Passage]  # the (redacted) passages of the prompt, [n] = numbered[n-1]
    given: list[Passage]  # the same passages as retrieved
    usage: dict[str, int]
    finish_reason: str | None


class AnswerChain:
    """Answer questions from retrieved passages.

    Args:
        retriever: Finds passages.
        llm_factory: Returns the LLM (started lazily), or None for extractive answers only.
        settings: Budgets, generation settings.
        policy: Coverage thresholds.
    """

    def __init__(
        self,
        retriever: Retriever,
        llm_factory: Callable[[], LLM | None],
        settings: Settings,
        policy: CoveragePolicy | None = None,
    ) -> None:
        self.retriever = retriever
        self.llm_factory = llm_factory
        self.settings = settings
        self.policy = policy or CoveragePolicy()
        self.prompts = PromptBuilder(settings.context_tokens, settings.history_tokens)

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
        """Yield status, passages, tokens and notices, then the final answer.

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
        coverage = decide_coverage(
            turn.standalone, turn.passages, self.retriever.tokenizer, self.policy
        )
        if not coverage.covered:
            text = NOTICES["abstain"][turn.lang]
            yield self._answer(turn, text, [], True, "none", _coverage_note(coverage))
        elif turn.llm is None:
            yield from self._extractive(turn, turn.notices[0] if turn.notices else None)
        else:
            draft = yield from self._generate(turn, turn.llm)
            if draft is not None:
                yield from self._verify(turn, turn.llm, draft)

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
                turn.standalone = clean_rewrite(done.text, fallback)
                turn.rewritten_by_llm = turn.standalone != fallback
        turn.timings["rewrite"] = time.perf_counter() - t

    def _retrieve(self, turn: _Turn, k: int | None, mode: str | None) -> None:
        retrieval = self.retriever.run(turn.standalone, k, mode)
        turn.passages = retrieval.passages
        turn.timings["retrieve"] = retrieval.timings.get("total", 0.0)

    def _generate(self, turn: _Turn, llm: LLM) -> Generator[StreamEvent, None, _Draft | None]:
        """Prompt the LLM and stream its tokens; on failure, the extractive answer instead."""
        ask_with = turn.standalone if turn.rewritten_by_llm else turn.question
        safe = [_redacted(p) for p in turn.passages]
        history = None if turn.rewritten_by_llm else turn.history
        prompt = self.prompts.build(ask_with, safe, history, turn.lang)
        given = [turn.passages[safe.index(p)] for p in prompt.passages]
        yield StreamEvent("status", f"asking {llm.name}")
        state = StreamState()
        pieces: list[str] = []
        t = time.perf_counter()
        try:
            for piece in llm.stream(
                prompt.messages,
                max_tokens=self.settings.llm_max_tokens,
                temperature=self.settings.llm_temperature,
                state=state,
            ):
                if not pieces:
                    turn.timings["first_token"] = time.perf_counter() - turn.t0
                pieces.append(piece)
                yield StreamEvent("token", piece)
        except LLMError as exc:
            turn.timings["generate"] = time.perf_counter() - t
            yield from self._extractive(turn, str(exc))
            return None
        turn.timings["generate"] = time.perf_counter() - t
        raw = "".join(pieces).strip()
        usage = state.usage or {"prompt_tokens": prompt.tokens, "completion_tokens": len(pieces)}
        if not raw:
            yield from self._extractive(turn, "the LLM returned an empty answer", usage)
            return None
        return _Draft(raw, prompt.passages, given, usage, state.finish_reason)

    def _verify(self, turn: _Turn, llm: LLM, draft: _Draft) -> Iterator[StreamEvent]:
        """Check the draft's citations and support; fall back when the passages disagree."""
        t = time.perf_counter()
        checked = verify_answer(draft.raw, draft.numbered, turn.lang, self._similarity)
        turn.timings["verify"] = time.perf_counter() - t
        if checked.dropped_numbers:
            nums = ", ".join(f"[{n}]" for n in sorted(set(checked.dropped_numbers)))
            turn.notices.append(f"removed citation {nums}: no such passage")
        if checked.abstained:
            # The model found no answer although retrieval looked relevant: say so, and show
            # the closest sentences (cited) so the reader can judge.
            extract = self._extract(turn)
            text = NOTICES["abstain"][turn.lang]
            if extract.text:
                text = NOTICES["no_direct"][turn.lang] + extract.text
            cited = [turn.passages[n - 1] for n in extract.cited]
            notice = "the model found no direct answer in the passages"
            yield self._answer(turn, text, cited, True, llm.name, notice, usage=draft.usage)
            return
        if not checked.cited or checked.support < 0.5:
            reason = "the model's answer was not supported by the passages"
            yield from self._extractive(turn, reason, draft.usage)
            return
        if checked.unsupported:
            turn.notices.append(
                f"{len(checked.unsupported)} sentence(s) of the answer are not supported by any "
                "passage and carry no citation"
            )
        yield self._answer(
            turn,
            checked.text,
            [draft.given[n - 1] for n in checked.cited],
            False,
            llm.name,
            "; ".join(turn.notices) or None,
            passages=draft.given,
            usage=draft.usage,
            unsupported=checked.unsupported,
            finish_reason=draft.finish_reason,
        )

    def _extractive(
        self, turn: _Turn, reason: str | None = None, usage: dict[str, int] | None = None
    ) -> Iterator[StreamEvent]:
        """The passages' own best sentences, cited (no LLM, or the LLM failed: ``reason``)."""
        if reason:
            yield StreamEvent("notice", reason)
        extract = self._extract(turn)
        text = extract.text or NOTICES["abstain"][turn.lang]
        if reason:
            text = f"{text}\n{NOTICES['fallback'][turn.lang].format(reason=reason)}"
        cited = [turn.passages[n - 1] for n in extract.cited]
        yield self._answer(turn, text, cited, not extract.text, "extractive", reason, usage=usage)

    def _extract(self, turn: _Turn) -> Extract:
        safe = [_redacted(p) for p in turn.passages]
        return extractive_answer(
            turn.question, safe, self.retriever.tokenizer, similarity=self._question_similarity
        )

    def _answer(
        self,
        turn: _Turn,
        text: str,
        citations: list[Passage],
        abstained: bool,
        llm: str,
        notice: str | None,
        *,
        passages: list[Passage] | None = None,
        usage: dict[str, int] | None = None,
        unsupported: list[int] | None = None,
        finish_reason: str | None = None,
    ) -> StreamEvent:
        """The final event: every :class:`Answer` of the chain is built here."""
        turn.timings["total"] = time.perf_counter() - turn.t0
        answer = Answer(
            text=text,
            citations=citations,
            passages=turn.passages if passages is None else passages,
            abstained=abstained,
            llm=llm,
            timings=turn.timings,
            notice=notice,
            question=turn.question,
            standalone_question=turn.standalone,
            usage=usage or {},
            unsupported=unsupported or [],
            finish_reason=finish_reason,
        )
        return StreamEvent("answer", answer=answer)

    def _similarity(self, sentences: list[str], passages: list[str]) -> list[list[float]]:
        emb = self.retriever.embedder
        s = emb.embed_queries(sentences)
        p = emb.embed_passages(passages)
        return (s @ p.T).tolist()

    def _question_similarity(self, question: str, sentences: list[str]) -> np.ndarray:
        emb = self.retriever.embedder
        q = emb.embed_queries([question])[0]
        return emb.embed_passages(sentences) @ q


def _redacted(p: Passage) -> Passage:
    """``p`` with instruction-like sentences replaced by a marker (the same object if none)."""
    text = redact_instructions(p.text)
    return p if text == p.text else dataclasses.replace(p, text=text)


def _coverage_note(c: Coverage) -> str:
    return (
        f"not covered: {c.reason} (best similarity {c.top_dense:.3f}, "
        f"{c.overlap:.0%} of the question's words found)"
    )
