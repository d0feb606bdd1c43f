"""Prefill the embedded model's prompt cache with the start that every prompt shares.

Every prompt of a language starts with the same rules and worked example (~230 tokens,
:meth:`PromptBuilder.shared_start`). On 2 cores their prefill is most of the wait for the first
answer of a session (first token 9-10 s for the first Chinese question, 6-7 s for the first
English one, 1-3 s for the questions after them). llama.cpp keeps the KV state of earlier
prompts (its prompt cache, in RAM), so reading both languages' start once, when the chat page
or the API server starts the embedded model, spares the first question of each language that
wait. A remote endpoint is never warmed (it would cost tokens and gain nothing).

A one-shot process (``rag ask``, a script) has no time to warm anything: before its first
request the chain calls :func:`prime_prompt_cache`, which restores the start an earlier process
saved (:meth:`rag.llm.local.EmbeddedLLM.prime`, :mod:`rag.llm.prompt_state`).

Example:
    >>> from rag.config import Settings
    >>> warm_up_embedded(None, Settings())  # no LLM: nothing to do
    False
"""

from __future__ import annotations

import contextlib
import threading

from rag.answer.prompt import PromptBuilder
from rag.config import Settings
from rag.errors import LLMError
from rag.llm.client import LLM

__all__ = [
    "prime_prompt_cache",
    "warm_prompt_cache",
    "warm_up_embedded",
    "warm_up_in_background",
]


def warm_prompt_cache(
    llm: LLM, prompts: PromptBuilder, langs: tuple[str, ...] = ("zh", "en")
) -> None:
    """Ask ``llm`` for one token after each language's shared start (the rules, the example
    and the opening of the evidence block), so that later prompts find it cached.

    Raises:
        LLMError: the model failed (the caller decides whether that matters).
    """
    prime = getattr(llm, "prime", None)
    for lang in langs:
        messages = prompts.warm_up_messages(lang)
        if prime is None or prime(messages, lang) == "off":
            llm.complete(messages, max_tokens=1, temperature=0.0)


def prime_prompt_cache(llm: LLM, prompts: PromptBuilder, lang: str) -> str:
    """Before a request in ``lang``: the embedded model restores or reads the shared start
    (once per process and language); any other LLM is left alone.

    Returns:
        What happened ("restored", "read", "cached", "off"; "failed": the model failed, which
        the request that follows reports).
    """
    prime = getattr(llm, "prime", None)
    if prime is None:
        return "off"
    try:
        return str(prime(prompts.warm_up_messages(lang), lang))
    except LLMError:
        return "failed"


def warm_up_embedded(llm: LLM | None, settings: Settings) -> bool:
    """Start the embedded model and warm its prompt cache; False (and nothing done) for any
    other LLM or none.

    Raises:
        LLMError: the embedded model could not start or answer.
    """
    from rag.llm.local import EmbeddedLLM

    if not isinstance(llm, EmbeddedLLM):
        return False
    llm.start()
    warm_prompt_cache(llm, PromptBuilder(settings.context_tokens, settings.history_tokens))
    return True


def warm_up_in_background(llm: LLM | None, settings: Settings) -> threading.Thread | None:
    """:func:`warm_up_embedded` in a daemon thread, started now; None (no thread) for any other
    LLM or an embedded model already started. A failure is left for the first question to
    report (the model's ``status`` says ``failed: ...``)."""
    from rag.llm.local import EmbeddedLLM

    if not isinstance(llm, EmbeddedLLM) or llm.status != "not started":
        return None

    def run() -> None:
        with contextlib.suppress(LLMError):
            warm_up_embedded(llm, settings)

    thread = threading.Thread(target=run, name="embedded-llm-start", daemon=True)
    thread.start()
    return thread
