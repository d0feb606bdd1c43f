"""The checked answer's text: the supported clauses with repaired citations, and the notice.

A sentence keeps its supported clauses in order; a clause's citation mark becomes the passages
that support it (clauses that shared a mark and are supported by the same passages still share
one). A sentence whose main clause went and whose rest cannot open a sentence (which/while/
because, 其中/从而) or says next to nothing is dropped, and so is an English relative clause
(which/who/where), clause led by a pronoun (it/they/this…) or aside in parentheses whose clause
before it went: it would describe another noun; so is an English sentence led by a pronoun that
would open the answer after the sentence it spoke of went, and a sentence that opens it for the
same reason loses a "Specifically," or "此外，" that pointed back. A sentence that says an
earlier one again ("此外，" and the same words, or after a "不是。") goes. So do a sentence that
only gives the reason for one that went (因为… without 所以, unless the question asks why), the
verbless items of an English list whose head (ending in a colon) went, and a clause that
announces a list (以下, 如下, the following) all of whose items went. Punctuation left dangling
is tidied.

Example:
    >>> tidy("DDIM 更快 ， [1] 。")
    'DDIM 更快， [1]。'
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from rag.answer.claims.clauses import Parsed, Sentence, parenthetical
from rag.answer.claims.remnants import (
    IT_LED,
    bare_connective,
    compared_only,
    conditional,
    dependent,
    follows_on,
    pronoun_led,
    relative,
    says_little,
    strip_lead,
    verbless,
    without_back_reference,
)
from rag.answer.claims.result import Clause
from rag.answer.claims.words import ASKS_WHY, CITE

__all__ = ["compose", "notice", "tidy"]


def compose(text: str, parsed: Parsed, lang: str, question: str = "") -> tuple[str, list[int]]:
    """The answer rebuilt from its supported clauses, and the passages it cites (in order).

    Marks the clauses of a sentence that lost its main clause as unsupported (``question``: a
    reason that answers a "why" question stands on its own).
    """
    asks_why = bool(ASKS_WHY.search(question))
    out_sentences: list[str] = []
    cited: list[int] = []
    said: list[str] = []
    said_clauses: list[str] = []  # the cores of the clauses kept so far
    lost = False  # a whole sentence went before anything was kept
    gone = False  # the sentence before went whole
    _announced_nothing(parsed)
    for n, sentence in enumerate(parsed.sentences):
        mark, after_gone, before = len(cited), gone, parsed.sentences[:n]
        if gone and not asks_why and _reason_for_before(text, sentence, parsed):
            # "[removed: YOLO 的缺点是需要大量的计算资源。] 因为每个网格要预测 B 个 bounding box…":
            # the reason would now explain nothing the reader sees
            for i in sentence.clauses:
                if parsed.clauses[i].supported:
                    parsed.clauses[i].status = "unsupported"
                    parsed.clauses[i].reason = "it depended on a removed clause"
            continue
        _repeated_clauses(parsed, sentence, said, said_clauses)
        rebuilt = _sentence_text(text, sentence, parsed, cited)
        gone = rebuilt is None
        if rebuilt is None:
            lost = lost or not out_sentences
            continue
        if lost and not out_sentences and _opens_with_pronoun(sentence, parsed, before):
            # "[removed: The bias term adds a constant…] This allows the network to learn a
            # bias [2]." would open the answer about nothing the reader can see
            for i in sentence.clauses:
                if parsed.clauses[i].supported:
                    parsed.clauses[i].status = "unsupported"
                    parsed.clauses[i].reason = "it depended on a removed clause"
            del cited[mark:]
            gone = True
            continue
        core = _core(rebuilt, sentence.english)
        if any(_same(core, o) for o in said):
            for i in sentence.clauses:  # the model said it again ("此外，<the same sentence>")
                if parsed.clauses[i].supported:
                    parsed.clauses[i].status = "unsupported"
                    parsed.clauses[i].reason = REPEATED
            del cited[mark:]  # what only it cited
            continue  # (said before: what follows may still explain it)
        said.append(core)
        said_clauses.extend(
            _core(parsed.clauses[i].text, sentence.english)
            for i in sentence.clauses
            if parsed.clauses[i].supported
        )
        # "[removed…] Specifically, you should use…", "A. [removed B.] Instead, C.": what it
        # pointed back at is gone
        if after_gone or (lost and not out_sentences):
            rebuilt = without_back_reference(rebuilt)
        out_sentences.append(rebuilt)
    layout = parsed.sentences
    joiner = " " if lang == "en" or all(lay.english for lay in layout) else ""
    return tidy(joiner.join(out_sentences)), cited


REPEATED = "repeats an earlier sentence"
_REPEAT_MIN = 12  # characters of a clause's core: shorter ones ("as well") recur naturally
_REPEAT_MIN_HERE = 4  # the same, said again within one sentence


def _repeated_clauses(
    parsed: Parsed, sentence: Sentence, sentences: list[str], said: list[str]
) -> None:
    """A clause after the first of its sentence that says again what a kept clause (``said``)
    said goes: "DeepSeek-R1-Zero first explores using pure RL…, focusing on exploring LLMs'
    ability to develop reasoning capabilities without any supervision data" after a first
    sentence that ended with the same "focusing on…". A sentence that repeats a kept one
    (``sentences``) whole is left to go whole (:data:`REPEATED`)."""
    kept = [i for i in sentence.clauses if parsed.clauses[i].supported]
    whole = "".join(_core(parsed.clauses[i].text, sentence.english) for i in kept)
    if any(_same(whole, o) for o in sentences):
        return
    mine: set[str] = set()  # the kept clauses of this sentence so far
    for k, i in enumerate(sentence.clauses):
        clause = parsed.clauses[i]
        core = _core(clause.text, sentence.english)
        if not clause.supported:
            continue
        # the same clause twice in one sentence ("…，而“类别”的概率是连续的，而“类别”的概率是连续的"
        # once the model's clauses between them went), short ones too
        again = core in mine and len(core) >= _REPEAT_MIN_HERE
        if k and (again or (len(core) >= _REPEAT_MIN and any(_same(core, o) for o in said))):
            clause.status = "unsupported"
            clause.reason = REPEATED
        else:
            mine.add(core)


# a sentence that only gives a reason (因为/由于 … with no 所以/因此 of its own; "Because …" alone)
_REASON_ZH = re.compile(r"^\W*(?:因为|由于)")
_CONSEQUENCE_ZH = re.compile(r"所以|因此|因而|于是|从而|故而|才|就")
_REASON_EN = re.compile(r"^\W*(?:because|since)\b", re.IGNORECASE)


def _reason_for_before(text: str, sentence: Sentence, parsed: Parsed) -> bool:
    """A sentence that gives the reason for the one before it: Chinese 因为/由于 without a
    consequence of its own (所以, 因此 …), or an English "Because …" of one clause.

    >>> from rag.answer.claims.clauses import parse_answer
    >>> t = "YOLO 的缺点是需要大量资源。因为每个网格要预测 B 个框,还要预测一个 confidence 值 [1]。"
    >>> p = parse_answer(t, 1)
    >>> _reason_for_before(t, p.sentences[1], p)
    True
    >>> t = "它很快。因为它复用模型,所以不用重新训练 [1]。"
    >>> p = parse_answer(t, 1)
    >>> _reason_for_before(t, p.sentences[1], p)
    False
    """
    body = text[sentence.body[0] : sentence.body[1]]
    if sentence.english:
        return bool(_REASON_EN.match(body)) and len(sentence.clauses) == 1
    return bool(_REASON_ZH.match(body)) and not _CONSEQUENCE_ZH.search(body)


ANNOUNCED = "it announced a list whose items were removed"
# "做了以下改进：", "包括如下几点", "The main changes are as follows:" — a clause that only points ahead
_ANNOUNCES = re.compile(r"以下|如下|下列|下面几|the following|as follows", re.IGNORECASE)


def _announced_nothing(parsed: Parsed) -> None:
    """A clause that announces a list ("Glow 相比 NICE 做了以下改进：") goes when every clause after
    it went: alone it only says the question back.

    >>> from rag.answer.claims.clauses import parse_answer
    >>> p = parse_answer("做了以下改进： 1. 用了更复杂的结构。 2. 提高了质量。", 1)
    >>> for c in p.clauses[1:]:
    ...     c.status = "unsupported"
    >>> _announced_nothing(p); p.clauses[0].status, p.clauses[0].reason
    ('unsupported', 'it announced a list whose items were removed')

    So does a clause ending in a colon with nothing after it: "DPO 和 RLHF 有什么区别?" was
    answered "DPO 是直接偏好优化(DPO) 传统的RLHF方法分两步走: [1]。", the two steps never given.

    >>> p = parse_answer("传统的RLHF方法分两步走: [1]。", 1)
    >>> _announced_nothing(p); p.clauses[0].reason
    'it announced what the answer never says'
    """
    clauses = parsed.clauses
    for i, c in enumerate(clauses):
        after = clauses[i + 1 :]
        if not c.supported or any(a.supported for a in after):
            continue
        if after and _ANNOUNCES.search(c.text):
            c.status, c.reason = "unsupported", ANNOUNCED
        elif CITE.sub("", c.text).rstrip().endswith((":", "：")):
            c.status, c.reason = "unsupported", "it announced what the answer never says"


def _opens_with_pronoun(sentence: Sentence, parsed: Parsed, before: Sequence[Sentence]) -> bool:
    """An English sentence whose first kept clause is led by a pronoun (it/this/they…), but
    not an "it" when every sentence ``before`` it opened with "it" too: that "it" is the
    question's subject ("[removed: It is used to create a partial function…] It allows you to
    fix some parameters of a function [1]." to "What is functools.partial used for?")."""
    kept = [i for i in sentence.clauses if parsed.clauses[i].supported]
    if not (sentence.english and kept and pronoun_led(parsed.clauses[kept[0]].text)):
        return False
    opening = (parsed.clauses[s.clauses[0]].text for s in before if s.clauses)
    return not (
        IT_LED.match(parsed.clauses[kept[0]].text) and all(IT_LED.match(t) for t in opening)
    )


