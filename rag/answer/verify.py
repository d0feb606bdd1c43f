"""Check an LLM answer against the passages it was given.

1. Citations: ``[n]``, ``[1, 2]``, ``【n】`` are parsed; numbers with no passage are dropped.
2. Support: every sentence is checked against the passages it cites (lexical overlap, else
   embedding similarity). A citation to a passage that does not support its sentence is moved
   to the passage that does, or dropped; a sentence no passage supports is flagged.
3. Abstention: an answer that says the passages lack the answer is marked abstained.

Example:
    >>> from rag.schema import Passage
    >>> p = [Passage("DDIM 可以直接用 DDPM 训练好的模型采样, 不需要重新训练。", "ddim", "DDIM", "s", "c", 1)]
    >>> v = verify_answer("DDIM 不需要重新训练模型 [1]。它很好 [7]。", p, lang="zh")
    >>> v.text, v.dropped_numbers
    ('DDIM 不需要重新训练模型 [1]。它很好。', [7])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rag.answer.prompt import NO_ANSWER
from rag.answer.support import features, lexical_support
from rag.schema import Passage
from rag.text.citations import CITATION_AFTER, citation_numbers
from rag.text.sentences import answer_sentences

CITE = CITATION_AFTER

ABSTAIN_PATTERNS = re.compile(
    r"资料中没有|没有相关内容|没有提到|未提及|并未提及|没有涉及|无法回答|无法从|不包含|没有包含|没有给出|"
    r"未涉及|没有说明|未说明|"
    r"don't cover|do not cover|doesn't cover|does not cover|not covered|do not contain|"
    r"does not contain|doesn't contain|don't contain|not mentioned|no information|"
    r"cannot answer|can't answer|not provided|do not mention|does not mention|doesn't mention",
    re.IGNORECASE,
)

LEXICAL_OK = 0.34
SEMANTIC_OK = 0.83


@dataclass
class Verified:
    """The checked answer."""

    text: str
    cited: list[int] = field(default_factory=list)  # passage numbers, in order of first citation
    dropped_numbers: list[int] = field(default_factory=list)
    unsupported: list[int] = field(default_factory=list)  # indices of unsupported sentences
    sentences: int = 0
    abstained: bool = False
    support: float = 0.0  # share of sentences supported


def is_abstention(text: str) -> bool:
    """True when the answer says the passages do not contain the answer."""
    stripped = CITE.sub("", text).strip()
    if not stripped:
        return True
    head = stripped[:80]
    return bool(ABSTAIN_PATTERNS.search(head)) and len(stripped) < 160


def verify_answer(
    text: str,
    passages: Sequence[Passage],
    lang: str = "zh",
    similarity: Callable[[list[str], list[str]], list[list[float]]] | None = None,
) -> Verified:
    """Check citations and support of ``text`` against ``passages`` (``[n]`` = passages[n-1]).

    Args:
        text: The LLM's answer.
        passages: The numbered passages of the prompt.
        lang: Language of the answer (for the abstention message).
        similarity: Optional ``(sentences, passage_texts) -> matrix`` of cosine similarities,
            used when lexical overlap is low (cross-lingual answers).
    """
    text = text.strip()
    if is_abstention(text):
        return Verified(text=NO_ANSWER.get(lang, NO_ANSWER["en"]), abstained=True)
    n = len(passages)
    sentences = answer_sentences(text)
    lex, sem = _support_scores([CITE.sub("", s).strip() for s in sentences], passages, similarity)

    def supports(i: int, j: int) -> bool:
        if lex[i][j] >= LEXICAL_OK:
            return True
        return sem is not None and sem[i][j] >= SEMANTIC_OK

    out_parts: list[str] = []
    dropped: list[int] = []
    unsupported: list[int] = []
    cited: list[int] = []
    supported_count = 0
    for i, sentence in enumerate(sentences):
        valid = _valid_numbers(sentence, n, dropped)
        body = CITE.sub("", sentence)
        trailing = re.search(r"[。！？!?.\s]*$", body)
        end_punct = trailing.group(0) if trailing else ""
        core = body[: len(body) - len(end_punct)] if end_punct else body
        if not core.strip():
            continue
        keep = [num for num in valid if supports(i, num - 1)] if passages else []
        if not keep and passages:
            best = max(range(n), key=lambda j: (supports(i, j), lex[i][j], sem[i][j] if sem else 0))
            if supports(i, best):
                keep = [best + 1]
        if keep:
            supported_count += 1
        elif len(features_of(core)) >= 3:
            unsupported.append(i)
        for num in keep:
            if num not in cited:
                cited.append(num)
        marks = "".join(f"[{num}]" for num in keep)
        out_parts.append(core.rstrip() + (" " + marks if marks else "") + end_punct.strip())
    joiner = "" if lang == "zh" else " "
    final = joiner.join(p.strip() for p in out_parts).strip()
    counted = max(1, supported_count + len(unsupported))
    return Verified(
        text=final,
        cited=cited,
        dropped_numbers=dropped,
        unsupported=unsupported,
        sentences=len(out_parts),
        abstained=False,
        support=supported_count / counted,
    )


def _support_scores(
    bodies: list[str],
    passages: Sequence[Passage],
    similarity: Callable[[list[str], list[str]], list[list[float]]] | None,
) -> tuple[list[list[float]], list[list[float]] | None]:
    """Lexical support of each sentence by each passage; cosine where the words differ."""
    n = len(passages)
    lex = [[lexical_support(b, p.text) if b else 0.0 for p in passages] for b in bodies]
    sem: list[list[float]] | None = None
    need_sem = [i for i, b in enumerate(bodies) if b and (not lex[i] or max(lex[i]) < LEXICAL_OK)]
    if similarity is not None and need_sem and passages:
        matrix = similarity([bodies[i] for i in need_sem], [p.text for p in passages])
        sem = [[0.0] * n for _ in bodies]
        for row, i in zip(matrix, need_sem, strict=True):
            sem[i] = list(row)
    return lex, sem


def _valid_numbers(sentence: str, n: int, dropped: list[int]) -> list[int]:
    """Citation numbers of ``sentence`` that name one of ``n`` passages (others: ``dropped``)."""
    valid: list[int] = []
    for num in (num for m in CITE.finditer(sentence) for num in citation_numbers(m)):
        if 1 <= num <= n:
            if num not in valid:
                valid.append(num)
        else:
            dropped.append(num)
    return valid


def features_of(text: str) -> set[str]:
    """Content features of a sentence (see :func:`rag.answer.support.features`)."""
    return features(text)
