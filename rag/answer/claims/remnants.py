"""What is left of an answer sentence once some of its clauses went: can it stand alone?

The claim check removes unsupported clauses; what remains is shown only if a reader can take it
as a sentence. It cannot when it opens with a subordinator ("which …", "因为 …": its main clause
went), is a relative clause or a clause led by a pronoun after a removed clause (it would now
describe another noun), is only a connective ("具体来说"), or holds at most one content word
("equals 1, 2, and 4 respectively").

Example:
    >>> dependent("which is faster", True), relative(", which is a paper"), pronoun_led("and it is")
    (True, True, True)
    >>> strip_lead("但需要更多资源", False)
    '需要更多资源'
"""

from __future__ import annotations

import re

from rag.answer.claims.clauses import EN_LEAD
from rag.answer.claims.words import CITE, EN_EXTRA_STOP, EN_STOP, EN_WORD

__all__ = [
    "IT_LED",
    "bare_connective",
    "compared_only",
    "dependent",
    "follows_on",
    "pronoun_led",
    "relative",
    "says_little",
    "strip_lead",
]

# the words that open a condition, in the rules of a clause left alone and of a condition left
# without what it conditions
_EN_IF = r"if|unless|when|whenever"
_ZH_IF = ("如果", "假如", "除非")
_EN_SUBORDINATE = re.compile(
    r"^(?:which|while|whereas|although|though|because|and because|"
    r"so that|making|where|who|whose|such as|including|e\.g\.|with|without|by|using|via|rather|"
    # the other branch of a condition that went: "…, otherwise it outputs 0"
    r"otherwise|or else|else|"
    # "…, as it allows the use of discrete distributions": its "it" was the removed clause's
    r"as (?:it|they|this|these|those)|since|"
    r"but rather|thereby|allowing|enabling|leading to|resulting in|instead of|in order to|"
    r"unlike|as well as|compared (?:with|to)|thus \w+ing|"
    # "…the same output, regardless of the input": a qualifier of the clause that went
    r"regardless of|irrespective of|no matter|despite|in spite of|"
    # a purpose whose main clause went: "To simplify the problem [1]."
    r"to (?!date\b)[a-z]+|"
    # one half of "the higher the temperature, the smoother the distribution"
    r"the (?:more|less|fewer|\w+er) the|"
    # a condition or time whose main clause went ("If the batch is small [1].")
    rf"{_EN_IF}|until)(?!\w)",
    re.IGNORECASE,
)
_EN_RELATIVE = re.compile(r"^(?:which|who|whom|whose|where)(?!\w)", re.IGNORECASE)
_EN_PRONOUN_SUBJECT = re.compile(r"^(?:it|its|they|their|this|these|those)(?!\w)", re.IGNORECASE)
_ZH_SUBORDINATE = (
    *("其中", "从而", "使得", "以便", "以", "即", "比如", "例如", "譬如"),
    # a reason, concession, condition or purpose whose main clause went: "因为…", "为了…"
    *("因为", "由于", "虽然", "尽管", *_ZH_IF, "为了"),
    # a contrast with nothing left to contrast: "…是因为预训练…(removed)，但能够提高…"
    *("但是", "但", "然而", "不过", "可是"),
)
# an adverb that leans on the subject of the clause before it: "都存在一个对应的最优策略" was left
# of "…DPO发现了一个数学上的捷径:对于任何奖励函数(removed)，都存在…" (not 还原, 都市: words)
_ZH_LEANING = re.compile(r"^(?:都|也|就|才|又|还|便|却|仍|则|而是)(?![原市])")


# (after a conjunction too: "…, and if the goal is an ODE" once ", it may seem…" went)
_EN_CONDITION = re.compile(
    rf"^(?:(?:and|but|or|so|yet) )?(?:(?:this|that|which|it) means (?:that )?)?"
    rf"(?:{_EN_IF}|once)\b",
    re.I,
)
_ZH_CONDITION = (*_ZH_IF, "假设", "若", "一旦", "只要", "当")
_ZH_CONJUNCTION = re.compile(
    r"^(?:而且|并且|但是|可是|而|但|且|那么)(?=如果|假如|除非|假设|若|一旦|只要)"
)


