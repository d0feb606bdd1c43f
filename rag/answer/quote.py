"""Show what a checked answer rests on, where the answer alone would hide it.

Three cases, all after the claim check (so only supported content is quoted):

- a bare yes/no answer ("不是 [1]。") gets the extractive draft's sentence after it, or the
  sentence the check found saying its name does without the question's word (``rule``
  ``without``: :mod:`rag.answer.claims.rejected`);
- an English answer over Chinese passages, written without quoting the passages' words, gets
  the Chinese sentence its supported clauses rest on most, as ``Source [n]: "…"``. The small
  model paraphrases (and sometimes mistranslates) Chinese terms; the reader who asks in English
  still sees the article's own words, and can check the translation against them;
- a Chinese answer that does not already say most of that sentence (:data:`SAYS_MOST` of its
  character pairs) gets it too, as ``来源 [n]：“…”``: the context a terse answer leaves out
  ("锦囊 [1]。", "在CNN中实现了 [1]。"), and the article's own words to check a paraphrase by
  ("DeepSeek-V3 靠 MLA 来确保推理效率 [1]" to "靠哪种结构来压低训练成本?" is shown beside
  "…采用了 MLA 来确保推理效率,并使用 DeepSeekMoE 来实现经济高效的训练"; "四川大学华西医院是三级甲等
  医院 [1]。" beside "…一座著名大型三级甲等医院,也是全世界单体规模最大的医院"). An answer that says
  most of the sentence in its own words ("共有来自64个国家及地区的84名运动员参赛" for "比赛共有…运动员
  参与") gets none. Over an English passage (the SPP article) it gets the English sentence it
  translates.

Example:
    >>> from rag.answer.claims import CheckedAnswer, Clause
    >>> clause = Clause("Attributes such as price and brand are spread out", 0, 50, 0,
    ...                 cited=[1], support=[1], evidence_passage=1,
    ...                 evidence="通常把价格、品牌等属性打散。")
    >>> checked = CheckedAnswer("Attributes such as price and brand are spread out [1].",
    ...                         [clause], cited=[1])
    >>> with_quote(checked, None, "en").text
    'Attributes such as price and brand are spread out [1].\\nSource [1]: “通常把价格、品牌等属性打散。”'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.claims import CheckedAnswer
from rag.answer.claims.clauses import is_polarity_only, split_sentences
from rag.answer.claims.words import CITE, CJK
from rag.answer.evidence import Evidence, without_heading, without_list_marks
from rag.answer.extractive import Extract

__all__ = ["Quoted", "with_quote"]

_CJK_RUN = re.compile(CJK.pattern + "{2,}")  # a quoted Chinese word, not a stray character
# a Chinese answer that holds this share of its source sentence's character pairs says it already
SAYS_MOST = 0.7


@dataclass
class Quoted:
    """The answer as the reader sees it and the passage numbers it cites."""

    text: str
    cited: list[int]


def with_quote(
    checked: CheckedAnswer,
    extract: Extract | None,
    lang: str,
    *,
    max_chars: int = 160,
) -> Quoted:
    """The checked answer, with the words it rests on where the reader could not see them.

    Args:
        checked: The claim check's result (its ``text`` is what is kept).
        extract: The extractive draft, numbered as the answer is (None: no yes/no quote).
        lang: The question's language (``en`` answers may get a source quote).
        max_chars: Characters of one quoted sentence at most (longer ones are cut with "…").

    Returns:
        The text and its citations (the quoted passages' numbers added).
    """
    sentences = [checked.text[a:b] for a, b in split_sentences(checked.text)]
    if not sentences:
        return Quoted(checked.text, list(checked.cited))
    # (unless the check found the sentence that says so: "不需要 [1]。" to "DPO 需要奖励模型吗?"
    # rests on "与其先训练奖励模型…不如直接训练语言模型", the draft on RLHF's "先训练一个奖励模型")
    denial = any(c.supported and c.rule == "without" for c in checked.clauses)
    if extract and extract.text and all(is_polarity_only(s) for s in sentences) and not denial:
        joiner = "" if lang == "zh" else " "
        cited = checked.cited + [n for n in extract.cited if n not in checked.cited]
        return Quoted(f"{checked.text}{joiner}{extract.text}", cited)
    wanted = lang != "en" or not _CJK_RUN.search(checked.text)
    quote = _best_source(checked, any_language=lang != "en") if wanted else None
    if quote is None or _bare(quote[1]) in _bare(checked.text):  # the answer is the sentence
        return Quoted(checked.text, list(checked.cited))
    number, sentence = quote
    # (an evidence candidate may join two sentences: the answer says it when it says one of them)
    if (
        lang != "en"
        and max(_share_said(checked.text, x) for x in _sentences(sentence)) >= SAYS_MOST
    ):
        return Quoted(checked.text, list(checked.cited))
    cited = checked.cited + ([number] if number not in checked.cited else [])
    sentence = _shown(sentence)
    line = "Source [{n}]: “{s}”" if lang == "en" else "来源 [{n}]：“{s}”"
    return Quoted(f"{checked.text}\n{line.format(n=number, s=_cut(sentence, max_chars))}", cited)


def _best_source(checked: CheckedAnswer, any_language: bool = False) -> tuple[int, str] | None:
    """The Chinese evidence sentence the kept clauses rest on most (the first on a tie; with
    ``any_language``, the sentence of an English passage too: a Chinese answer over the SPP
    article translates it, and the reader should see the words it translates).

    Each supported clause votes for its evidence sentence with its probability of support
    (1 when a rule, not the model, decided), so one confident clause outweighs two doubtful
    ones; a sentence found for one clause that lies inside another's counts for the longer one.
    Only a sentence of a passage the clause cites counts: a yes/no judged on the question's
    words keeps the model's [1] while its closest sentence may sit in another passage ("No, it
    does not need retraining [1]" was shown with a sentence of [5] about post-training).
    """
    found: list[tuple[int, str, float]] = []
    for clause in checked.clauses:
        sentence = " ".join(clause.evidence.split())
        cites_it = clause.evidence_passage in clause.support
        if clause.supported and cites_it and (any_language or CJK.search(sentence)):
            found.append((clause.evidence_passage, sentence, clause.score or 1.0))
    if not found:
        return None
    votes: dict[tuple[int, str], float] = {}
    for number, sentence, weight in found:
        longer = [(n, s) for n, s, _ in found if n == number and sentence in s]
        key = max(longer, key=lambda k: len(k[1]))
        votes[key] = votes.get(key, 0.0) + weight
    return max(votes, key=lambda k: votes[k])  # dicts keep order: the first wins a tie


def _shown(sentence: str) -> str:
    """The quoted sentence without the section name or list marker a flattened article left on
    it ("背景 RLHF 通常包括三个阶段: … 1. 先训练一个奖励模型来判断哪个回答更好 1." had both), as the
    draft shows its sentences.

    >>> _shown("背景 RLHF 通常包括三个阶段: 1. 先训练一个奖励模型来判断哪个回答更好 1.")
    'RLHF 通常包括三个阶段: 1. 先训练一个奖励模型来判断哪个回答更好'
    """
    e = Evidence(0, 0, len(sentence), sentence)
    return without_heading(without_list_marks(e)).text or sentence


def _sentences(text: str) -> list[str]:
    """The sentences of an evidence candidate (one, or two adjacent ones).

    >>> _sentences("提速 10~50 倍。这篇文章将对 DDIM 的理论进行讲解。")
    ['提速 10~50 倍。', '这篇文章将对 DDIM 的理论进行讲解。']
    """
    parts = [text[a:b].strip() for a, b in split_sentences(text)]
    return [p for p in parts if _bare(p)] or [text]


def _share_said(answer: str, sentence: str) -> float:
    """The share of ``sentence``'s character pairs (punctuation and spaces aside) in ``answer``.

    >>> round(_share_said("共有64个国家参赛 [1]。", "比赛共有64个国家参与。"), 2)
    0.7
    """
    a, s = _bare(answer), _bare(sentence)
    pairs = {s[i : i + 2] for i in range(len(s) - 1)}
    return sum(p in a for p in pairs) / len(pairs) if pairs else 1.0


def _bare(text: str) -> str:
    """``text`` without citations, punctuation and spaces ("分布于华中 [1]。" -> "分布于华中")."""
    return re.sub(r"[\W_]+", "", CITE.sub("", text))


def _cut(text: str, max_chars: int) -> str:
    """``text`` within ``max_chars``; a sentence the evidence split cut mid-way ("…细选(锦囊)、")
    ends with "…" too, so the reader does not take the piece for the whole."""
    if len(text) > max_chars:
        return text[: max_chars - 1].rstrip() + "…"
    if text and not re.search(r"[。！？.!?…”\"）)]$", text):
        return text.rstrip("、，,；;：: ") + "…"
    return text
