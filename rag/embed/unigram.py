"""A pure-Python SentencePiece-Unigram tokenizer for short texts (questions), loaded in 0.15 s.

The ``tokenizers`` library builds a byte trie of the whole 250k-piece XLM-R vocabulary when it
opens ``tokenizer.json``: about 1 s and 280 MB of memory, which was the largest single cost of
answering one question in a fresh process and of a server's memory. A question has a few dozen
characters, so this module tokenizes it in Python instead, from a plain dict of the vocabulary
(cached with :mod:`marshal`: 0.15 s, 60 MB). It reproduces ``tokenizers`` exactly for the
components e5's tokenizer uses -- the normalizer sequence (``Replace`` and Unicode forms),
``Metaspace`` pre-tokenization, the ``Unigram`` model's Viterbi search (``encode_optimized``:
longest-first ties kept, unknown characters fused) and ``TemplateProcessing`` -- and declines
(:meth:`Unigram.supports` is False) what it cannot promise: texts containing a special token's
text and code points unassigned in Python's Unicode database (NFKC may differ). The caller then
uses ``tokenizers``. ``tests/embed/test_tokens.py`` compares both on thousands of texts.

Example:
    >>> uni = Unigram.load(Path("tokenizer.json"), Path("/tmp/vocab.marshal"))  # doctest: +SKIP
    >>> uni.ids("query: 你好")                                                   # doctest: +SKIP
    [0, 41, 1294, 12, 6, 124084, 2]
"""

from __future__ import annotations

import json
import marshal
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

#: Score given to a character no piece covers, below the lowest piece (sentencepiece's value).
UNK_PENALTY = 10.0
CACHE_VERSION = 2


class Unsupported(ValueError):
    """The tokenizer uses a component this module does not implement."""