def conditional(text: str, english: bool) -> bool:
    """A clause that states a condition and leaves its consequence to the next clause.

    Example:
        >>> conditional("This means that if an object is very small", True)
        True
        >>> conditional("如果样本数量很大", False), conditional("Iffy results follow", True)
        (True, False)
        >>> conditional("and if the goal is an ODE", True), conditional("而如果目标就是ODE", False)
        (True, True)
    """
    t = re.sub(r"^[\s，,；;：:]+", "", text)
    if english:
        return bool(_EN_CONDITION.match(t))
    return _ZH_CONJUNCTION.sub("", t).startswith(_ZH_CONDITION)


def says_little(texts: list[str]) -> bool:
    """English clauses left of a sentence that hold at most one content word besides figures
    and -ly adverbs: "equals 1, 2, and 4 respectively" once "SPP divides the maps into bins with
    m, say," went.

    >>> says_little(["equals 1, 2", "and 4 respectively"]), says_little(["memory use is high"])
    (True, False)
    """
    words = [w.lower() for t in texts for w in EN_WORD.findall(CITE.sub("", t))]
    content = [
        w
        for w in words
        if w not in EN_STOP and w not in EN_EXTRA_STOP and len(w) > 2 and not w.endswith("ly")
    ]
    return len(content) <= 1


_ZH_STRIP_LEAD = tuple("但是 但 然而 而且 并且 因此 所以 不过 同时 此外 另外".split())  # noqa: SIM905 - a word list


def strip_lead(text: str, english: bool) -> str:
    """``text`` without its leading punctuation and conjunction ('但需要…' -> '需要…'; an English
    one before Chinese words too: 'Because pointwise模式的打分…' -> 'pointwise模式的打分…').

    >>> strip_lead("Because pointwise模式的打分无法…", False)
    'pointwise模式的打分无法…'
    """
    t = re.sub(r"^[\s，,；;：:]+", "", text)
    if english or t[:1].isascii():
        t = EN_LEAD.sub("", t)
    if english:
        return t
    for lead in _ZH_STRIP_LEAD:
        if t.startswith(lead):
            return re.sub(r"^[\s，,]+", "", t[len(lead) :])
    return t


def dependent(text: str, english: bool) -> bool:
    """A clause that cannot open a sentence (which/while/because/such as…, 其中/从而/比如…).

    Example:
        >>> dependent("such as product brands,", True), dependent("Such data is rare", True)
        (True, False)
        >>> dependent("比如产品的品牌", False), dependent("深度神经网络只能处理数值数据", False)
        (True, False)
        >>> dependent("因为 DDPM 的反向过程利用了马尔可夫假设", False)
        True
        >>> dependent("with each token activating 37B parameters", True)  # its verb went
        True
        >>> dependent("but rather from a random sampling model to an ODE model", True)
        True
        >>> dependent("without needing to access GPU global memory", True)  # its "how" went
        True
        >>> dependent("the smoother the distribution", True), dependent("The larger model wins", True)
        (True, False)
        >>> dependent("as it allows the use of discrete distributions", True)
        True
        >>> dependent("otherwise it outputs 0", True)  # its condition went
        True
        >>> dependent("As shown in Table 1, DDIM is faster", True)
        False
        >>> dependent("tracing back to the input image", True), dependent("sampling is faster", True)
        (True, False)
        >>> dependent("bounding box coordinates and confidence scores", True)
        False
        >>> dependent("If the batch is small", True), dependent("Iffy results follow", True)
        (True, False)
    """
    t = re.sub(r"^[\s，,；;：:]+", "", text)
    if english:
        return bool(_EN_SUBORDINATE.match(t)) or _participle(t)
    return t.startswith(_ZH_SUBORDINATE)


