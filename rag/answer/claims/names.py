"""Names: the model names, acronyms and Latin terms of a clause, and finding them in a text.

In an English clause a name is a run of tokens holding an acronym, a CamelCase word, a word
with digits or a code identifier (``bucketized_column``, ``torch.nn``), with the Capitalised
words next to it (``Faster RCNN``, ``GPT-4o``); in a Chinese clause every Latin run is one.
Names are compared normalised (lowercase, letters and digits): a plural, a "-like/-based"
suffix or one typo in a long name still match. A name whose evidence names another version of
it instead ("DeepSeek-R1" over "在 DeepSeek-V2 中…") is a swap (:func:`name_swapped`).

Example:
    >>> strong_names("the Faster RCNN detector", "the Faster RCNN detector", 0)
    ['Faster RCNN']
    >>> strong_names("a 10-50x speedup of GPT-4o", "a 10-50x speedup of GPT-4o", 0)
    ['GPT-4o']
    >>> strong_names("call tf.feature_column.bucketized_column here", "x", 0)
    ['tf.feature_column.bucketized_column']
    >>> strong_names("It models theCTR/CVR here", "x", 0)
    ['CTR/CVR']
    >>> strong_names("The example is tensorflow/python/platform/app.py", "x", 0)
    ['tensorflow/python/platform/app.py']
    >>> name_in("maskrcnn", "fasterrcnn"), name_in("transformers", "atransformerblock")
    (False, True)
"""

from __future__ import annotations

import functools
import itertools
import re

from rag.answer.claims.numbers import EN_NUM
from rag.answer.claims.words import EN_STOP, NORM_DROP
from rag.text.language import english_prose_spans, question_language

__all__ = [
    "CLAUSE_SEGMENT",
    "expansion_of",
    "is_strong_name",
    "latin_name_spans",
    "latin_names",
    "name_in",
    "name_swapped",
    "names_equated",
    "question_names",
    "strong_names",
]

_MULTIPLE = re.compile(r"\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?[xX]")  # "10x", "10-50x": a figure
# a code identifier: snake_case ("bucketized_column") or dotted ("torch.nn", "tf.feature_column")
# (or a file path: "tensorflow/python/platform/app.py")
_IDENTIFIER = re.compile(
    r"[A-Za-z]\w*_\w*[A-Za-z0-9]|[A-Za-z]{2,}\w*(?:\.[A-Za-z]{2,}\w*)+"
    r"|[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+\.[A-Za-z]{1,4}"
)
_SQUARED = re.compile(r"(?:k|c|m|d)?m[23]", re.IGNORECASE)  # km² read as km2: a unit
_GLUED = re.compile(r"^(?:the|a|an|of|and|to|in|on|by|for|with|is)(?=[A-Z]{2})")
_NAME_SUFFIX = re.compile(r"(?:like|based|style|styled|wise|level|free|aware|type)$")
# a sentence that compares names mentions the other one on purpose ("相比 DeepSeek-V2, 它…")
_COMPARES = re.compile(r"比|对比|相较|不同于|区别|\b(?:than|compared?|versus|vs|unlike)\b", re.I)


def name_in(name: str, hay: str) -> bool:
    """A normalised name in a normalised text: exactly, as a plural, or with one typo if long."""
    if name in hay:
        return True
    head = _NAME_SUFFIX.sub("", name)
    if head != name and len(head) >= 2 and head in hay:
        return True
    if name.endswith("s") and len(name) > 3 and name[:-1] in hay:
        return True
    n = len(name)
    if n < 8:
        return False
    first, last = name[:2], name[-2:]
    for i in range(len(hay) - n + 1):
        window = hay[i : i + n]
        if window[:2] != first and window[-2:] != last:
            continue
        if sum(a != b for a, b in zip(window, name, strict=True)) <= 2:
            return True
    return False


def name_mentioned(name: str, norm_text: str, low_text: str) -> bool:
    """:func:`name_in` ``norm_text``; a short ASCII name (2 to 4 characters) must also be a
    word of ``low_text`` (the lowercased text; separators inside a word ignored, plurals
    allowed): "PPO" is not in "HiPPO", "SSMs" is in "SSM", "N_RF" and "I/O" are words.

    >>> text = "hippo, s4 的 ssm, n_rf 与 i/o"
    >>> norm = "hippos4的ssmnrf与io"
    >>> [name_mentioned(n, norm, text) for n in ("ppo", "s4", "ssms", "nrf", "io")]
    [False, True, True, True, True]

    An acronym of 3 to 6 letters is also found as the initials of consecutive Latin words
    ("MCTS" in "蒙特卡洛树搜索(Monte Carlo Tree Search)"):

    >>> text = "蒙特卡洛树搜索(monte carlo tree search)、束搜索"
    >>> [name_mentioned(n, "蒙特卡洛树搜索montecarlotreesearch束搜索", text) for n in ("mcts", "mtcs")]
    [True, False]
    """
    if not name_in(name, norm_text):
        return (
            3 <= len(name) <= 6
            and name.isascii()
            and name.isalpha()
            and name in _initials(low_text)
        )
    if not 2 <= len(name) <= 4 or not name.isascii():
        return True
    words = _words(low_text)
    return name in words or name + "s" in words or (name.endswith("s") and name[:-1] in words)


