"""The page's model: one request at a time on the embedded LLM, started in the background.

Example:
    >>> import threading
    >>> class Echo:
    ...     name = "echo"
    ...     def stream(self, messages, **kw):
    ...         yield from ("a", "b")
    >>> one = OneAtATime(Echo(), threading.Lock())
    >>> "".join(one.stream([])), one.busy
    ('ab', False)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.api import Assistant
    from rag.llm.client import LLM


class OneAtATime:
    """Wraps an LLM so only one request runs at a time (the embedded model has one slot).

    Args:
        llm: The model.
        lock: Shared by every session of the app.
    """

    def __init__(self, llm: LLM, lock: threading.Lock) -> None:
        self._llm = llm
        self._lock = lock
        self.name = llm.name
        self.where = getattr(llm, "where", llm.name)

    @property
    def busy(self) -> bool:
        """True while another request holds the model."""
        return self._lock.locked()

    def complete(self, messages: list[dict[str, str]], **kwargs: Any) -> Any:
        with self._lock:
            return self._llm.complete(messages, **kwargs)

    def stream(self, messages: list[dict[str, str]], **kwargs: Any) -> Iterator[str]:
        with self._lock:
            yield from self._llm.stream(messages, **kwargs)

    def close(self) -> None:
        """The wrapped model belongs to the assistant: nothing to do."""


def start_llm_in_background(assistant: Assistant) -> threading.Thread | None:
    """Start the embedded model now (in a thread) and warm its prompt cache, so the first
    answer waits neither for the model nor for the prefill of the prompt's rules
    (:func:`rag.answer.warmup.warm_up_in_background`)."""
    from rag.answer.warmup import warm_up_in_background

    return warm_up_in_background(assistant.llm, assistant.settings)