_NEGATING = re.compile(r"[不没无非未别勿]|not|no|never")
# A yes or no that opens a sentence before its statement ("不是。交叉熵下降了…", "No, it…"): the
# splitter keeps a reply that short with what follows, so the statement said again after it
# ("不是。X。X [2]。") would otherwise differ from it by the reply, a negation
_REPLY = re.compile(
    r"^(?:是的?|不是|对|不对|不|否|没有|(?:yes|no)\b)\s*[。，,.!！;；]\s*", re.IGNORECASE
)


def _core(sentence: str, english: bool) -> str:
    """What a sentence says, for comparison: no citations, punctuation, spaces, opening
    connective ("此外，", "Also,") or opening yes/no reply ("不是。").

    >>> _core("不是。交叉熵下降了,正确率不一定上升 [1]。", False)
    '交叉熵下降了正确率不一定上升'
    >>> _core("不一定上升 [1]。", False)
    '不一定上升'
    """
    t = _REPLY.sub("", strip_lead(CITE.sub("", sentence), english).strip())
    return re.sub(r"[\W_]+", "", t.lower())


def _same(a: str, b: str) -> bool:
    """Two sentence cores (:func:`_core`) say the same: equal, or one is the other with up to two
    more characters that negate nothing ("在每个 GPU 上…" and "每个 GPU 上…"; never
    "非增量方法的缺点是需要…" and "增量方法的优点是不需要…").

    >>> _same("在每个gpu上加载一个模型的参数", "每个gpu上加载一个模型的参数")
    True
    >>> _same("非增量方法的缺点是需要收集所有样本", "增量方法的优点是不需要收集所有样本")
    False

    Or the same words said again in other connectives (:func:`_near`): "Prefix-Tuning 是 CTRL 模型的
    连续化升级版，用于生成…" and "Prefix-Tuning 可以理解是 CTRL 模型的连续化升级版，为了生成…".
    """
    short, long = sorted((a, b), key=len)
    return bool(short) and (
        a == b
        or (
            short in long
            and len(long) - len(short) <= 2
            and not _NEGATING.search(long.replace(short, "", 1))
        )
        or _near(short, long)
    )


