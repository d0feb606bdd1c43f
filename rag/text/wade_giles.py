"""Wade-Giles romanisations read as toneless pinyin.

English texts write many Taiwanese and older names in Wade-Giles, usually without its
apostrophes and umlauts: "Tsai Min" is 蔡敏 (cai min), "Sung Chien-cheng" 宋建成 (song
jiancheng), "Chang Yu-sheng" 张雨生 (zhang yusheng), "Kuo Kuang" 国光 (guo guang). Without the
apostrophe an initial is ambiguous (ch = zh/ch, or j/q before i and ü; k = g/k; ts = z/c), so a
syllable has several pinyin readings; only those that are pinyin syllables are kept.

Example:
    >>> syl = frozenset({"cai", "zai", "min", "song", "jian", "qian", "zheng", "cheng", "zhang",
    ...                  "chang", "yu", "sheng", "xu", "xie", "guo", "kuo"})
    >>> sorted(wade_giles("Tsai", syl)), sorted(wade_giles("Chien-cheng", syl))
    (['cai', 'zai'], ['jiancheng', 'jianzheng', 'qiancheng', 'qianzheng'])
    >>> sorted(wade_giles("Hsieh", syl)), wade_giles("transformer", syl)
    (['xie'], set())
"""

from __future__ import annotations

import itertools
import re

__all__ = ["wade_giles"]

# initial -> pinyin initials it may stand for, apostrophe dropped (longest first when matching)
_INITIALS: dict[str, tuple[str, ...]] = {
    "ch": ("zh", "ch", "j", "q"),
    "ts": ("z", "c"),
    "tz": ("z", "c"),
    "hs": ("x",),
    "sz": ("s",),
    "ss": ("s",),
    "sh": ("sh",),
    "k": ("g", "k"),
    "t": ("d", "t"),
    "p": ("b", "p"),
    "j": ("r",),
    **{c: (c,) for c in "mnlfhsyw"},
    "": ("",),
}
# final -> pinyin finals (the final as written is always tried too)
_FINALS: dict[str, tuple[str, ...]] = {
    "ih": ("i",),
    "u": ("u", "i"),  # tzu, ssu (ŭ) -> zi, si
    "ieh": ("ie",),
    "eh": ("e",),
    "ien": ("ian",),
    "en": ("en", "an"),  # yen -> yan
    "ung": ("ong",),
    "iung": ("iong",),
    "o": ("o", "uo", "e"),
    "uei": ("ui",),
    "ueh": ("ue",),
    "erh": ("er",),
}
_MAX_SYLLABLES = 3  # a hyphen-free piece read as at most this many syllables
_MAX_READINGS = 8


def _syllable(piece: str, syllables: frozenset[str]) -> set[str]:
    """The pinyin readings of one Wade-Giles syllable (lowercase, no apostrophe)."""
    out: set[str] = set()
    for initial in sorted(_INITIALS, key=len, reverse=True):
        if not piece.startswith(initial):
            continue
        final = piece[len(initial) :]
        for ini in _INITIALS[initial]:
            for fin in dict.fromkeys([final, *_FINALS.get(final, ())]):
                if final and ini + fin in syllables:
                    out.add(ini + fin)
    return out


def wade_giles(word: str, syllables: frozenset[str]) -> set[str]:
    """The toneless pinyin ``word`` may stand for, syllables joined; empty when it is no
    Wade-Giles spelling. A hyphen separates syllables ("Chien-cheng"); a piece without one may
    hold up to three ("Kaohsiung").

    Args:
        word: A Latin word, hyphens allowed.
        syllables: The pinyin syllables (:attr:`rag.text.pinyin.Pinyin.syllables`).

    Returns:
        Pinyin readings such as ``{"cai", "zai"}`` for "Tsai".
    """
    w = word.lower().replace("'", "").replace("’", "")
    if not re.fullmatch(r"[a-z]+(?:-[a-z]+)*", w):
        return set()
    per_piece = []
    for piece in w.split("-"):
        readings = _piece(piece, syllables)
        if not readings:
            return set()
        per_piece.append(sorted(readings))
    combos = itertools.islice(itertools.product(*per_piece), _MAX_READINGS)
    return {"".join(c) for c in combos}


def _piece(piece: str, syllables: frozenset[str], depth: int = 1) -> set[str]:
    """Readings of a hyphen-free piece: one syllable, or a syllable and the rest."""
    out = _syllable(piece, syllables)
    if depth < _MAX_SYLLABLES:
        for i in range(2, len(piece) - 1):
            heads = _syllable(piece[:i], syllables)
            if heads:
                tails = _piece(piece[i:], syllables, depth + 1)
                out |= {h + t for h in heads for t in tails}
    return out