@functools.lru_cache(maxsize=64)
def _initials(low_text: str) -> frozenset[str]:
    """The initials of every 3 to 6 consecutive Latin words of a lowercased text (words joined
    by a space or a hyphen, as in "monte carlo tree search" or "pre-trained language model")."""
    out: set[str] = set()
    for run in re.findall(r"[a-z][a-z0-9]*(?:[ \-][a-z][a-z0-9]*)+", low_text):
        heads = [w[0] for w in re.split(r"[ \-]", run)]
        for size in range(3, 7):
            out.update("".join(heads[i : i + size]) for i in range(len(heads) - size + 1))
    return frozenset(out)


@functools.lru_cache(maxsize=64)
def _words(low_text: str) -> frozenset[str]:
    """The Latin words and numbers of a lowercased text, separators inside a word dropped."""
    found = re.findall(r"[a-z0-9]+(?:[_/\-][a-z0-9]+)*", low_text)
    return frozenset(re.sub(r"[_/\-]", "", w) for w in found)


def strong_names(group: str, text: str, offset: int) -> list[str]:
    """The names of an English Latin group: runs holding an acronym, a CamelCase word or a word
    with digits, with the Capitalised words next to them (``Faster RCNN``, ``GPT-4o``)."""
    tokens = list(re.finditer(r"[A-Za-z0-9][A-Za-z0-9_]*(?:[-./][A-Za-z0-9_]+)*", group))
    out: list[str] = []
    run: list[str] = []
    has_strong = False

    def flush() -> None:
        nonlocal run, has_strong
        if run and has_strong:
            out.append(" ".join(run))
        run, has_strong = [], False

    for m in tokens:
        # a name glued to the word before it by the model ("theCTR/CVR"): the name itself
        tok = _GLUED.sub("", m.group(0))
        at_start = not text[: offset + m.start()].strip(" ,;:(（")
        strong = (
            not _MULTIPLE.fullmatch(tok)
            and not _SQUARED.fullmatch(tok)
            and (
                sum(ch.isupper() for ch in tok) >= 2
                or (re.search(r"\d", tok) is not None and re.search(r"[A-Za-z]", tok) is not None)
                or re.search(r"[a-z][A-Z]", tok) is not None
                or _IDENTIFIER.fullmatch(tok) is not None
            )
        )
        capital = (
            tok[:1].isupper()
            and len(tok) > 1  # a variable ("N GPUs", "K heads") is no part of a name
            and tok.lower() not in EN_STOP
            and tok.lower() not in EN_NUM
            and not at_start
        )
        if strong or capital:
            run.append(tok)
            has_strong = has_strong or strong
        else:
            flush()
    flush()
    return out


# a Latin word (of a question, or of the evidence a name swap is looked for in)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:[-./][A-Za-z0-9_]+)*")


def is_strong_name(token: str) -> bool:
    """A Latin word that is a name by its shape: an acronym (two capitals), CamelCase or a word
    with digits ("DPO", "KimiVL", "GPT-4"), not a Capitalised word ("Monte").

    >>> [is_strong_name(t) for t in ("DPO", "KimiVL", "GPT-4", "Monte")]
    [True, True, True, False]
    """
    return sum(ch.isupper() for ch in token) >= 2 or bool(re.search(r"\d|[a-z][A-Z]", token))


def question_names(question: str) -> list[tuple[str, str]]:
    """(surface, normalised) names of a question: its Latin words that are names (an acronym,
    CamelCase, digits) and, in an English question, its Capitalised words after the first
    (``Mamba`` in "How does Mamba's selective scan work?").

    Example:
        >>> [n for n, _ in question_names("How does Mamba's selective scan work in DDIM?")]
        ['Mamba', 'DDIM']
        >>> [n for n, _ in question_names("KimiVL 的视觉编码器叫什么?")]
        ['KimiVL']
        >>> question_names("What is the receptive field?")
        []
        >>> [n for n, _ in question_names("What is DDIM? 它快多少? How many steps does it need?")]
        ['DDIM']
    """
    out: dict[str, str] = {}
    english = question_language(question) == "en"
    # (English prose inside a Chinese question, a follow-up carried over: its names only)
    prose = [] if english else english_prose_spans(question)
    for i, m in enumerate(_LATIN_WORD.finditer(question)):
        tok = m.group(0)
        if tok.endswith("'s"):
            tok = tok[:-2]
        strong = is_strong_name(tok)
        capital = english and i > 0 and tok[:1].isupper() and tok.lower() not in EN_STOP
        in_prose = any(a <= m.start() < b for a, b in prose)
        if strong or capital or not (english or in_prose):
            out.setdefault(tok, NORM_DROP.sub("", tok.lower()))
    return [(name, norm) for name, norm in out.items() if norm]