def _near(short: str, long: str) -> bool:
    """At least 12 characters, 85 % of the shorter's character pairs in the longer, lengths
    within 80 %, and the same negations, digits and order of the words they share in pairs.

    >>> _near("prefixtuning是ctrl模型的连续化升级版用于生成不同领域和话题的文本",
    ...       "prefixtuning可以理解是ctrl模型的连续化升级版为了生成不同领域和话题的文本")
    True
    >>> _near("ddim比ddpm的采样快了十到五十倍", "ddpm比ddim的采样快了十到五十倍")
    False
    >>> _near("fm具有线性时间复杂度", "ffm具有线性时间复杂度")
    False
    """
    if len(short) < 12 or len(short) < 0.8 * len(long):
        return False
    pairs = [short[i : i + 2] for i in range(len(short) - 1)]
    if sum(p in long for p in pairs) < 0.85 * len(pairs):
        return False
    same_marks = sorted(_NEGATING.findall(short)) == sorted(_NEGATING.findall(long))
    same_digits = re.findall(r"\d+", short) == re.findall(r"\d+", long)
    # the shared pairs in the same order (a swapped comparison reorders them)
    at = [long.find(p) for p in pairs if p in long]
    return same_marks and same_digits and at == sorted(at)


def _sentence_text(text: str, lay: Sentence, parsed: Parsed, cited: list[int]) -> str | None:
    """One sentence of the answer rebuilt (None when nothing of it stays)."""
    clauses = parsed.clauses
    idxs = lay.clauses
    english = lay.english
    for before, i in itertools.pairwise(idxs):
        # "…S4, [removed: it was … HiPPO,] which is a paper titled …": a relative clause
        # would now describe the noun of another clause (S4 given HiPPO's title); "[removed:
        # The bias term is added to …,] and it is multiplied by the weight…": "it" would now
        # be whatever the sentence before was about, and its support need not be about either
        removed_before = not clauses[before].supported
        follows = (
            any(f(clauses[i].text) for f in (relative, pronoun_led, parenthetical))
            if english
            else follows_on(clauses[i].text)
        )
        if removed_before and clauses[i].supported and follows:
            clauses[i].status = "unsupported"
            clauses[i].reason = "it depended on a removed clause"
    _drop_trailing_condition(parsed, idxs, english)
    kept = [i for i in idxs if clauses[i].supported]
    why = _why_it_goes(text, lay, parsed, kept)
    if why or not kept:
        for i in kept:
            clauses[i].status = "unsupported"
            clauses[i].reason = why
        return None
    pieces: list[str] = []
    # citation groups: clauses sharing one citation mark
    groups: dict[float, list[int]] = {}
    for i in idxs:
        groups.setdefault(parsed.groups[i], []).append(i)
    for j, i in enumerate(kept):
        cl = clauses[i]
        piece = CITE.sub("", text[cl.start : cl.end]).rstrip()
        if j == 0:
            piece = re.sub(r"^[\s，,；;：:]+", "", piece)
            if i != idxs[0]:
                piece = strip_lead(piece, english)
                if english and piece:
                    piece = piece[0].upper() + piece[1:]
        members = [m for m in groups[parsed.groups[i]] if clauses[m].supported]
        after = members[members.index(i) + 1 :]
        marks = _marks(cl, clauses[after[0]] if after else None)
        if marks:  # "input, [1]" -> "input [1],": the mark goes before the clause's comma
            tail = re.search(r"[，,；;：:]\s*$", piece)
            cut = tail.start() if tail else len(piece)
            mark = "".join(f"[{x}]" for x in marks)
            piece = f"{piece[:cut].rstrip()} {mark}{piece[cut:].strip()}"
            for x in marks:
                if x not in cited:
                    cited.append(x)
        if pieces and piece[:1].isalnum() and text[cl.start - 1 : cl.start].isspace():
            piece = " " + piece  # "fast because": the clauses' own space, not "fastbecause"
        pieces.append(piece)
    sentence = "".join(pieces).strip()
    if english:  # "brands [1],which" -> "brands [1], which"
        sentence = re.sub(r"([,;:\]])(?=[A-Za-z])", r"\1 ", sentence)
    sentence = re.sub(r"[，,；;：:\s]+$", "", sentence)
    punct = lay.punct or ("." if english else "。")
    if not english and punct.startswith(("..", "…")):
        punct = "。"  # "…HiPPO、S4、Mam... [1]。" (a cut-off quote) ended "Mam [1]."
    return sentence + punct[:1] if not sentence.endswith(punct[:1]) else sentence