class Unigram:
    """A Unigram tokenizer from a ``tokenizer.json`` with supported components only.

    Use :meth:`load`.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.vocab: dict[str, tuple[int, float]] = spec["vocab"]
        self.unk_id: int = spec["unk_id"]
        self.unk_score = spec["min_score"] - UNK_PENALTY
        self.max_len: int = spec["max_len"]
        self._longest: dict[str, int] = spec["longest"]
        self.specials: list[str] = spec["specials"]
        self.prefix: list[int] = spec["prefix"]
        self.suffix: list[int] = spec["suffix"]
        self.meta: str = spec["meta"]
        self.prepend: bool = spec["prepend"]
        self.split: bool = spec["split"]
        self.steps = [_compile(step) for step in spec["normalizer"]]

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, tokenizer_json: Path, cache: Path) -> Unigram:
        """From ``cache`` (a marshal file), building it from ``tokenizer_json`` when missing or
        older than it.

        Raises:
            Unsupported: the tokenizer has a component this module does not implement.
        """
        try:
            if cache.stat().st_mtime_ns >= tokenizer_json.stat().st_mtime_ns:
                spec = marshal.loads(cache.read_bytes())
                if spec.get("version") == CACHE_VERSION and spec.get("size") == (
                    tokenizer_json.stat().st_size
                ):
                    return cls(spec)
        except (OSError, ValueError, EOFError, TypeError, AttributeError):
            pass
        spec = parse_spec(json.loads(tokenizer_json.read_text(encoding="utf-8")))
        spec["size"] = tokenizer_json.stat().st_size
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(spec))
            os.replace(tmp, cache)
        except OSError:
            pass  # a read-only cache only costs the parse next time
        return cls(spec)

    # ------------------------------------------------------------------ encoding
    def supports(self, text: str) -> bool:
        """True when :meth:`ids` is guaranteed to equal ``tokenizers`` for ``text``."""
        if any(s in text for s in self.specials):
            return False
        return all(unicodedata.category(c) != "Cn" for c in text)

    def ids(self, text: str) -> list[int]:
        """Token ids of ``text``, special tokens included (check :meth:`supports` first)."""
        for kind, a, b in self.steps:
            if kind == "sub":
                text = a.sub(b, text)
            elif kind == "replace":
                text = text.replace(a, b)
            elif kind == "lower":
                text = text.lower()
            else:
                text = unicodedata.normalize(kind, text)
        out = list(self.prefix)
        for word in self._words(text):
            out.extend(self._viterbi(word))
        out.extend(self.suffix)
        return out

    def _words(self, text: str) -> list[str]:
        """Metaspace: spaces become the meta symbol, prepended, split before each one."""
        if not text:
            return []
        meta = self.meta
        text = text.replace(" ", meta)
        if self.prepend and not text.startswith(meta):
            text = meta + text
        if not self.split:
            return [text]
        words: list[str] = []
        start = 0
        for i, ch in enumerate(text):
            if ch == meta and i > start:
                words.append(text[start:i])
                start = i
        words.append(text[start:])
        return words

    def _viterbi(self, s: str) -> list[int]:
        """``Unigram::encode_optimized`` of tokenizers, then ids (unknown runs fused)."""
        vocab, unk_id, unk_score, longest = self.vocab, self.unk_id, self.unk_score, self._longest
        n = len(s)
        score = [0.0] * (n + 1)
        start: list[int] = [-1] * (n + 1)
        ident = [0] * (n + 1)
        for i in range(n):
            base = score[i]
            single = False
            for end in range(i + 1, min(n, i + longest.get(s[i], 0)) + 1):
                hit = vocab.get(s[i:end])
                if hit is None:
                    continue
                cand = base + hit[1]
                if start[end] < 0 or cand > score[end]:
                    score[end], start[end], ident[end] = cand, i, hit[0]
                if end == i + 1:
                    single = True
            if not single:
                cand = base + unk_score
                if start[i + 1] < 0 or cand > score[i + 1]:
                    score[i + 1], start[i + 1], ident[i + 1] = cand, i, unk_id
        pieces: list[str] = []
        unknown: list[str] = []
        end = n
        while end > 0:
            begin = start[end]
            if ident[end] == unk_id:
                unknown.append(s[begin:end])
            else:
                if unknown:
                    pieces.append("".join(reversed(unknown)))
                    unknown = []
                pieces.append(s[begin:end])
            end = begin
        if unknown:
            pieces.append("".join(reversed(unknown)))
        pieces.reverse()
        return [vocab.get(p, (unk_id, 0.0))[0] for p in pieces]


# ---------------------------------------------------------------------------- spec
def parse_spec(tok: dict[str, Any]) -> dict[str, Any]:
    """The parts of a ``tokenizer.json`` this module needs, or :class:`Unsupported`."""
    model = tok.get("model") or {}
    if model.get("type") != "Unigram" or model.get("byte_fallback"):
        raise Unsupported(
            f"model {model.get('type')!r} (byte_fallback {model.get('byte_fallback')})"
        )
    if model.get("unk_id") is None:
        raise Unsupported("a Unigram model without an unknown token")
    vocab: dict[str, tuple[int, float]] = {}
    for i, (piece, score) in enumerate(model["vocab"]):
        vocab[piece] = (i, float(score))  # a repeated piece: the last one wins, as in tokenizers
    # The longest piece starting with each character: most positions try 1-4 lengths, not 16.
    longest: dict[str, int] = {}
    for piece in vocab:
        if piece and len(piece) > longest.get(piece[0], 0):
            longest[piece[0]] = len(piece)
    pre = tok.get("pre_tokenizer") or {}
    if pre.get("type") != "Metaspace" or pre.get("prepend_scheme", "always") not in (
        "always",
        "first",
        "never",
    ):
        raise Unsupported(f"pre-tokenizer {pre!r}")
    return {
        "version": CACHE_VERSION,
        "vocab": vocab,
        "unk_id": int(model["unk_id"]),
        "min_score": min(s for _, s in vocab.values()),
        "max_len": max(len(p) for p in vocab),
        "longest": longest,
        "specials": sorted({t["content"] for t in tok.get("added_tokens") or []}),
        **_template(tok.get("post_processor") or {}),
        "meta": pre.get("replacement", "\u2581"),
        "prepend": pre.get("prepend_scheme", "always") != "never",
        "split": bool(pre.get("split", True)),
        "normalizer": _normalizer_steps(tok.get("normalizer")),
    }


def _template(post: dict[str, Any]) -> dict[str, list[int]]:
    if post.get("type") != "TemplateProcessing":
        raise Unsupported(f"post-processor {post.get('type')!r}")
    specials = {k: v["ids"] for k, v in (post.get("special_tokens") or {}).items()}
    prefix: list[int] = []
    suffix: list[int] = []
    seen_text = False
    for item in post["single"]:
        if "Sequence" in item:
            seen_text = True
        elif "SpecialToken" in item:
            (prefix if not seen_text else suffix).extend(specials[item["SpecialToken"]["id"]])
        else:
            raise Unsupported(f"template item {item!r}")
    return {"prefix": prefix, "suffix": suffix}


_HEX = re.compile(r"\\x\{([0-9A-Fa-f]+)\}")


def _normalizer_steps(norm: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    if not norm:
        return []
    if norm.get("type") == "Sequence":
        return [s for n in norm["normalizers"] for s in _normalizer_steps(n)]
    kind = norm.get("type")
    if kind in ("NFC", "NFD", "NFKC", "NFKD"):
        return [(kind, "", "")]
    if kind == "Lowercase":
        return [("lower", "", "")]
    if kind == "Replace":
        pattern, content = norm["pattern"], norm["content"]
        if "String" in pattern:
            return [("replace", pattern["String"], content)]
        return [("sub", _char_class(pattern["Regex"]), content)]
    raise Unsupported(f"normalizer {kind!r}")


_RUN = re.compile(r"([^\\\[\](){}.*+?|^$])(\{\d+,\d*\}|\+)")


def _char_class(regex: str) -> str:
    """An Oniguruma regex this module can translate to Python's, exactly: a class of
    ``\\x{HEX}`` escapes and plain characters, or a run of one plain character (`` {2,}``)."""
    run = _RUN.fullmatch(regex)
    if run:
        return re.escape(run.group(1)) + run.group(2)
    if not (regex.startswith("[") and regex.endswith("]")) or regex.startswith("[^"):
        raise Unsupported(f"regex {regex!r}")
    inner, chars, i = regex[1:-1], [], 0
    while i < len(inner):
        m = _HEX.match(inner, i)
        if m:
            chars.append(chr(int(m.group(1), 16)))
            i = m.end()
        elif inner[i] in "\\[]^-&":
            raise Unsupported(f"regex {regex!r}")
        else:
            chars.append(inner[i])
            i += 1
    return "[" + "".join(re.escape(c) for c in chars) + "]"


def _compile(step: Any) -> tuple[str, Any, str]:
    kind, a, b = step
    if kind == "sub":
        return kind, re.compile(a), b
    return kind, a, b