# an -ing word followed by what a verb takes (an object's determiner, a pronoun, a particle or
# preposition): "tracing back to…", "computing the…", "forcing him to…"; not "bounding box…"
_EN_ING = re.compile(
    r"(?:and\s+)?([A-Za-z]{2,}ing)\s+(?:the|a|an|it|its|them|him|her|his|their|this|these|that|"
    r"those|each|every|all|some|any|back|up|down|out|off|over|away|to|from|into|onto|on|in|"
    r"with|by|for|through|across|more|less)\b",
    re.IGNORECASE,
)
_NOT_PARTICIPLES = frozenset(
    [
        "according",
        "during",
        "something",
        "nothing",
        "anything",
        "everything",
        "thing",
        "string",
        "king",
        "spring",
        "morning",
        "evening",
        "ceiling",
    ]
)
_FINITE = re.compile(
    r"\b(?:is|are|was|were|be|been|has|have|had|can|could|will|would|may|might|must|should|"
    r"does|do|did)\b",
    re.IGNORECASE,
)


def _participle(t: str) -> bool:
    """A participial phrase, without a verb of its own: "tracing back to the input image" and
    "and computing the receptive field for each layer" were left of "The receptive field is
    calculated by iterating from the top…, tracing back…, and computing…" (not "sampling is
    10 times faster")."""
    m = _EN_ING.match(t)
    return bool(m) and m.group(1).lower() not in _NOT_PARTICIPLES and not _FINITE.search(t)


_ZH_CONNECTIVES = frozenset(
    """具体来说 具体而言 具体地说 也就是说 换句话说 换言之 例如 比如 譬如 总之 总的来说 总而言之 简单来说
    简而言之 综上所述 此外 另外 首先 其次 然后 最后 因此 所以 同时 而且 并且 不过 然而 但是 但 其中 即
    那么 于是 另一方面 一方面 事实上 实际上 这样 这样一来 也就是 从而""".split()  # noqa: SIM905 - a word list reads better as text
)
_EN_CONNECTIVES = re.compile(
    r"(?:specifically|for example|for instance|in other words|in short|in summary|that is|"
    r"however|therefore|thus|also|moreover|furthermore|first|firstly|second|secondly|then|"
    r"additionally|in addition|in fact|so|hence|finally|as a result|overall|in particular|"
    r"namely|in this way)",
    re.IGNORECASE,
)


def bare_connective(text: str, english: bool) -> bool:
    """A clause that is only a discourse connective ("具体来说", "For example,"): it says
    nothing once what it introduced was removed.

    Example:
        >>> bare_connective("具体来说，", False), bare_connective("具体来说，梯度可以反传", False)
        (True, False)
        >>> bare_connective(" In other words,", True), bare_connective("Then it stops", True)
        (True, False)
    """
    t = re.sub(r"[\s，,；;：:。.!?！？]+", " ", CITE.sub("", text)).strip()
    if english:
        return bool(_EN_CONNECTIVES.fullmatch(t))
    return t in _ZH_CONNECTIVES


# what a Chinese clause draws from the clause just before it: a consequence, a purpose, a part
# or an example of it, or its subject (a contrast may stand: "A，但 B" still says A and B)
_ZH_FOLLOWS = re.compile(
    r"^(?:其中|从而|进而|使得|使其|以便|即|比如|例如|譬如|因此|所以|因而|于是)"
)


def follows_on(text: str) -> bool:
    """A Chinese clause that follows on from the clause before it: once that one went, it
    would follow on from another ("和 DataParallel 比，[removed: DDP 会自动交换梯度]，从而获得所有
    进程的梯度").

    Example:
        >>> follows_on("，从而获得所有进程的梯度"), follows_on("都存在一个最优策略")
        (True, True)
        >>> follows_on("还原出原始数据")
        False
        >>> follows_on("但需要更多资源"), follows_on("DDIM 不需要重新训练")
        (False, False)
    """
    t = re.sub(r"^[\s，,；;：:]+", "", text)
    return bool(_ZH_FOLLOWS.match(t) or _ZH_LEANING.match(t))


_ZH_COMPARED_ONLY = re.compile(
    r"(?:(?:和|与|跟|同)[^，,；;。]{1,30}?(?:相比较|相比|比较|比)|(?:相比于|相较于|相比|比起|对比)[^，,；;。]{1,30})"
)
_EN_COMPARED_ONLY = re.compile(
    r"(?:compared (?:to|with)|in contrast to|unlike|relative to|versus|as opposed to)\s[^,;.]{1,40}",
    re.IGNORECASE,
)


