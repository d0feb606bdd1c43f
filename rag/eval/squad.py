"""Turn a SQuAD-format file (SQuAD, CMRC 2018, DRCD...) into a corpus and a question set.

Every paragraph becomes a document (id: the paragraph's ``id``, else ``<article id>-p<n>``;
text: ``context``; title: the article's ``title``); every question's gold document is its
paragraph and its answers are the gold answer texts. SQuAD 2.0 questions marked
``is_impossible`` get no gold document (the corpus does not answer them). Paragraphs with the
same context are indexed once.

Example:
    >>> data = {"data": [{"title": "DDIM", "paragraphs": [{"id": "P1", "context": "DDIM 只需 20 步。",
    ...     "qas": [{"id": "Q1", "question": "DDIM 需要几步?", "answers": [{"text": "20 步"}]}]}]}]}
    >>> corpus, questions, notes = convert_squad(data)
    >>> corpus[0]["id"], questions[0]["gold_doc_ids"], questions[0]["answers"]
    ('P1', ['P1'], ['20 步'])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import SquadError
from rag.text.language import question_language


@dataclass
class ConvertReport:
    """What :func:`write_squad` wrote."""

    corpus_path: Path
    questions_path: Path
    documents: int = 0
    questions: int = 0
    articles: int = 0
    impossible: int = 0
    duplicate_contexts: int = 0
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        extra = f", {self.impossible} unanswerable" if self.impossible else ""
        dup = (
            f", {self.duplicate_contexts} duplicate paragraphs merged"
            if self.duplicate_contexts
            else ""
        )
        skipped = f", {len(self.skipped)} entries skipped" if self.skipped else ""
        return (
            f"{self.documents} documents from {self.articles} articles and {self.questions} "
            f"questions{extra}{dup}{skipped}"
        )


def convert_squad(data: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Corpus records, question records and notes (skipped entries) from parsed SQuAD JSON.

    Raises:
        SquadError: ``data`` has no ``data`` list of articles with ``paragraphs``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise SquadError(
            'not a SQuAD-format file: expected {"data": [{"title", "paragraphs"}, ...]}'
        )
    corpus: list[dict[str, Any]] = []
    questions: list[dict[str, Any]] = []
    notes: list[str] = []
    by_context: dict[str, str] = {}
    used_ids: set[str] = set()
    qids: set[str] = set()
    for i, article in enumerate(data["data"]):
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            notes.append(f"data[{i}]: no paragraphs (skipped)")
            continue
        title = str(article.get("title") or "").strip()
        art_id = str(article.get("id") or f"a{i}")
        for j, para in enumerate(article["paragraphs"]):
            where = f"data[{i}].paragraphs[{j}]"
            context = para.get("context") if isinstance(para, dict) else None
            if not isinstance(context, str) or not context.strip():
                notes.append(f"{where}: no context (skipped)")
                continue
            doc_id = by_context.get(context)
            if doc_id is None:
                doc_id = _unique(str(para.get("id") or f"{art_id}-p{j}"), used_ids)
                by_context[context] = doc_id
                corpus.append({"id": doc_id, "title": title or doc_id, "text": context})
            else:
                notes.append(f"{where}: same context as document {doc_id!r} (merged)")
            for n, qa in enumerate(para.get("qas") or []):
                text = qa.get("question") if isinstance(qa, dict) else None
                if not isinstance(text, str) or not text.strip():
                    notes.append(f"{where}.qas[{n}]: no question (skipped)")
                    continue
                qid = _unique(str(qa.get("id") or f"{doc_id}-q{n}"), qids)
                impossible = bool(qa.get("is_impossible"))
                answers: list[str] = []
                for ans in [] if impossible else qa.get("answers") or []:
                    a = ans.get("text") if isinstance(ans, dict) else ans
                    if isinstance(a, str) and a.strip() and a.strip() not in answers:
                        answers.append(a.strip())
                questions.append(
                    {
                        "id": qid,
                        "question": text.strip(),
                        "gold_doc_ids": [] if impossible else [doc_id],
                        "answers": answers,
                        "lang": question_language(text),
                        "title": title,
                    }
                )
    if not corpus:
        raise SquadError("the SQuAD file holds no paragraph with a context")
    return corpus, questions, notes


def _unique(base: str, used: set[str]) -> str:
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}~{n}"
    used.add(name)
    return name


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(path)


def write_squad(source: Path, out_dir: Path) -> ConvertReport:
    """Convert ``source`` and write ``corpus.jsonl`` and ``questions.jsonl`` into ``out_dir``.

    Files are only rewritten when their content changed, so an index built from
    ``corpus.jsonl`` stays up to date without re-embedding.

    Raises:
        FileNotFoundError: ``source`` does not exist.
        SquadError: it is not JSON in SQuAD format.
    """
    source = Path(source)
    try:
        data = json.loads(source.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise SquadError(f"{source} is not valid JSON: {exc.msg} (line {exc.lineno})") from exc
    corpus, questions, notes = convert_squad(data)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ConvertReport(
        corpus_path=out_dir / "corpus.jsonl",
        questions_path=out_dir / "questions.jsonl",
        documents=len(corpus),
        questions=len(questions),
        articles=len({d["title"] for d in corpus}),
        impossible=sum(1 for q in questions if not q["gold_doc_ids"]),
        duplicate_contexts=sum(1 for n in notes if n.endswith("(merged)")),
        skipped=[n for n in notes if n.endswith("(skipped)")],
    )
    for path, records in ((report.corpus_path, corpus), (report.questions_path, questions)):
        new = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        if not path.is_file() or path.read_text(encoding="utf-8") != new:
            _write_jsonl(path, records)
    return report
