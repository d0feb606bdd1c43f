"""The model's yes/no check in the low-confidence band (rag/answer/judge.py), over real HTTP."""

from __future__ import annotations

import dataclasses

import pytest

from rag.answer.chain import AnswerChain
from rag.answer.coverage import CoverageModel
from rag.answer.judge import judge, judge_messages
from rag.answer.tools import AnswerTools
from rag.llm.client import LLM
from tests.scripted_llm import Reply

QUESTION = "DDIM 相比 DDPM 采样快多少倍?"
ANSWER = "DDIM 采样提速 10~50 倍 [1]。"


def chain(assistant, llm: LLM, *, band: bool, threshold: float = 0.5) -> AnswerChain:
    """A chain whose coverage model puts every covered question in the low-confidence band
    (``band``), or the packaged one (the DDIM question is then confidently covered)."""
    model = CoverageModel.load()
    if band:
        model = dataclasses.replace(model, confident_above=0.99999)
    tools = AnswerTools(
        assistant.retriever.tokenizer,
        assistant.answer_tools.embed_queries,
        assistant.answer_tools.embed_passages,
        coverage_model=model,
    )
    settings = assistant.settings.replace(judge_threshold=threshold)
    return AnswerChain(assistant.retriever, lambda: llm, settings, tools)


def test_a_no_from_the_model_in_the_band_abstains_before_it_answers(assistant, server, llm) -> None:
    server.script(Reply("否", top={"否": 0.7, "是": 0.3}))
    answer = chain(assistant, llm, band=True).ask(QUESTION)
    assert answer.abstained and "没有涉及" in answer.text and not answer.citations
    assert "no answer in the sources (P(yes)=0.30" in (answer.notice or "")
    assert len(server.requests) == 1  # no answer was generated
    asked = server.requests[0]
    assert asked["logprobs"] is True and asked["max_tokens"] == 1
    assert asked["messages"][-1]["content"].endswith("段落中有这个问题的答案吗？只回答“是”或“否”。")
    assert QUESTION in asked["messages"][-1]["content"]  # the answer prompt, one line added
    assert "judge" in answer.timings


def test_a_yes_lets_the_model_answer_from_the_same_prompt(assistant, server, llm) -> None:
    server.script(Reply("是", top={"是": 0.8, "否": 0.2}), Reply(ANSWER))
    answer = chain(assistant, llm, band=True).ask(QUESTION)
    assert not answer.abstained and "10~50" in answer.text
    assert "low confidence" in (answer.notice or "")  # still in the band: the notice stays
    judged, answered = server.requests
    assert answered["stream"] is True and "logprobs" not in answered
    head = answered["messages"][-1]["content"]
    assert judged["messages"][:-1] == answered["messages"][:-1]
    assert judged["messages"][-1]["content"].startswith(head)  # a prefix llama.cpp caches


def test_without_log_probabilities_the_coverage_decision_stands(assistant, server, llm) -> None:
    server.script(Reply("否"), Reply(ANSWER))  # an endpoint that returns no logprobs
    answer = chain(assistant, llm, band=True).ask(QUESTION)
    assert not answer.abstained and "10~50" in answer.text and len(server.requests) == 2


@pytest.mark.parametrize(("band", "threshold"), [(False, 0.5), (True, 0.0)])
def test_no_check_when_coverage_is_confident_or_the_check_is_off(
    assistant, server, llm, band: bool, threshold: float
) -> None:
    server.script(Reply(ANSWER))
    answer = chain(assistant, llm, band=band, threshold=threshold).ask(QUESTION)
    assert not answer.abstained and "judge" not in answer.timings
    assert [r["stream"] for r in server.requests] == [True]


def test_the_embedded_model_gives_first_token_probabilities(embedded_llm) -> None:
    passage = (
        "DDIM 仅采样 20~100 步就能达到和 DDPM 采样 1000 步相近的生成效果,也就是提速 10~50 倍。"
    )
    messages = [{"role": "user", "content": f"段落:{passage}\n\n问题:{QUESTION}"}]
    top = embedded_llm.first_token_probabilities(judge_messages(messages, "zh"))
    assert top and 0 < sum(top.values()) <= 1.0001
    p = judge(embedded_llm, messages, "zh")
    assert p is not None and p > 0.5  # the passage states the answer