def expansion_of(acronym: str, text: str) -> list[str]:
    """The consecutive Latin words of ``text`` whose initials spell ``acronym`` (its expansion,
    written out beside it: "MTP 是 Multi-Token Prediction"), or [] when there are none.

    Example:
        >>> expansion_of("MTP", "MTP 是 Multi-Token Prediction")
        ['Multi', 'Token', 'Prediction']
        >>> expansion_of("MTP", "MTP 是一种训练目标"), expansion_of("Mamba", "Mamba is an SSM")
        ([], [])
    """
    if not (2 <= len(acronym) <= 6 and acronym.isalpha() and acronym.isupper()):
        return []
    for run in re.findall(r"[A-Za-z][A-Za-z0-9]*(?:[ \-][A-Za-z][A-Za-z0-9]*)+", text):
        words = re.split(r"[ \-]", run)
        heads = "".join(w[0] for w in words).lower()
        at = heads.find(acronym.lower())
        if at >= 0:
            return words[at : at + len(acronym)]
    return []


def name_swapped(names: list[tuple[str, str]], text: str) -> tuple[str, str] | None:
    """(the clause's name, the sibling ``text`` names instead) when ``text`` lacks one of the
    clause's names but holds a sibling of it: the same name with another version or file
    ("DeepSeek-R1" over "在 DeepSeek-V2 中已经得到验证", ".../flags.py" over ".../app.py"). A
    sentence that compares the two is not a swap (its subject may be "它").

    Example:
        >>> name_swapped([("DeepSeek-R1", "deepseekr1")], "两种架构在 DeepSeek-V2 中已经得到验证")
        ('DeepSeek-R1', 'DeepSeek-V2')
        >>> name_swapped([("YOLOv3", "yolov3")], "YOLOv3 比 YOLOv2 更快") is None
        True
        >>> name_swapped([("a/b/flags.py", "abflagspy")], "例如 a/b/app.py 中有")
        ('a/b/flags.py', 'a/b/app.py')
        >>> name_swapped([("GPT-4", "gpt4")], "GPT-4o 的效果") is None
        True
        >>> name_swapped([("GridWorld", "gridworld")], "以 GridWord 为例") is None
        True
        >>> name_swapped([("DeepSeekMoE", "deepseekmoe")], "DeepSeek-V3 采用了 MLA") is None
        True
        >>> name_swapped([("listwise", "listwise")], "精排用 pointwise 的方式预估 CTR")
        ('listwise', 'pointwise')
    """
    if _COMPARES.search(text):
        return None
    norm_text = NORM_DROP.sub("", text.lower())
    theirs = {m.group(0): NORM_DROP.sub("", m.group(0).lower()) for m in _LATIN_WORD.finditer(text)}
    for surface, norm in names:
        # (exactly: name_in forgives "one typo", and a version is not a typo)
        if len(norm) < 4 or norm in norm_text or norm.rstrip("s") in norm_text:
            continue
        for other, onorm in theirs.items():
            if _siblings(surface, norm, other, onorm):
                return surface, other
    return None


# "A 是 B" / "A is B": a clause that says one name is another
_COPULA = re.compile(r"是|即|(?i:\b(?:is|are|was|were)\b)")
# a text's clauses: cut at punctuation and at a contrasting 而 ("…是 S4,而…变体是 Mamba")
CLAUSE_SEGMENT = re.compile(r"[，,；;。！？!?：:]|而")
_FIGURE_BEFORE = re.compile(r"\d\s*$")  # "4.7 GHz": a unit, not a name


