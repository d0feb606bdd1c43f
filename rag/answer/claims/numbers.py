"""Numbers: the figures of a text, normalised so that an answer's figure can be checked exactly.

``10~50``/``10-50``/``10 to 50`` are one range; ``1万``/``ten thousand``, ``2.8B``, ``1,000``,
``%``, ``两种``/``two``, ``第 2 步`` and ``四分之一`` are read as values. A Chinese figure keeps
its counter word (``二次`` does not match ``二阶``).

Example:
    >>> [(n.low, n.high, n.counter) for n in numbers_in("提速 10~50 倍, 二次方程")]
    [(10.0, 50.0, '倍'), (2.0, 2.0, '次')]
    >>> number_found(numbers_in("一万次")[0], number_keys("循环 10000 次"))
    True
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rag.answer.claims.words import CJK

__all__ = ["ARABIC", "EN_NUM", "Number", "is_numeral", "number_found", "number_keys", "numbers_in"]

EN_NUM = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
    "million": 10**6,
    "billion": 10**9,
    "twice": 2,
    "double": 2,
    "triple": 3,
    "half": 0.5,
    "quarter": 0.25,
    "dozen": 12,
}
_SCALE = {
    "hundred": 100,
    "thousand": 1000,
    "million": 10**6,
    "billion": 10**9,
    "百": 100,
    "千": 1000,
    "万": 10**4,
    "亿": 10**8,
    "k": 1000,
    "K": 1000,
    "M": 10**6,
    "B": 10**9,
    "T": 10**12,
}
_ZH_DIGIT = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8}
_NUM = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?"
_UNIT = r"\s*(?:%|％|percent\b|[KkMBT](?![A-Za-z])|万|亿|千|百(?!分)|billion\b|million\b|thousand\b|hundred\b)?"
# units written right after a figure (not a scale: "km" is no k × m)
_MEASURE = (
    r"(?i:km|cm|mm|nm|m|kg|mg|g|t|kb|mb|gb|tb|ms|s|min|h|hz|khz|mhz|ghz|kw|w|ml|l)[²³]?(?![A-Za-z])"
)
ARABIC = re.compile(
    rf"(?<![A-Za-z0-9_.])([+-]?)({_NUM})({_UNIT})"
    rf"(?:\s*(?:~|～|–|—|-|到|至|to)\s*({_NUM})({_UNIT}))?"
    r"([x×X](?![A-Za-z]))?"  # "10-50x": a multiple, as 倍 says
    rf"(?:(?![A-Za-z0-9_])|(?={_MEASURE}))"  # no letter after it but a unit: 1750.33km², 5kg
)
# a fraction: "1/2", "3 / 4" (not a date 2021/01/05, a path, nor "1/n"): in an answer clause
# its value alone (a "1/2" the model wrote is not met by a 1 and a 2 of the passage)
_FRACTION = re.compile(r"(?<![\w./])(\d{1,3})\s?/\s?(\d{1,3})(?![\w/]|\.\d)")
_EN_NUM_RE = re.compile(
    r"\b(?:(a|one|\d+)\s+)?(" + "|".join(sorted(EN_NUM, key=len, reverse=True)) + r")\b"
    r"(?:\s+(hundred|thousand|million|billion)\b)?",
    re.IGNORECASE,
)
# an item number, not a figure: "2、pointwise…", "(2) …", "2) …" (not "1、2 或 4 张卡")
_LIST_MARKER = re.compile(
    r"(?:(?<=^)|(?<=[\s,，;；:：。.!！?？\u4e00-\u9fff]))"
    r"(?:[(（]\d{1,2}[)）]|\d{1,2}(?:、(?!\s*\d)|[)）](?![\d.])))"
)
# a magnitude, not a figure: "a few thousand", "hundreds of", 上千, 数百, 几十
_VAGUE_EN = re.compile(
    r"\b(?:(?:a few|few|several|some|many)\s+(ten|hundred|thousand|million|billion)|"
    r"(tens|dozens|hundreds|thousands|millions|billions)\s+of)\b",
    re.IGNORECASE,
)
_VAGUE_ZH = re.compile(r"(?:上|数|几|成)(十|百|千|万|亿)")
_MAGNITUDE = {"ten": 10, "dozen": 10, "hundred": 100, "thousand": 1000, "million": 10**6}
_MAGNITUDE |= {"billion": 10**9, "十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8}
_ZH_COUNTERS = "种个点大步次维倍层类项条名位张组轮阶部段年款篇级句份路类遍头块"
# words holding a Chinese numeral that are no figure
_ZH_NUM_ZH_STOP = tuple(
    """一些 一样 一直 一定 一般 一起 统一 唯一 一致 一旦 万一 一切 之一 一下 一方面 进一步 一向 一律
    百分 千万 十分 一并 一同 单一 同一 一体 一边 一再 一心 一开始 一点""".split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass(frozen=True)
class Number:
    """A normalised figure: a value or a range, maybe a percentage, maybe with its counter word.

    ``counter`` is the Chinese measure word after the figure (``种`` in ``两种``, ``次`` in ``二次``),
    so that ``二次`` (quadratic) does not match ``二阶``; after an English figure, the measure
    words of its unit (``秒`` for "two seconds", ``阶段`` for "two stages": either matches).
    """

    low: float
    high: float
    percent: bool = False
    surface: str = ""
    counter: str = ""
    vague: bool = False  # a magnitude ("a few thousand": 1000 to 9999), found by containment

    def key(self) -> tuple[float, float, bool]:
        return (round(self.low, 6), round(self.high, 6), self.percent)


def _zh_value(s: str) -> float | None:
    """Value of a Chinese numeral string (``三``, ``十二``, ``两千``, ``一万``)."""
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in _ZH_DIGIT:
            digit = _ZH_DIGIT[ch]
        elif ch in _ZH_UNIT:
            unit = _ZH_UNIT[ch]
            if unit >= 10**4:
                section = (section + (digit or 0)) * unit
                total += section
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return float(total + section + (digit or 0))


def _scaled(num: str, unit: str) -> tuple[float, bool]:
    value = float(num.replace(",", ""))
    u = unit.strip()
    if u in ("%", "％", "percent"):
        return value, True
    if u:
        value *= _SCALE.get(u, _SCALE.get(u.lower(), 1))
    return value, False


# What an English figure counts, as the Chinese measure words that say it ("two seconds" is
# not 二项): only units a Chinese text writes with a measure word after the figure.
_EN_COUNTERS = {
    "second": "秒",
    "step": "步",
    "layer": "层",
    "dimension": "维",
    "dimensional": "维",
    "stage": "阶段",
    "phase": "阶段",
    "round": "轮",
    "head": "头",
    "year": "年",
}
_EN_UNIT_AFTER = re.compile(r"[\s-]?([A-Za-z]+)")


def _counter_after(text: str, end: int) -> str:
    m = re.match(r"\s?([" + _ZH_COUNTERS + "])", text[end : end + 2])
    if m:
        return m.group(1)
    word = _EN_UNIT_AFTER.match(text, end)
    if not word:
        return ""
    w = word.group(1).lower()
    return _EN_COUNTERS.get(w) or (_EN_COUNTERS.get(w[:-1], "") if w.endswith("s") else "")


def numbers_in(text: str, strict: bool = True) -> list[Number]:
    """The figures of ``text``, normalised.

    With ``strict`` (answer clauses) a lone ``一`` counts only before 次/步/倍/维/层; on the
    evidence side a Chinese numeral counts before any counter word, after 第, or when it has
    more than one character. On both sides a lone 三-九 before another Chinese character is a
    figure (三板斧: "the three axes").

    >>> [(n.low, n.high) for n in numbers_in("提速 10~50 倍, 1万 次, 2.8B 参数, 两种方案")]
    [(10.0, 50.0), (10000.0, 10000.0), (2800000000.0, 2800000000.0), (2.0, 2.0)]
    >>> [(n.low, n.high) for n in numbers_in("by 10 to 50 times, ten thousand times")]
    [(10.0, 50.0), (10000.0, 10000.0)]
    >>> [(n.low, n.high, n.vague) for n in numbers_in("a few thousand candidates")]
    [(1000.0, 9999.0, True)]
    >>> n = numbers_in("a few thousand candidates")[0]
    >>> number_found(n, number_keys("上千候选")), number_found(n, number_keys("上百候选"))
    (True, False)
    >>> n = numbers_in("three stages")[0]
    >>> number_found(n, number_keys("包括三个阶段")), number_found(n, number_keys("三项"))
    (True, False)
    >>> [(n.low, n.high, n.vague) for n in numbers_in("面对上千个候选")]
    [(1000.0, 9999.0, True)]
    >>> [n.low for n in numbers_in("推荐系统三板斧", strict=False)], numbers_in("五板斧")[0].low
    ([3.0], 5.0)
    >>> [(n.low, n.high, n.counter) for n in numbers_in("a 10-50x speedup, 2×, a 3x3 kernel")]
    [(10.0, 50.0, '倍'), (2.0, 2.0, '倍')]
    >>> [n.low for n in numbers_in("概率是 1/2")], [n.low for n in numbers_in("2021/01/05, 1/n")]
    ([0.5], [2021.0, 1.0, 5.0, 1.0])
    """
    text = unicodedata.normalize("NFKC", text)
    out: list[Number] = []
    taken: list[tuple[int, int]] = []
    markers = [m.span() for m in _LIST_MARKER.finditer(text)]
    for m in _FRACTION.finditer(text):  # "0/1" is two values; evidence keeps the parts too
        numer, denom = int(m.group(1)), int(m.group(2))
        if numer and denom:
            out.append(Number(numer / denom, numer / denom, False, m.group(0), ""))
            if strict:
                taken.append(m.span())
    for m in ARABIC.finditer(text):
        if any(s <= m.start() < e for s, e in markers + taken):
            continue
        lo, pct = _scaled(m.group(2), m.group(3))
        counter = "倍" if m.group(6) else _counter_after(text, m.end())
        if m.group(4):
            hi, pct2 = _scaled(m.group(4), m.group(5))
            if m.group(5).strip() and not m.group(3).strip():  # "10~50%" / "2~3B"
                lo, pct = _scaled(m.group(2), m.group(5))
            out.append(Number(min(lo, hi), max(lo, hi), pct or pct2, m.group(0).strip(), counter))
        else:
            out.append(Number(lo, lo, pct, m.group(0).strip(), counter))
        taken.append(m.span())
    _magnitudes(text, out, taken)
    for m in _EN_NUM_RE.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        word = m.group(2).lower()
        value = float(EN_NUM[word])
        pre = m.group(1)
        if pre and pre.isdigit():
            value = float(pre) * EN_NUM[word] if EN_NUM[word] >= 100 else value
        if m.group(3):
            value *= _SCALE[m.group(3).lower()]
        out.append(Number(value, value, False, m.group(0).strip(), _counter_after(text, m.end())))
        taken.append(m.span())
    if CJK.search(text):
        _chinese_numerals(text, strict, out, taken)
    return out


def _chinese_numerals(
    text: str, strict: bool, out: list[Number], taken: list[tuple[int, int]]
) -> None:
    """Add the Chinese numerals of ``text`` (两种, 第三, 四分之一, 三板斧) to ``out`` (see
    :func:`numbers_in` for what counts on each side)."""
    for m in re.finditer(
        r"([零一二两三四五六七八九十百千万亿]+)(?:分之([零一二两三四五六七八九十]+))?", text
    ):
        s, e = m.span()
        run = m.group(1)
        if any(ts <= s < te for ts, te in taken):
            continue
        if not m.group(2) and any(_overlaps(text, w, s, e) for w in _ZH_NUM_ZH_STOP):
            continue
        ordinal = s > 0 and text[s - 1] == "第"
        after = text[e : e + 1]
        counter = after if after and after in _ZH_COUNTERS else ""
        # a lone 三-九 opening a word is a figure too: 三板斧, 四象限 say "three", "four"
        in_word = len(run) == 1 and run in "三四五六七八九" and bool(CJK.match(after))
        if not ordinal and not m.group(2) and not in_word:
            if strict and (not counter or (run == "一" and counter not in "次步倍维层")):
                continue
            if not strict and not counter and len(run) < 2:
                continue
        value = _zh_value(run)
        if value is None:
            continue
        if m.group(2):
            numer = _zh_value(m.group(2))
            if not value or numer is None:
                continue
            value = numer / value
        out.append(Number(value, value, False, ("第" if ordinal else "") + m.group(0), counter))


def _magnitudes(text: str, out: list[Number], taken: list[tuple[int, int]]) -> None:
    """Add the magnitudes of ``text`` ("a few thousand", 上千, 数百, 几十: 1000-9999 …) to
    ``out``, on both sides: a clause's "面对上千个候选" is a magnitude too, not the figure 1000."""
    found = list(_VAGUE_EN.finditer(text)) + list(_VAGUE_ZH.finditer(text))
    for m in found:
        word = next(g for g in m.groups() if g).lower().removesuffix("s")
        v = float(_MAGNITUDE[word])
        out.append(Number(v, v * 10 - 1, False, m.group(0), "", True))
        taken.append(m.span())


