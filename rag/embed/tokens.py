"""The embedder's tokenizer without transformers or torch.

Two implementations of the same tokenizer, both opened on first use: a question (a few short
texts) goes through :mod:`rag.embed.unigram` (pure Python, opened in 0.15 s, 60 MB), batches and
long texts through the ``tokenizers`` library (opened in ~1 s, 280 MB, much faster per text).
Both give the same ids (``tests/embed/test_tokens.py``). Counting is not truncated (what the
chunker needs); model input is truncated to the model's limit the way ``transformers`` truncates
a single sequence (the text is cut, the closing special token kept) and padded with the pad id
and a zero attention mask.

Example:
    >>> tok = Tokens(Path("~/.cache/rag-articles/embedders/e5").expanduser(), 512)  # doctest: +SKIP
    >>> tok.count(["query: 你好"])                                                 # doctest: +SKIP
    [5]
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embed.model_info import read_json

#: Up to this many characters in one call (a question; an answer's sentences and passages:
#: 2-4 us a character) texts go through the pure-Python tokenizer, beyond it through tokenizers.
SHORT_CHARS = 8000


class Tokens:
    """Token counts and padded model inputs of texts.

    Args:
        folder: A folder with ``tokenizer.json`` (and ``tokenizer_config.json`` for the pad token).
        max_length: Tokens per text fed to the model (special tokens included).
        short_cache: Where the pure-Python tokenizer caches its vocabulary (None: never use it).
    """

    def __init__(self, folder: Path, max_length: int, short_cache: Path | None = None) -> None:
        self.folder = Path(folder)
        self.max_length = int(max_length)
        self.short_cache = short_cache
        self._rust: Any = None
        self._short: Any = None if short_cache is not None else False
        self._lock = threading.Lock()
        config = read_json(self.folder / "tokenizer_config.json")
        self._pad_token = config.get("pad_token")
        self.pad_id = 1 if self._pad_token == "<pad>" else 0  # refined when a tokenizer opens
        self._tail = 1  # special tokens after the text (``</s>``), refined likewise

    # ------------------------------------------------------------------ the two tokenizers
    def _open_rust(self) -> Any:
        if self._rust is None:
            with self._lock:
                if self._rust is None:
                    from tokenizers import Tokenizer

                    tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                    tok.no_truncation()
                    tok.no_padding()
                    pad = self._pad_token
                    pad_id = tok.token_to_id(pad) if isinstance(pad, str) else None
                    self.pad_id = int(pad_id) if pad_id is not None else 0
                    probe = tok.encode("a")
                    self._tail = len(probe.ids) - 1 - _last_text_index(probe.special_tokens_mask)
                    self._rust = tok
        return self._rust

    def _open_short(self) -> Any:
        if self._short is None:
            with self._lock:
                if self._short is None:
                    from rag.embed.unigram import Unigram, Unsupported

                    assert self.short_cache is not None
                    try:
                        uni = Unigram.load(self.folder / "tokenizer.json", self.short_cache)
                    except (Unsupported, OSError, ValueError, KeyError):
                        self._short = False  # another kind of tokenizer: tokenizers only
                    else:
                        self.pad_id = _pad_id(uni, self._pad_token)
                        self._tail = len(uni.suffix)
                        self._short = uni
        return self._short

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, special tokens included, not truncated."""
        texts = list(texts)
        if self._rust is None and sum(len(t) for t in texts) <= SHORT_CHARS:
            short = self._open_short()
            if short and all(short.supports(t) for t in texts):
                return [short.ids(t) for t in texts]
        tok = self._open_rust()
        return [e.ids for e in tok.encode_batch(texts, add_special_tokens=True)]

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


def _pad_id(uni: Any, pad: Any) -> int:
    hit = uni.vocab.get(pad) if isinstance(pad, str) else None
    return int(hit[0]) if hit else 0


def _last_text_index(special: Sequence[int]) -> int:
    """Index of the last non-special token of a one-word encoding."""
    for i in range(len(special) - 1, -1, -1):
        if not special[i]:
            return i
    return len(special) - 1
