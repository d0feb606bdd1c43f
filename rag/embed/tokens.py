"""The embedder's tokenizer on the ``tokenizers`` library alone (no transformers, no torch).

One :class:`tokenizers.Tokenizer` serves both jobs: counting (no truncation, what the chunker
needs) and model input (truncated to the model's limit the way ``transformers`` truncates a
single sequence: the text is cut, the closing special token kept; padded with the pad id and a
zero attention mask). ``tests/embed/test_tokens.py`` checks both against ``AutoTokenizer``.

Example:
    >>> tok = Tokens(Path("~/.cache/rag-articles/embedders/e5").expanduser(), 512)  # doctest: +SKIP
    >>> tok.count(["query: 你好"])                                                 # doctest: +SKIP
    [5]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.embed.model_info import read_json


class Tokens:
    """Token counts and padded model inputs of texts.

    Args:
        folder: A folder with ``tokenizer.json`` (and ``tokenizer_config.json`` for the pad token).
        max_length: Tokens per text fed to the model (special tokens included).
    """

    def __init__(self, folder: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()
        self.max_length = int(max_length)
        pad = read_json(Path(folder) / "tokenizer_config.json").get("pad_token")
        pad_id = self._tok.token_to_id(pad) if isinstance(pad, str) else None
        self.pad_id = int(pad_id) if pad_id is not None else 0
        # Special tokens the post-processor appends after the text (``</s>`` for XLM-R): kept
        # when a long text is cut, as transformers does.
        probe = self._tok.encode("a")
        self._tail = len(probe.ids) - 1 - _last_text_index(probe.special_tokens_mask)

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, special tokens included, not truncated."""
        return [e.ids for e in self._tok.encode_batch(list(texts), add_special_tokens=True)]

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text, special tokens included, not truncated."""
        return [len(x) for x in self.ids(texts)]

    def truncate(self, ids: list[int]) -> list[int]:
        """``ids`` cut to :attr:`max_length`, the closing special tokens kept."""
        if len(ids) <= self.max_length:
            return ids
        tail = ids[len(ids) - self._tail :] if self._tail else []
        return ids[: self.max_length - len(tail)] + tail

    def batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``input_ids`` and ``attention_mask`` (int64, padded to the longest text)."""
        rows = [self.truncate(x) for x in self.ids(texts)]
        width = max((len(r) for r in rows), default=0)
        input_ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            input_ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        return input_ids, mask


def _last_text_index(special: Sequence[int]) -> int:
    """Index of the last non-special token of a one-word encoding."""
    for i in range(len(special) - 1, -1, -1):
        if not special[i]:
            return i
    return len(special) - 1
