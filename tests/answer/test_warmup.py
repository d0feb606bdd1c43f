"""Warming the model's prompt cache: what it sends is where every real prompt starts."""

from __future__ import annotations

from rag.answer.chain import AnswerChain
from rag.answer.prompt import PromptBuilder
from rag.answer.warmup import warm_prompt_cache, warm_up_embedded
from tests.scripted_llm import Reply


def test_the_warm_up_prompts_are_the_start_of_every_real_prompt(assistant, server, llm) -> None:
    settings = assistant.settings
    warm_prompt_cache(llm, PromptBuilder(settings.context_tokens, settings.history_tokens))
    warm = server.requests[-2:]
    assert [r["max_tokens"] for r in warm] == [1, 1]
    chain = AnswerChain(assistant.retriever, lambda: llm, settings, assistant.answer_tools)
    for question, sent in (
        ("DDIM 采样需要多少步?", warm[0]["messages"]),
        ("How many steps does DDIM need to sample?", warm[1]["messages"]),
    ):
        server.script(Reply("DDIM 仅采样 20~100 步 [1]。"))
        list(chain.stream(question))
        real = server.requests[-1]["messages"]
        # the same rules and example, then the real evidence block opens as the warm one did
        assert real[: len(sent) - 1] == sent[:-1]
        assert real[len(sent) - 1]["content"].startswith(sent[-1]["content"])
        assert question in real[-1]["content"]
    assert warm[0]["messages"][0] != warm[1]["messages"][0]  # one per language


def test_only_the_embedded_model_is_warmed(assistant, server, llm) -> None:
    assert warm_up_embedded(llm, assistant.settings) is False  # an endpoint: tokens cost money
    assert warm_up_embedded(None, assistant.settings) is False
    assert server.requests == []