def _overlaps(text: str, word: str, s: int, e: int) -> bool:
    lo = max(0, s - len(word))
    for m in re.finditer(re.escape(word), text[lo : e + len(word)]):
        ws = lo + m.start()
        if ws < e and ws + len(word) > s:
            return True
    return False


def number_found(n: Number, have: frozenset[tuple[float, float, bool, str]]) -> bool:
    """``n`` among the evidence's figures ``have`` (a magnitude: a figure or range inside it)."""
    if n.vague:
        return any(not pct and n.low <= lo and hi <= n.high for lo, hi, pct, _ in have)
    key = n.key()
    # an English figure's unit (阶段 for "three stages") is met by the generic 个 too: 三个阶段
    generic = "个" if n.surface.isascii() else ""
    for lo, hi, pct, counter in have:
        if (lo, hi, pct) == key and (
            not n.counter or not counter or counter in n.counter or counter == generic
        ):
            return True
    return False


def number_keys(text: str) -> frozenset[tuple[float, float, bool, str]]:
    """What :func:`number_found` looks figures up in: the evidence side's figures (not strict),
    and the year of a date written year.month ("Paper: 2021.1" holds 2021).

    >>> n = numbers_in("dates from January 2021")[0]
    >>> number_found(n, number_keys("Paper: 2021.1 Optimizing")), number_found(n, number_keys("2021.15"))
    (True, False)
    """
    keys = {(*n.key(), n.counter) for n in numbers_in(text, strict=False)}
    keys |= {(float(y), float(y), False, "") for y in _YEAR_MONTH.findall(text)}
    return frozenset(keys)


