"""A small model stuck in a loop: find where its answer starts repeating, so the chain stops it.

Greedy decoding of a 1.5B model sometimes falls into a loop it cannot leave: asked about
incremental estimates over a passage with a formula placeholder, the embedded model wrote "有以下
好处: [公式] [公式] [公式] …" until ``max_tokens`` (320 tokens, ~20 s on 2 cores), and the claim
check had nothing to hold the placeholders against. The chain asks :func:`loop_start` after each
streamed piece; once the tail of the answer is one short unit repeated many times, it stops the
stream and keeps the text before the loop.

Example:
    >>> text = "好处如下: " + "[公式] " * 8
    >>> cut = loop_start(text)
    >>> text[:cut]
    '好处如下:'
    >>> loop_start("It is fast. " * 6) == 0, loop_start("It is fast. " * 3)
    (True, None)
    >>> text[: loop_start(text + "[公")]
    '好处如下:'
    >>> loop_start("DDIM 采样 20~100 步, 相比 DDPM 的 1000 步快 10~50 倍 [1]。") is None
    True
"""

from __future__ import annotations

__all__ = ["loop_start"]


def loop_start(
    text: str, min_repeats: int = 6, min_chars: int = 30, max_unit: int = 40, window: int = 400
) -> int | None:
    """Where the repetition at the end of ``text`` starts, or None when it does not end in one.

    The end of ``text`` is a loop when a unit of at most ``max_unit`` characters is repeated at
    least ``min_repeats`` times back to back, covering at least ``min_chars`` characters (a row
    of dots or a short list does not count).

    Args:
        text: The answer so far.
        min_repeats: Repeats of the unit that make a loop.
        min_chars: Characters the repeats must cover together.
        max_unit: Longest unit looked for.
        window: Only the last ``window`` characters are examined (cost per call is bounded).

    Returns:
        The offset in ``text`` of the first repeat of the unit (its whole first occurrence
        included), or None.
    """
    tail = text[-window:]
    offset = len(text) - len(tail)
    best: int | None = None
    for unit in range(1, min(max_unit, len(tail) // min_repeats) + 1):
        pattern = tail[-unit:]
        start = len(tail) - unit
        while start >= unit and tail[start - unit : start] == pattern:
            start -= unit
        repeats = (len(tail) - start) // unit
        if repeats >= min_repeats and repeats * unit >= min_chars:
            while start > 0 and tail[start - 1] == tail[start - 1 + unit]:
                start -= 1  # a unit cut mid-way by the stream: the loop began earlier
            best = start if best is None else min(best, start)
    return None if best is None else offset + best
