"""Where sentences end, for each job that cuts text into sentences.

The rules differ on purpose, and each is kept as it was measured:

* chunking (:func:`sentence_spans`, :func:`clause_spans`): Chinese ``。！？；`` and their ASCII
  forms, ``…``, closing quotes kept with their sentence, a period before a space or at the end,
  line breaks; spans cover the text exactly, so chunk offsets map back to the document.
* answers (:func:`answer_sentences`): ``。！？`` and ``!?``, a period before a space, line
  breaks; the citation marks that follow a sentence stay with it.
* quoting passages (:func:`quotable_sentences`): ``。！？；`` and ``!?;``, line breaks; headings
  and fragments are left out (the extractive answer quotes these).
* evidence (:func:`evidence_spans`): the chunker's sentences (one that ends inside a bracket,
  "《CDTV×Sacas！》", joined with the next), one over 130 characters cut at
  its commas, headings and fragments left out; the answer chain scores them against the
  question, and ingest stores one vector per such sentence (the retriever's sentence score).
* instruction spotting (:data:`PASSAGE_SENTENCE`): sentences of a passage, periods included,
  checked one by one for text that addresses the model.

Example:
    >>> text = "第一句。第二句！Third one. 第四"
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['第一句。', '第二句！', 'Third one.', ' 第四']
    >>> answer_sentences("DDIM 不需要重新训练。[1] 它更快 [2]")
    ['DDIM 不需要重新训练。[1]', ' 它更快 [2]']
"""

from __future__ import annotations

import re

from rag.text.citations import CITATION_AFTER

SENTENCE_END = re.compile(r"[。！？；!?;…]+[”\"’』」)）]*|\.(?=\s)|\.$|\n+")
CLAUSE_END = re.compile(r"[，,、：:]+")
ANSWER_SENTENCE_END = re.compile(r"[。！？!?]+|\.(?=\s|$)|\n+")
QUOTABLE_SENTENCE = re.compile(r"[^。！？!?;；\n]+[。！？!?;；]*")
_WORD = re.compile(r"\w")
PASSAGE_SENTENCE = re.compile(r"[^。！？!?\n.]*(?:[。！？!?\n]+|\.(?:\s+|$)|$)")


def spans(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` after every match of ``pattern``; the spans cover it exactly."""
    out, pos = [], start
    for match in pattern.finditer(text, start, end):
        if match.end() > pos:
            out.append((pos, match.end()))
            pos = match.end()
    if pos < end:
        out.append((pos, end))
    return out


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The chunker's sentences of ``text[start:end]`` as ``(start, end)`` offsets."""
    return spans(text, start, len(text) if end is None else end, SENTENCE_END)


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` cut after commas, enumeration commas and colons (long sentences)."""
    return spans(text, start, end, CLAUSE_END)


def answer_sentences(text: str) -> list[str]:
    """Sentences of an answer, each keeping the citations that follow it."""
    pieces: list[str] = []
    pos = 0
    for match in ANSWER_SENTENCE_END.finditer(text):
        end = match.end()
        follow = CITATION_AFTER.match(text, end)
        while follow:  # "...模型。[1][2]" keeps its citations
            end = follow.end()
            follow = CITATION_AFTER.match(text, end)
        pieces.append(text[pos:end])
        pos = end
    if pos < len(text):
        pieces.append(text[pos:])
    return [p for p in pieces if p.strip()]


def quotable_sentences(text: str) -> list[str]:
    """Sentences of a passage worth quoting: not a Markdown heading, at least 6 word characters."""
    out = []
    for match in QUOTABLE_SENTENCE.finditer(text):
        s = match.group(0).strip()
        if s.startswith("#"):  # a Markdown heading is not an answer
            continue
        if len(re.findall(r"\w", s)) >= 6:
            out.append(s)
    return out


_OPENS, _CLOSES = "《「『（(【", "》」』）)】"


def _open_brackets(piece: str) -> int:
    """How many brackets ``piece`` opens and does not close."""
    return sum(
        max(0, piece.count(o) - piece.count(c)) for o, c in zip(_OPENS, _CLOSES, strict=True)
    )


def _bracketed_whole(
    text: str, spans_: list[tuple[int, int]], max_join: int = 3
) -> list[tuple[int, int]]:
    """Sentences that end inside a bracket joined with what follows, up to ``max_join`` more:
    "在《CDTV×Sacas！》节目中第一次于公开场合演唱。" is one sentence, not "在《CDTV×Sacas！" and
    "》节目中…" (CMRC trial: the evidence held only the second half and the model answered
    with another programme's name).

    >>> t = "在《A！》节目中演唱。下一句。"
    >>> [t[s:e] for s, e in _bracketed_whole(t, sentence_spans(t))]
    ['在《A！》节目中演唱。', '下一句。']
    """
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans_):
        s, e = spans_[i]
        joined = 0
        while _open_brackets(text[s:e]) and joined < max_join and i + 1 < len(spans_):
            i += 1
            joined += 1
            e = spans_[i][1]
        out.append((s, e))
        i += 1
    return out


def evidence_spans(text: str, max_chars: int = 130) -> list[tuple[int, int]]:
    """Sentences of a passage as offsets; one over ``max_chars`` is cut at commas.

    Headings (``#``) and fragments with fewer than 4 word characters are left out.

    Example:
        >>> t = "简介 DDIM 很快。# 标题\\n第二句话,有逗号。"
        >>> [t[s:e] for s, e in evidence_spans(t)]
        ['简介 DDIM 很快。', '第二句话,有逗号。']
    """
    pieces: list[tuple[int, int]] = []
    for s, e in _bracketed_whole(text, sentence_spans(text)):
        if e - s <= max_chars:
            pieces.append((s, e))
            continue
        current: list[int] | None = None
        for cs, ce in clause_spans(text, s, e):
            if current is None:
                current = [cs, ce]
            elif ce - current[0] <= max_chars:
                current[1] = ce
            else:
                pieces.append((current[0], current[1]))
                current = [cs, ce]
        if current is not None:
            pieces.append((current[0], current[1]))
    out = []
    for s, e in pieces:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        piece = text[s:e]
        if len(_WORD.findall(piece)) >= 4 and not piece.startswith("#"):
            out.append((s, e))
    return out