# a date written year.month (2021.1, 2019.12), not a decimal with more digits
_YEAR_MONTH = re.compile(r"(?<![\d.])((?:19|20)\d\d)\.(?:1[0-2]|0?[1-9])(?![\d.])")


def list_length(text: str, start: int, end: int) -> frozenset[tuple[float, float, bool, str]]:
    """The length N of a list numbered 1、2、…N、 in ``text`` whose last item starts within
    ``start:end`` (a sentence holding it), as a figure: "three shortcomings" over "…不足之处,
    如: 1、…; 2、…; 3、…" (a sentence with only 1、 and 2、 of it says no "two").

    >>> t = "不足: 1、慢; 2、贵; 3、难。"
    >>> sorted(k[0] for k in list_length(t, 0, len(t))), list_length(t, 0, 10)
    ([3.0], frozenset())
    """
    listed = _numbered_list(text)
    if listed is None or not start <= listed[1] < end:
        return frozenset()
    return frozenset({(float(listed[0]), float(listed[0]), False, "")})


@lru_cache(maxsize=64)
def _numbered_list(text: str) -> tuple[int, int] | None:
    """(N, where item N starts) of the list numbered 1、…N、 in ``text``; parsed once per
    passage, not once per sentence that asks."""
    items: dict[int, int] = {}
    for m in _LIST_MARKER.finditer(unicodedata.normalize("NFKC", text)):
        items.setdefault(int(re.sub(r"\D", "", m.group(0))), m.start())
    n = 1
    while n + 1 in items:
        n += 1
    return (n, items[n]) if n >= 2 and 1 in items else None


def is_numeral(t: str) -> bool:
    """A jieba term that is only a Chinese figure (``两种``, ``第三``): no content word."""
    return bool(
        re.fullmatch(
            r"[零一二两三四五六七八九十百千万亿第]+(?:分之[零一二两三四五六七八九十]+)?"
            r"[种个点大步次维倍层类项条分]?",  # 分: the 二分 jieba cuts off 二分之一
            t,
        )
    )
