"""Comparisons turned around: "DDPM 相比 DDIM 采样快 10~50 倍" where the source says DDIM speeds
DDPM up 10~50 times.

A follow-up ("What about DDPM?") is easily rewritten into the mirrored question, and the model
then answers it with the source's own figure and words: every word and number of the clause is
in the passage, only the direction is wrong. The check compares *roles*: the name a comparison
is measured against (after 相比/比/和…相近/加速/than/compared to) in the clause and in the evidence
sentence. It speaks only when both say which side is faster or better with a word it knows
(快/提速/加速/优于, faster/speedup/better; 慢/不如, slower/worse) — "DDPM 比 DDIM 采样步数多" is
right although DDPM is the baseline of the speed-up, and no word list can tell that "more steps"
is worse. :func:`compared_with_unmet` catches the other slip of a comparison: "… than X" where
the evidence says nothing of X.

Example:
    >>> src = ("为了加速 DDPM 的采样过程,DDIM …仅采样 20~100 步的情况下达到和 DDPM 采样 1000 步"
    ...        "相近的生成效果,也就是提速 10~50 倍。")
    >>> reversed_comparison("DDPM 相比 DDIM 采样快 10~50 倍", src)
    ('DDPM', 'DDIM')
    >>> reversed_comparison("DDIM 相比 DDPM 采样快 10~50 倍", src) is None
    True
    >>> reversed_comparison("DDPM 比 DDIM 慢", src) is None
    True
    >>> reversed_comparison("DDPM is 10 to 50 times faster than DDIM", src)
    ('DDPM', 'DDIM')
    >>> reversed_comparison("DDPM is faster over the sequence than DDIM", "DDIM 比 DDPM 快")
    ('DDPM', 'DDIM')
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.answer.claims.names import name_mentioned
from rag.answer.claims.negation import comparison_unmade

if TYPE_CHECKING:
    from rag.answer.claims.lexicon import Lexicon
    from rag.answer.claims.units import Candidate, ClauseInfo

__all__ = ["compared_with_unmet", "is_model_name", "reversed_comparison"]

_NAME = r"([A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*)"
# the name after these is what the comparison is measured against
_AGAINST = re.compile(
    r"(?:相比于|相比|相较于|相较|比起|比(?![例如赛特较])|较(?![为大小多少好差高低快慢])|对比|加速|"
    r"优于|胜过|超过|快于|强于|"
    r"\bthan|\bcompared (?:to|with)|\brelative to|\bversus|\bvs\.?|\bover|\baccelerat\w*|"
    r"\bspeeds? up|\boutperform\w*|\bsurpass\w*|\bbeats?)"
    r"\s*(?:the\s+)?" + _NAME,
    re.IGNORECASE,
)
# "和/与 X … 相比/相近": X is what the other side is measured against
_PAIRED = re.compile(
    r"(?:和|与|跟|同)\s*" + _NAME + r"[^，。；,;!?！？]{0,20}?(?:相比|相近|相当|相较)"
)
_BETTER = re.compile(
    r"快|提速|加速|优于|胜过|超过|强于|更好|\b(?:faster|speed-?ups?|speeds? up|better|outperform\w*)\b",
    re.IGNORECASE,
)
_WORSE = re.compile(r"慢|不如|逊于|弱于|更差|\b(?:slower|worse|weaker)\b", re.IGNORECASE)


def _key(name: str) -> str:
    return re.sub(r"[-.]", "", name.lower())


def is_model_name(word: str) -> bool:
    """A model or method name (DDPM, ReLU, GPT-4), not a word ("than the baseline")."""
    return sum(c.isupper() for c in word) >= 2 or any(c.isdigit() for c in word[1:])


def _names(text: str) -> list[str]:
    return [n for n in re.findall(_NAME, text) if is_model_name(n)]


def _direction(text: str) -> int:
    """+1 when ``text`` says one side is faster or better, -1 slower or worse, 0 unknown/both."""
    better, worse = bool(_BETTER.search(text)), bool(_WORSE.search(text))
    return 0 if better == worse else (1 if better else -1)


def _against(text: str) -> list[str]:
    """The names a comparison in ``text`` is measured against."""
    found = [m.group(1) for m in _AGAINST.finditer(text)]
    found += [m.group(1) for m in _PAIRED.finditer(text)]
    return [n for n in found if is_model_name(n)]


def reversed_comparison(clause: str, evidence: str) -> tuple[str, str] | None:
    """(subject, baseline) of ``clause`` when ``evidence`` compares the same two names the other
    way round, in the same direction (both "faster/better" or both "slower/worse"); else None."""
    against = {_key(n): n for n in _against(clause)}
    if len(against) != 1:
        return None
    baseline = next(iter(against.values()))
    others = [n for n in _names(clause) if _key(n) != _key(baseline)]
    if not others:
        return None
    subject = others[0]
    direction = _direction(clause)
    if direction == 0 or direction != _direction(evidence):
        return None
    names = {_key(n) for n in _names(evidence)}
    if _key(subject) not in names or _key(baseline) not in names:
        return None
    theirs = {_key(n) for n in _against(evidence)}
    if _key(subject) in theirs and _key(baseline) not in theirs:
        return subject, baseline
    return None


_THAN = re.compile(r"(?<!rather )(?<!other )\bthan\s+(?![\d.])([^,;:()]+)", re.IGNORECASE)
_AFTER_OBJECT = re.compile(
    r"\s+(?:by|in|at|for|on|during|when|while|because|since|which)\b", re.IGNORECASE
)


def compared_with_unmet(lex: Lexicon, info: ClauseInfo, c: Candidate) -> str:
    """What an English "… than X" compares with, when evidence ``c`` says nothing of X ("more
    accurate than Faster RCNN", "more important than bid optimization" over sentences that
    compare with neither), or names X without comparing anything ("与…(例如Faster RCNN)不同");
    "" otherwise. "rather than", "more than 10" are not comparisons."""
    m = _THAN.search(info.text) if info.english and info.comparative else None
    if m is None:
        return ""
    # what is compared with, not the phrase after it: "than DDPM [by a factor of 10 to 50]"
    what = _AFTER_OBJECT.split(m.group(1), maxsplit=1)[0]
    obj = lex.clause_info(what, True)
    if (
        any(not name_mentioned(norm, c.norm, c.low) for _, norm in obj.names)
        or any(lex.unit_score(u, c) < 0.5 for u in obj.units)
        or comparison_unmade(info, c)
    ):
        return what.strip()
    return ""
