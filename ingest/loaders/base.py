"""Shared helpers of the loaders: ids, language, titles."""

from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def slugify(text: str, max_len: int = 60) -> str:
    """A lowercase id made of word characters (CJK kept) and hyphens.

    Example:
        >>> slugify("Rectified Flow / ODE 扩散")
        'rectified-flow-ode-扩散'
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-_")
    text = re.sub(r"-{2,}", "-", text)
    return text[:max_len].strip("-") or "doc"


def detect_lang(text: str) -> str:
    """``zh`` when CJK characters dominate, ``en`` when Latin letters do, else ``mixed``.

    Example:
        >>> detect_lang("DPO 将奖励模型和策略合二为一"), detect_lang("Direct preference optimization")
        ('zh', 'en')
    """
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    if cjk == 0 and latin_words == 0:
        return "mixed"
    if cjk >= 2 * latin_words:
        return "zh"
    if latin_words >= 2 * cjk and cjk < 20:
        return "en"
    return "zh" if cjk > latin_words else "mixed"


def first_line_title(text: str, max_len: int = 60) -> str:
    """A fallback title: the first non-empty line, without Markdown heading marks, shortened."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= max_len else line[: max_len - 1].rstrip() + "…"
    return ""
