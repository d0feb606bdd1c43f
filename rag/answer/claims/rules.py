"""The rules that reject a clause against one evidence candidate outright, before the model.

A figure the candidate lacks or counts differently, a name no passage (or not this one) has, a
name swapped for another, a negation or comparison the candidate contradicts, an opposite or a
raised cost said as a gain, a comparison turned around: each gives a reason the reader is shown
(``rag ask --json`` lists it with the removed clause) and the rule's name.
"""

from __future__ import annotations

from rag.answer.claims.agents import agent_swapped
from rag.answer.claims.attributed import attributed_to_another
from rag.answer.claims.contrasted import contrasted_name
from rag.answer.claims.counted import counted_unmet, counted_unmet_zh
from rag.answer.claims.direction import compared_with_unmet, reversed_comparison
from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.names import expansion_of, name_mentioned, name_swapped, names_equated
from rag.answer.claims.opposites import cost_raised, least_said, opposite_said
from rag.answer.claims.units import Candidate, ClauseInfo
from rag.text.sentences import sentence_spans

__all__ = ["names_lacking", "rule_against"]


def rule_against(
    lex: Lexicon,
    info: ClauseInfo,
    c: Candidate,
    missing_names: list[str],
    names_here: list[str],
    veto: tuple[str, str],
) -> tuple[str, str]:
    """(reason, rule) when a rule rejects the clause against candidate ``c``, else ("", "")."""
    num_missing = lex.numbers_missing(info, c)
    if num_missing:  # name first a figure no passage has ("两种", not the "0" of "0/1" it has)
        gone = [lex.numbers_missing(info, p) for p in lex.pass_cands]
        nowhere = [n for n in num_missing if all(n in g for g in gone)]
        return f"number {(nowhere or num_missing)[0].surface} not in [{c.passage + 1}]", "number"
    # (either reading: "DeepSeek-V3 的 MoE 有 37B 个路由专家" is read as English, by its Latin)
    counts = counted_unmet(info.text, c.text, lex.word_renderings) or counted_unmet_zh(
        info.text, c.text
    )
    if counts:
        return f"'{counts[0]}' where [{c.passage + 1}] says '{counts[1]}'", "number"
    if missing_names:
        return f"'{missing_names[0]}' not in the passages", "name"
    if names_here:
        return f"'{names_here[0]}' not in [{c.passage + 1}]", "name"
    swapped = name_swapped(info.names, c.text)
    if swapped:
        return f"'{swapped[0]}' where [{c.passage + 1}] says '{swapped[1]}'", "name"
    sentence = whole_sentences_of(lex.pass_cands[c.passage].text, c)
    equated = names_equated(info.text, sentence)
    if equated:
        return f"'{equated[0]}' is not '{equated[1]}' in [{c.passage + 1}]", "name"
    given_to = attributed_to_another(info.text, sentence) or agent_swapped(lex, info, sentence)
    if given_to:
        return f"'{given_to[0]}' where [{c.passage + 1}] says '{given_to[1]}'", "name"
    apart = contrasted_name(info.text, sentence)
    if apart:
        return f"'{apart}': [{c.passage + 1}] sets it apart, not alike", "name"
    lost = lex.prose_missing(info)
    if lost:
        return f"'{lost[0]}' not in the passages", "name"
    if veto[0]:
        return veto
    unmet = compared_with_unmet(lex, info, c)
    if unmet:
        return f"compared with '{unmet}': [{c.passage + 1}] makes no such comparison", "comparison"
    flipped = opposite_said(info, c, lex.renderings) or least_said(info, c, lex.renderings)
    flipped = flipped or cost_raised(info.text, c.text)
    if flipped:
        return f"'{flipped[0]}' where [{c.passage + 1}] says '{flipped[1]}'", "antonym"
    turned = reversed_comparison(info.text, sentence)
    if turned:
        return (
            f"comparison reversed: [{c.passage + 1}] compares {turned[1]} with {turned[0]}",
            "comparison",
        )
    return "", ""


def names_lacking(lex: Lexicon, info: ClauseInfo, norm_text: str, low_text: str) -> list[str]:
    """The clause's names a text (normalised, and lowercased) does not mention, that are not
    rendered word by word in the passages, and, for an acronym, not written out in the clause
    with words the passages have ("MTP 是 Multi-Token Prediction" over "多 token 预测训练目标")."""
    out = []
    for n, norm in info.names:
        if not norm or name_mentioned(norm, norm_text, low_text) or lex.name_rendered(n):
            continue
        if lex.name_sounded(n):  # 麦克洛奇 for McCulloch
            continue
        words = expansion_of(n, info.text)
        if not (words and all(lex.word_found(w) for w in words)):
            out.append(n)
    return out


def whole_sentences_of(text: str, c: Candidate) -> str:
    """The sentence(s) of the passage ``text`` that candidate ``c`` lies in (a candidate may be
    a clause of one: "最终…提速 10~50 倍" without the "为了加速 DDPM 的采样过程,DDIM" before it)."""
    mine = [(s, e) for s, e in sentence_spans(text) if s < max(c.end, c.start + 1) and c.start < e]
    return text[mine[0][0] : mine[-1][1]] if mine else c.text
