"""The LLM, always reached through the ``openai`` SDK.

One code path for every endpoint: OpenAI, vLLM, Ollama, a llama.cpp server, or the embedded
local model (a llama.cpp server started in this process on loopback, see
:mod:`rag.llm.local`). Retries with backoff on 429/5xx and connection errors are the SDK's own
(``max_retries``); a stream is only retried before its first token.

Example:
    >>> llm = LLM("http://127.0.0.1:8080/v1", "m")
    >>> llm.name, llm.where
    ('m', 'http://127.0.0.1:8080/v1')
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rag.errors import LLMError


@dataclass
class Completion:
    """A finished completion."""

    text: str
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None


@dataclass
class StreamState:
    """Filled in while a stream runs: usage and finish reason arrive with the last chunk."""

    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None


def _describe(exc: Exception, where: str) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return f"the LLM at {where} did not answer in time"
    if isinstance(exc, openai.APIConnectionError):
        return f"cannot reach the LLM at {where}"
    if isinstance(exc, openai.AuthenticationError):
        return f"the LLM at {where} refused the API key (check RAG_LLM_API_KEY)"
    if isinstance(exc, openai.RateLimitError):
        return f"the LLM at {where} is rate-limiting requests (429), even after retries"
    if isinstance(exc, openai.APIStatusError):
        return f"the LLM at {where} returned HTTP {exc.status_code}"
    return f"the LLM at {where} failed ({type(exc).__name__})"


def _usage(usage: Any) -> dict[str, int]:
    """Token counts of a response: ``prompt_tokens``, ``completion_tokens``, and
    ``cached_tokens`` (the prompt's tokens the server had in its prompt cache and did not read
    again: llama.cpp and OpenAI report them) when the server says.

    Example:
        >>> from types import SimpleNamespace as NS
        >>> _usage(NS(prompt_tokens=420, completion_tokens=30,
        ...           prompt_tokens_details=NS(cached_tokens=230)))
        {'prompt_tokens': 420, 'completion_tokens': 30, 'cached_tokens': 230}
        >>> _usage(NS(prompt_tokens=420, completion_tokens=30))
        {'prompt_tokens': 420, 'completion_tokens': 30}
    """
    out = {
        "prompt_tokens": int(usage.prompt_tokens or 0),
        "completion_tokens": int(usage.completion_tokens or 0),
    }
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details is not None else None
    if cached is not None:
        out["cached_tokens"] = int(cached)
    return out


class LLM:
    """A chat model behind an OpenAI-compatible endpoint.

    Args:
        base_url: The endpoint (``.../v1``); None for OpenAI's default.
        model: Model name sent with each request.
        api_key: The key (never logged or shown).
        timeout: Seconds before a request (or a silent stream) is abandoned.
        retries: Retries on 429, 5xx and connection errors, with exponential backoff.
    """

    def __init__(
        self,
        base_url: str | None,
        model: str,
        api_key: str | None = None,
        timeout: float = 180.0,
        retries: int = 2,
    ) -> None:
        import openai

        self.base_url = base_url
        self.name = model
        self.where = base_url or "api.openai.com"
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=openai.Timeout(timeout, connect=min(10.0, timeout)),
            max_retries=retries,
        )

    # ------------------------------------------------------------------ calls
    def complete(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 256,
        temperature: float = 0.1,
        stop: list[str] | None = None,
    ) -> Completion:
        """One non-streaming completion.

        Raises:
            LLMError: with a message that says what went wrong (never the key).
        """
        try:
            resp = self._client.chat.completions.create(
                model=self.name,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=temperature,
                stop=stop,
                stream=False,
            )
        except Exception as exc:
            raise LLMError(_describe(exc, self.where)) from exc
        if not resp.choices:
            raise LLMError(f"the LLM at {self.where} returned no choices")
        choice = resp.choices[0]
        text = (choice.message.content or "") if choice.message else ""
        usage = _usage(resp.usage) if resp.usage else {}
        return Completion(text=text, usage=usage, finish_reason=choice.finish_reason)

    def first_token_probabilities(
        self, messages: list[dict[str, str]], top: int = 10
    ) -> dict[str, float] | None:
        """The probabilities of the most likely first tokens of the reply (one token generated).

        For a question answered by one word ("yes"/"no"), the model's confidence rather than
        its pick. None when the endpoint returns no log-probabilities (not every
        OpenAI-compatible server does).

        Raises:
            LLMError: the request failed.
        """
        try:
            resp = self._client.chat.completions.create(
                model=self.name,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=1,
                temperature=0,
                logprobs=True,
                top_logprobs=top,
                stream=False,
            )
        except Exception as exc:
            raise LLMError(_describe(exc, self.where)) from exc
        choice = resp.choices[0] if resp.choices else None
        content = choice.logprobs.content if choice and choice.logprobs else None
        if not content:
            return None
        out: dict[str, float] = {}
        for t in content[0].top_logprobs or []:
            out[t.token] = out.get(t.token, 0.0) + math.exp(t.logprob)
        return out or None

    def stream(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 256,
        temperature: float = 0.1,
        state: StreamState | None = None,
    ) -> Iterator[str]:
        """Yield text pieces as they arrive.

        Args:
            messages: The chat messages.
            max_tokens: Generation limit.
            temperature: Sampling temperature.
            state: Receives usage and the finish reason when the stream ends.

        Raises:
            LLMError: the request failed, or the stream broke before it finished.
        """
        state = state or StreamState()
        try:
            stream = self._client.chat.completions.create(
                model=self.name,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
                stream_options={"include_usage": True},
            )
        except Exception as exc:
            raise LLMError(_describe(exc, self.where)) from exc
        try:
            for chunk in stream:
                if chunk.usage:
                    state.usage = _usage(chunk.usage)
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                if choice.finish_reason:
                    state.finish_reason = choice.finish_reason
                piece = choice.delta.content if choice.delta else None
                if piece:
                    yield piece
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(f"the answer stream from {self.where} broke off") from exc
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                close()
        if state.finish_reason is None:
            raise LLMError(f"the answer stream from {self.where} ended before it finished")

    def close(self) -> None:
        """Release connections."""
        self._client.close()