def _drop_trailing_condition(parsed: Parsed, idxs: list[int], english: bool) -> None:
    """A condition that ends what is left of its sentence goes alone: "The process moves from
    a random sampling model to a deterministic one, and if the goal is an ODE [removed: it may
    seem a bit "irregular"]" keeps its first clause (a condition inside what is left still takes
    the whole sentence with it: :func:`_why_it_goes`)."""
    clauses = parsed.clauses
    for j in range(1, len(idxs)):
        i = idxs[j]
        rest = idxs[j + 1 :]
        if (
            clauses[i].supported
            and clauses[idxs[j - 1]].supported
            and rest
            and not any(clauses[r].supported for r in rest)
            and conditional(clauses[i].text, english)
        ):
            clauses[i].status = "unsupported"
            clauses[i].reason = "its condition lost what it conditions"


def _why_it_goes(text: str, lay: Sentence, parsed: Parsed, kept: list[int]) -> str:
    """Why the kept clauses of a sentence cannot stand without the ones that went ("": they
    can)."""
    clauses, idxs, english = parsed.clauses, lay.clauses, lay.english
    if not kept:
        return ""
    if english and _list_of_removed_head(text, idxs, kept, parsed):
        # "[removed: DPO is a method that combines the two stages of RLHF:] supervised
        # microtuning (SFT), reward modeling, and RL microtuning [1]." — the items of a list whose
        # head went say nothing by themselves (they opened the answer to "What is DPO?")
        return "it depended on a removed clause"
    if all(_only_labels(clauses[i].text) for i in kept):
        return "a bracketed label, not a sentence"  # "[DPO]": written like a citation
    # "This means that if an object is very small, [removed: it may fall within several grid
    # cells], and each grid cell will predict…": a condition whose consequence went
    for a, b in itertools.pairwise(idxs):
        if a in kept and b not in kept and conditional(clauses[a].text, english):
            return "its condition lost what it conditions"
    first = kept[0]
    # the rest cannot stand alone ("which …", "因为 …"), or says nothing ("具体来说 [1]。"
    # was left of a sentence whose every claim went; "equals 1, 2, and 4 respectively" of one
    # whose main clause went): drop the sentence
    if (
        (first != idxs[0] and dependent(clauses[first].text, english))
        or (len(kept) < len(idxs) and all(_says_nothing(clauses[i].text, english) for i in kept))
        or (english and first != idxs[0] and says_little([clauses[i].text for i in kept]))
    ):
        return "its sentence lost its main clause"
    return ""


