"""Leave-one-out near misses: an answerable question asked again with its gold documents hidden.

The hard case for abstention is a question about a topic the corpus *nearly* covers: the
passages are on the right subject, the answer is not among them. Every answerable question
gives one for free: hide its gold document(s) from retrieval and the same question becomes
unanswerable (``python -m rag.calibrate`` fits the coverage model on such cases from the dev
split). ``rag eval --near-misses`` asks each answerable question of a run a second time this
way, through the whole answer chain (coverage decision, LLM, claim check), so the abstention
the user would see is measured per question language, not only the coverage model's.

Example:
    >>> from rag.eval.questions import Question
    >>> qs = [Question("q1", "DDIM 快多少?", ["ddim"], ["10~50 倍"], "zh", 1, {"split": "test"})]
    >>> [(q.qid, q.gold_doc_ids, q.answers, q.meta["variant"]) for q in with_near_misses(qs)]
    [('q1', ['ddim'], ['10~50 倍'], 'asked'), ('q1~loo', [], [], 'near miss')]
    >>> with_near_misses(qs)[1].meta["hidden_doc_ids"]
    ['ddim']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from rag.eval.questions import Question
from rag.retrieval.retriever import Retrieval, Retriever

SUFFIX = "~loo"


def with_near_misses(questions: Iterable[Question]) -> list[Question]:
    """Every question (``variant: asked``), each answerable one followed by its near miss.

    The near miss has the id ``<id>~loo``, no gold documents and no gold answers (the corpus,
    with its gold hidden, does not cover it), ``variant: near miss`` and the hidden documents in
    ``meta["hidden_doc_ids"]``.
    """
    out: list[Question] = []
    for q in questions:
        out.append(replace(q, meta={**q.meta, "variant": "asked"}))
        if q.gold_doc_ids:
            meta = {**q.meta, "variant": "near miss", "hidden_doc_ids": list(q.gold_doc_ids)}
            out.append(replace(q, qid=q.qid + SUFFIX, gold_doc_ids=[], answers=[], meta=meta))
    return out


def hidden_documents(q: Question) -> frozenset[str]:
    """The documents a near miss hides (empty for a question asked as written)."""
    hidden = q.meta.get("hidden_doc_ids") or []
    return frozenset(str(d) for d in hidden)


class HidingRetriever(Retriever):
    """A retriever that never returns passages of ``hidden`` documents.

    It asks ``inner`` for deeper results and drops the hidden documents' passages, so the
    ``k`` passages left are the best of the rest, ranked as ``inner`` ranked them (the fusion
    still saw the hidden passages: the same as removing them from a ranked list, the way the
    calibration's near misses are made).

    Args:
        inner: The retriever to filter (its store, embedder, tokenizer and settings are shared).
        hidden: Document ids never to return.
    """

    def __init__(self, inner: Retriever, hidden: frozenset[str]) -> None:
        super().__init__(inner.store, inner.embedder, inner.tokenizer, inner.settings)
        self.inner = inner
        self.hidden = hidden

    def run(self, query: str, k: int | None = None, mode: str | None = None) -> Retrieval:
        k = k or self.settings.k
        deeper = k + max(self.settings.candidates, 3 * k)
        found = self.inner.run(query, deeper, mode)
        keep = [n for n, p in enumerate(found.passages) if p.doc_id not in self.hidden][:k]
        return replace(
            found,
            passages=[found.passages[n] for n in keep],
            ids=[found.ids[n] for n in keep] if found.ids else [],
        )
