"""Which LLM the settings ask for: a configured endpoint, the embedded model, or none.

Example:
    >>> from rag.config import Settings
    >>> llm = make_llm(Settings.load(llm_base_url="http://127.0.0.1:8080/v1", llm_model="m"))
    >>> llm.name
    'm'
"""

from __future__ import annotations

from rag.config import Settings
from rag.llm.client import LLM
from rag.llm.local import EmbeddedLLM


def make_llm(settings: Settings, kind: str | None = None) -> LLM | None:
    """The LLM the settings ask for.

    Args:
        settings: ``llm_base_url``, ``llm_model``, ``llm_api_key``, timeouts.
        kind: ``"none"`` for no LLM (extractive answers); None for the configured one.

    Returns:
        An endpoint client, the embedded model (nothing configured), or None for ``"none"``.
    """
    if kind == "none":
        return None
    if settings.uses_embedded_llm:
        return EmbeddedLLM(settings)
    model = settings.llm_model or "gpt-4o-mini"
    return LLM(
        settings.llm_base_url,
        model,
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout,
        retries=settings.llm_retries,
    )