def names_equated(clause: str, text: str) -> tuple[str, str] | None:
    """(A, B) when the clause says name A is name B but ``text`` names them as the answers of
    two different clauses, each after a copula of its own ("Mamba 是2021年的 S4" over "开篇之作是
    2021年的 S4,而…最新最火的变体大概是Mamba"). A clause of ``text`` that has both links them,
    and so does the clause quoting ``text``. The question's own names count (the clause's
    ``names`` leave them out as given); a unit after a figure ("4.7 GHz") is no name.

    Example:
        >>> ev = "一般认为其开篇之作是2021年的 S4,而SSM最新最火的变体大概是Mamba。"
        >>> names_equated("Mamba 是2021年的 S4", ev)
        ('Mamba', 'S4')
        >>> names_equated("S4 是 SSM 的开篇之作", ev) is None
        True
        >>> names_equated("DDIM 是 DDPM 的加速", "为了加速 DDPM 的采样, DDIM 是一种新的采样方法") is None
        True
        >>> ev = "时脉为4.7 GHz, 是其上一代POWER5的2倍"
        >>> names_equated('It is 4.7 GHz ("4.7 GHz, 是其上一代POWER5的2倍")', ev) is None
        True
    """
    chinese = question_language(clause) == "zh"
    found = {
        m.group(0): m.start()
        for m in _LATIN_WORD.finditer(clause)
        if _named(m.group(0), chinese) and not _FIGURE_BEFORE.search(clause[: m.start()])
    }
    segments = [seg for seg in CLAUSE_SEGMENT.split(text) if seg.strip()]
    for a, b in itertools.combinations(sorted(found, key=found.get), 2):
        an, bn = (NORM_DROP.sub("", n.lower()) for n in (a, b))
        if an in bn or bn in an or not _COPULA.search(clause[found[a] + len(a) : found[b]]):
            continue
        if _squeezed(clause[found[a] : found[b] + len(b)]) in _squeezed(text):
            continue  # the clause quotes the text
        with_a = [seg for seg in segments if _at(a, seg)]
        with_b = [seg for seg in segments if _at(b, seg)]
        if not with_a or not with_b or set(with_a) & set(with_b):
            continue
        if all(_answers(n, seg) for n, segs in ((a, with_a), (b, with_b)) for seg in segs):
            return a, b
    return None


def latin_names(text: str, chinese: bool = True) -> list[str]:
    """The Latin words of ``text`` that are names (:func:`_named`), in order.

    >>> latin_names("一般认为其开篇之作是2021年的 S4,而最新的变体是Mamba, 阈值 T")
    ['S4', 'Mamba']
    """
    return [m.group(0) for m in _LATIN_WORD.finditer(text) if _named(m.group(0), chinese)]


def latin_name_spans(text: str, chinese: bool = True) -> list[tuple[int, int, str]]:
    """(start, end, name) of each name :func:`latin_names` finds, in order.

    >>> latin_name_spans("RLHF 先训练奖励模型; DPO 不必")
    [(0, 4, 'RLHF'), (14, 17, 'DPO')]
    """
    return [
        (m.start(), m.end(), m.group(0))
        for m in _LATIN_WORD.finditer(text)
        if _named(m.group(0), chinese)
    ]


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _named(token: str, chinese: bool) -> bool:
    """A Latin run that is a name: in a Chinese clause a capitalised one (Mamba), in an English
    one two capitals or a digit (S4, DDIM; not "The")."""
    capitals = sum(c.isupper() for c in token)
    digits = any(c.isdigit() for c in token)
    return len(token) >= 2 and (capitals >= 2 or digits or (chinese and token[0].isupper()))


def _at(name: str, text: str) -> re.Match[str] | None:
    """``name`` in ``text`` as a whole word, in any case."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", text, re.I)


def _answers(name: str, segment: str) -> bool:
    """``name`` comes after a copula in ``segment`` (it is what the clause says something is)."""
    at = _at(name, segment)
    return at is not None and bool(
        _COPULA.search(segment[: at.start()]) or "为" in segment[: at.start()]
    )


def _siblings(a: str, anorm: str, b: str, bnorm: str) -> bool:
    """Two different names of one family: a shared head of 4+ characters (most of each) and
    short different tails with a number ("deepseekr1"/"deepseekv2", "yolov3"/"yolov2"; not the
    typo "gridworld"/"gridword", not "deepseekmoe"/"deepseekv3"), or two files of one
    folder ("x/y/flags.py", "x/y/app.py")."""
    if anorm == bnorm or not bnorm:
        return False
    if "/" in a and "/" in b:
        return a.rsplit("/", 1)[0].lower() == b.rsplit("/", 1)[0].lower()
    p = next(
        (i for i, (x, y) in enumerate(zip(anorm, bnorm, strict=False)) if x != y),
        min(len(anorm), len(bnorm)),
    )
    # a version is a number on both sides ("GridWorld" over "GridWord" is a typo, DeepSeekMoE
    # is no version of DeepSeek-V3)
    short = p >= 4 and 0 < len(anorm) - p <= 3 and 0 < len(bnorm) - p <= 3
    if short and all(any(ch.isdigit() for ch in t) for t in (anorm[p:], bnorm[p:])):
        return True
    # one family by its ending: "listwise" / "pointwise", "Performer" / "Transformer" (a shared
    # ending of 4+ letters after a head of 3+ letters on each side, letters only)
    q = next(
        (i for i, (x, y) in enumerate(zip(anorm[::-1], bnorm[::-1], strict=False)) if x != y),
        min(len(anorm), len(bnorm)),
    )
    return q >= 4 and anorm.isalpha() and bnorm.isalpha() and min(len(anorm), len(bnorm)) - q >= 3
