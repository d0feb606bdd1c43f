"""The evaluation question set: JSONL, one question a line.

Fields: ``question`` (required), ``gold_doc_ids`` (list of document ids; ``[]`` for a question
the corpus does not cover; leave it out for a question you have not labelled), ``answers``
(acceptable answer strings), ``id`` and ``lang`` (both optional); any other field (``type``,
``split``...) is kept in ``meta`` and used to break the scores down.

A malformed line is reported with its line number and skipped; the other lines are kept.

Example:
    >>> qs, errors = parse_questions('{"question": "DDIM 需要重新训练吗?", "gold_doc_ids": ["ddim"]}\\n{oops\\n', "q.jsonl")
    >>> [(q.qid, q.gold_doc_ids, q.lang) for q in qs], errors
    ([('L1', ['ddim'], 'zh')], ['q.jsonl:2: not valid JSON (Expecting property name enclosed in double quotes)'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.loaders.jsonl import json_objects
from rag.text.language import question_language

_KNOWN = {"id", "question", "gold_doc_ids", "answers", "lang"}


@dataclass(frozen=True)
class Question:
    """One evaluation question.

    Args:
        qid: Its id (the ``id`` field, else ``L<line number>``).
        question: The question text.
        gold_doc_ids: Documents that answer it; ``[]``: not covered; None: not labelled.
        answers: Acceptable answers (may be empty).
        lang: ``zh`` or ``en`` (detected when not given).
        line: Line number in the file.
        meta: The other fields of the line.
    """

    qid: str
    question: str
    gold_doc_ids: list[str] | None
    answers: list[str] = field(default_factory=list)
    lang: str = ""
    line: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def answerable(self) -> bool | None:
        """True when a gold document exists, False when the corpus does not cover it, None if unlabelled."""
        return None if self.gold_doc_ids is None else bool(self.gold_doc_ids)


def _str_list(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def parse_questions(text: str, source: str) -> tuple[list[Question], list[str]]:
    """The questions of a JSONL text and one ``source:line: reason`` message per skipped line."""
    questions: list[Question] = []
    errors: list[str] = []
    seen: set[str] = set()
    for line_no, record in json_objects(text, source, errors):
        where = f"{source}:{line_no}"
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            errors.append(f'{where}: missing or empty "question"')
            continue
        gold: list[str] | None = None
        if "gold_doc_ids" in record and record["gold_doc_ids"] is not None:
            gold = _str_list(record["gold_doc_ids"])
            if gold is None:
                errors.append(f'{where}: "gold_doc_ids" must be a list of strings')
                continue
        answers = _str_list(record.get("answers") or [])
        if answers is None:
            errors.append(f'{where}: "answers" must be a list of strings')
            continue
        qid = str(record.get("id") or f"L{line_no}")
        if qid in seen:
            errors.append(f"{where}: duplicate id {qid!r} (line skipped)")
            continue
        seen.add(qid)
        lang = record.get("lang")
        questions.append(
            Question(
                qid=qid,
                question=question.strip(),
                gold_doc_ids=gold,
                answers=[a for a in answers if a.strip()],
                lang=str(lang) if isinstance(lang, str) and lang else question_language(question),
                line=line_no,
                meta={k: v for k, v in record.items() if k not in _KNOWN},
            )
        )
    return questions, errors


def load_questions(path: Path) -> tuple[list[Question], list[str]]:
    """Read a question file (UTF-8 JSONL); see :func:`parse_questions`.

    Raises:
        FileNotFoundError: no such file.
    """
    path = Path(path)
    return parse_questions(path.read_text(encoding="utf-8-sig"), str(path))