def _says_nothing(text: str, english: bool) -> bool:
    """A connective ("具体来说") or only what the rest was compared with ("和 DataParallel 比")."""
    return bare_connective(text, english) or compared_only(text, english)


def _list_of_removed_head(text: str, idxs: list[int], kept: list[int], parsed: Parsed) -> bool:
    """Every kept clause of the sentence follows a removed clause that ended with a colon (or
    with the list's first item after one), and none has a verb: the items of a list whose head
    went."""
    clauses = parsed.clauses
    heads = [
        i
        for i in idxs
        if i < kept[0]
        and not clauses[i].supported
        and (
            re.match(r"\s*[:：]", text[clauses[i].end : clauses[i].end + 3])
            # the list's first item went with it ("…two stages of RLHF: SFT", then "Reward
            # Model, and RL microtuning")
            or (
                verbless(re.split(r"[:：]", clauses[i].text)[-1])
                and re.search(r"[:：]", clauses[i].text)
            )
        )
    ]
    return bool(heads) and all(verbless(clauses[i].text) for i in kept)


def _only_labels(text: str) -> bool:
    """Nothing but bracketed labels and punctuation ("[DPO]", "【结论】")."""
    rest = re.sub(r"\[[^\[\]]*\]|【[^【】]*】", "", text)
    return rest != text and not re.search(r"[0-9A-Za-z\u3400-\u9fff]", rest)


def _marks(cl: Clause, next_in_group: Clause | None) -> list[int]:
    """The passage numbers to cite after clause ``cl`` of a citation group: its support, once
    for a run of clauses with the same support, after the run's last clause ("with m, say,
    equals 1, 2, and 4 [1]", not "with m, say [1], equals 1, 2 [1], and 4 [1]")."""
    if next_in_group is not None and next_in_group.support == cl.support:
        return []
    return list(dict.fromkeys(cl.support))


def tidy(text: str) -> str:
    """Spaces before punctuation, doubled commas and stray spaces removed."""
    text = re.sub(r"[ \t]+([，。！？；：,.!?;:])", r"\1", text)
    text = re.sub(r"(\])([。！？.!?])", r"\1\2", text)
    text = re.sub(r"\s+(\[\d)", r" \1", text)
    text = re.sub(r"([，,；;])\s*[，,；;]+", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip()


def notice(removed: list[Clause], dropped: list[int], lang: str) -> str | None:
    """One line naming the removed clauses (up to 3) and the invalid citations, or None."""
    # a connective that went with its sentence ("具体来说"), a label ("[DPO]"): not worth naming
    removed = [
        c
        for c in removed
        if not bare_connective(c.text, c.lang == "en")
        and not _only_labels(c.text)
        and c.reason not in (REPEATED, ANNOUNCED)
    ]
    if not removed and not dropped:
        return None
    parts = []
    if removed:
        texts = list(dict.fromkeys(c.text for c in removed))  # a clause the model said twice: once
        shown = [t if len(t) <= 40 else t[:38] + "…" for t in texts[:3]]
        quoted = (
            "、".join(f"“{s}”" for s in shown)
            if lang == "zh"
            else "; ".join(f'"{s}"' for s in shown)
        )
        parts.append(
            ("已删除资料不支持的内容：" if lang == "zh" else "Removed unsupported: ") + quoted
        )
    if dropped:
        nums = "".join(f"[{n}]" for n in dropped)
        parts.append(
            f"无效引用 {nums} 已移除" if lang == "zh" else f"invalid citation {nums} removed"
        )
    return ("；" if lang == "zh" else "; ").join(parts)