def compared_only(text: str, english: bool) -> bool:
    """A clause that only names what the rest is compared with ("和 DataParallel 比",
    "Compared with DDPM,"): it says nothing once the rest went.

    Example:
        >>> compared_only("和 DataParallel 比，", False), compared_only("与 DDPM 相比", False)
        (True, True)
        >>> compared_only("和 DataParallel 比，DDP 更快", False), compared_only("Compared with DDPM,", True)
        (False, True)
    """
    t = re.sub(r"[\s，,；;：:。.!?！？]+$", "", re.sub(r"^[\s，,；;：:]+", "", CITE.sub("", text)))
    return bool((_EN_COMPARED_ONLY if english else _ZH_COMPARED_ONLY).fullmatch(t))


def relative(text: str) -> bool:
    """An English relative clause: it describes the noun of the clause just before it.

    Example:
        >>> relative(", which is a paper titled X"), relative("who wrote it"), relative("While X")
        (True, True, False)
    """
    return bool(_EN_RELATIVE.match(re.sub(r"^[\s,;:]+", "", text)))


# an English clause whose subject is "it" (or "its …"): the thing it speaks of is the one
# named before it, or the question's
IT_LED = re.compile(r"^\W*(?:it|its)\b", re.IGNORECASE)


def pronoun_led(text: str) -> bool:
    """An English clause whose subject is a pronoun ("and it is multiplied by…"): what it is
    about was named in the clause before it.

    Example:
        >>> pronoun_led(", and it is multiplied by the weight"), pronoun_led("its output")
        (True, True)
        >>> pronoun_led("and the weight is multiplied"), pronoun_led("Items are ranked")
        (False, False)
    """
    return bool(_EN_PRONOUN_SUBJECT.match(strip_lead(text, True)))


_BACK_REFERENCE = re.compile(
    r"^(?:(?:specifically|in particular|in addition|additionally|moreover|furthermore|also|"
    r"however|therefore|thus|hence|as a result|in other words|that is|instead|rather|"
    r"consequently|accordingly|similarly|likewise|meanwhile|besides|on the other hand|"
    r"in contrast|by contrast)\s*,\s*|"
    r"(?:具体来说|具体而言|此外|另外|因此|所以|然而|但是|不过|相反|同时|而且|并且|因而|于是|"
    r"相比之下)\s*[，,]\s*)",
    re.IGNORECASE,
)


def verbless(text: str) -> bool:
    """An English clause with no auxiliary or common finite verb: a noun phrase or a list of
    them ("supervised microtuning (SFT)", "reward modeling, and RL microtuning").

    >>> verbless("reward modeling, and RL microtuning"), verbless("DPO is simpler")
    (True, False)
    >>> verbless("it uses a reward model"), verbless("which reduces the cost")
    (False, False)
    """
    return not (_FINITE.search(text) or _COMMON_VERB.search(text))


_COMMON_VERB = re.compile(
    r"\b(?:uses?|used|needs?|needed|requires?|required|makes?|made|gives?|gave|takes?|took|"
    r"reduces?|reduced|improves?|improved|allows?|allowed|provides?|provided|means?|meant|"
    r"finds?|found|learns?|learned|trains?|trained|combines?|combined|replaces?|replaced|"
    r"computes?|computed|predicts?|predicted|generates?|generated|works?|worked|"
    r"contains?|contained|includes?|included|consists?|consisted|becomes?|became)\b",
    re.IGNORECASE,
)


def without_back_reference(sentence: str) -> str:
    """``sentence`` without an opening that points at a sentence before it ("Specifically, …",
    "此外，…"), for a sentence that now opens the answer because the ones before it went.

    Example:
        >>> without_back_reference("Specifically, you should use the official image [1].")
        'You should use the official image [1].'
        >>> without_back_reference("Instead, DDIM uses a theoretical approach [1].")
        'DDIM uses a theoretical approach [1].'
        >>> without_back_reference("此外，DDIM 不需要重新训练 [1]。")
        'DDIM 不需要重新训练 [1]。'
        >>> without_back_reference("Also known as FFM, it adds fields [1].")
        'Also known as FFM, it adds fields [1].'
    """
    rest = _BACK_REFERENCE.sub("", sentence, count=1)
    if rest == sentence or not rest:
        return sentence
    return rest[0].upper() + rest[1:]
