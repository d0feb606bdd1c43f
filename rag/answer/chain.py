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

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rag.answer.coverage import Coverage, CoveragePolicy, decide_coverage
from rag.answer.extractive import extractive_answer
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
        t0 = time.perf_counter()
        question = check_question(question, self.settings)
        lang = question_language(question)
        timings: dict[str, float] = {}
        llm: LLM | None = None
        notices: list[str] = []
        if use_llm:
            try:
                llm = self.llm_factory()
            except LLMError as exc:
                notices.append(str(exc))

        # 1. standalone question
        standalone, rewritten_by_llm = question, False
        if history and needs_rewrite(question, history):
            yield StreamEvent("status", "rewriting the follow-up question")
            t = time.perf_counter()
            standalone, rewritten_by_llm = self._rewrite(question, history, lang, llm)
            timings["rewrite"] = time.perf_counter() - t

        # 2. retrieve
        yield StreamEvent("status", "retrieving passages")
        retrieval = self.retriever.run(standalone, k, mode)
        passages = retrieval.passages
        timings["retrieve"] = retrieval.timings.get("total", 0.0)
        yield StreamEvent("passages", passages=passages)

        base = dict(question=question, standalone_question=standalone)

        # 3. coverage
        coverage = decide_coverage(standalone, passages, self.retriever.tokenizer, self.policy)
        if not coverage.covered:
            timings["total"] = time.perf_counter() - t0
            yield StreamEvent(
                "answer",
                answer=Answer(
                    text=NOTICES["abstain"][lang],
                    citations=[],
                    passages=passages,
                    abstained=True,
                    llm="none",
                    timings=timings,
                    notice=_coverage_note(coverage),
                    **base,
                ),
            )
            return

        # 4. no LLM: extractive
        if llm is None:
            reason = notices[0] if notices else None
            yield from self._extractive(question, passages, lang, timings, t0, base, reason=reason)
            return

        # 5. prompt + generate
        ask_with = standalone if rewritten_by_llm else question
        safe = [_redacted(p) for p in passages]
        prompt = self.prompts.build(ask_with, safe, None if rewritten_by_llm else history, lang)
        given = [passages[safe.index(p)] for p in prompt.passages]
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
                    timings["first_token"] = time.perf_counter() - t0
                pieces.append(piece)
                yield StreamEvent("token", piece)
        except LLMError as exc:
            timings["generate"] = time.perf_counter() - t
            yield from self._extractive(
                question, passages, lang, timings, t0, base, reason=str(exc), llm_name=llm.name
            )
            return
        timings["generate"] = time.perf_counter() - t
        raw = "".join(pieces).strip()
        usage = state.usage or {"prompt_tokens": prompt.tokens, "completion_tokens": len(pieces)}
        if not raw:
            yield from self._extractive(
                question,
                passages,
                lang,
                timings,
                t0,
                base,
                reason="the LLM returned an empty answer",
                llm_name=llm.name,
                usage=usage,
            )
            return

        # 6. verify
        t = time.perf_counter()
        checked = verify_answer(raw, prompt.passages, lang, self._similarity)
        timings["verify"] = time.perf_counter() - t
        if checked.dropped_numbers:
            nums = ", ".join(f"[{n}]" for n in sorted(set(checked.dropped_numbers)))
            notices.append(f"removed citation {nums}: no such passage")
        if checked.abstained:
            # The model found no answer although retrieval looked relevant: say so, and show
            # the closest sentences (cited) so the reader can judge.
            extract = extractive_answer(
                question,
                [_redacted(p) for p in passages],
                self.retriever.tokenizer,
                similarity=self._question_similarity,
            )
            text = (
                NOTICES["no_direct"][lang] + extract.text
                if extract.text
                else (NOTICES["abstain"][lang])
            )
            timings["total"] = time.perf_counter() - t0
            yield StreamEvent(
                "answer",
                answer=Answer(
                    text=text,
                    citations=[passages[n - 1] for n in extract.cited],
                    passages=passages,
                    abstained=True,
                    llm=llm.name,
                    timings=timings,
                    usage=usage,
                    notice="the model found no direct answer in the passages",
                    **base,
                ),
            )
            return
        if not checked.cited or checked.support < 0.5:
            yield from self._extractive(
                question,
                passages,
                lang,
                timings,
                t0,
                base,
                reason="the model's answer was not supported by the passages",
                llm_name=llm.name,
                usage=usage,
            )
            return
        if checked.unsupported:
            notices.append(
                f"{len(checked.unsupported)} sentence(s) of the answer are not supported by any "
                "passage and carry no citation"
            )
        timings["total"] = time.perf_counter() - t0
        yield StreamEvent(
            "answer",
            answer=Answer(
                text=checked.text,
                citations=[given[n - 1] for n in checked.cited],
                passages=given,
                abstained=False,
                llm=llm.name,
                timings=timings,
                notice="; ".join(notices) or None,
                usage=usage,
                unsupported=checked.unsupported,
                finish_reason=state.finish_reason,
                **base,
            ),
        )

    # ------------------------------------------------------------------ steps
    def _rewrite(
        self, question: str, history: list[dict[str, str]], lang: str, llm: LLM | None
    ) -> tuple[str, bool]:
        fallback = heuristic_rewrite(question, history)
        if llm is None:
            return fallback, False
        try:
            done = llm.complete(
                rewrite_messages(question, history, lang), max_tokens=64, temperature=0.0
            )
        except LLMError:
            return fallback, False
        rewritten = clean_rewrite(done.text, fallback)
        return rewritten, rewritten != fallback

    def _similarity(self, sentences: list[str], passages: list[str]) -> list[list[float]]:
        emb = self.retriever.embedder
        s = emb.embed_queries(sentences)
        p = emb.embed_passages(passages)
        return (s @ p.T).tolist()

    def _question_similarity(self, question: str, sentences: list[str]) -> np.ndarray:
        emb = self.retriever.embedder
        q = emb.embed_queries([question])[0]
        return emb.embed_passages(sentences) @ q

    def _extractive(
        self,
        question: str,
        passages: list[Passage],
        lang: str,
        timings: dict[str, float],
        t0: float,
        base: dict[str, str],
        reason: str | None = None,
        llm_name: str | None = None,
        usage: dict[str, int] | None = None,
    ) -> Iterator[StreamEvent]:
        if reason:
            yield StreamEvent("notice", reason)
        safe = [_redacted(p) for p in passages]
        extract = extractive_answer(
            question, safe, self.retriever.tokenizer, similarity=self._question_similarity
        )
        text = extract.text or NOTICES["abstain"][lang]
        if reason:
            text = f"{text}\n{NOTICES['fallback'][lang].format(reason=reason)}"
        timings["total"] = time.perf_counter() - t0
        yield StreamEvent(
            "answer",
            answer=Answer(
                text=text,
                citations=[passages[n - 1] for n in extract.cited],
                passages=passages,
                abstained=not extract.text,
                llm="extractive",
                timings=timings,
                notice=reason,
                usage=usage or {},
                **base,
            ),
        )


def _redacted(p: Passage) -> Passage:
    text = redact_instructions(p.text)
    if text == p.text:
        return p
    return Passage(
        text=text,
        doc_id=p.doc_id,
        title=p.title,
        source=p.source,
        chunk_id=p.chunk_id,
        score=p.score,
        dense_score=p.dense_score,
        bm25_score=p.bm25_score,
        rank=p.rank,
        start=p.start,
        end=p.end,
    )


def _coverage_note(c: Coverage) -> str:
    return (
        f"not covered: {c.reason} (best similarity {c.top_dense:.3f}, "
        f"{c.overlap:.0%} of the question's words found)"
    )
