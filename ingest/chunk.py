"""Chinese-aware, token-bounded chunking.

A document is cut into sentences (Chinese ``。！？；`` and their ASCII forms, ``…``, a period before
a space, line breaks); sentences are packed into chunks of at most ``max_tokens`` tokens as the
embedder counts them *including its prompt, the title line and special tokens*, so nothing is
silently truncated. Consecutive chunks share about ``overlap`` of their tokens (whole sentences).
A sentence longer than the limit is split at commas, then hard-cut at a token boundary.
Placeholders such as ``[Math]`` stay in the text but never make a chunk on their own.

Example:
    >>> from rag.schema import Document
    >>> count = lambda texts: [len(t) for t in texts]        # 1 token per character
    >>> chunker = Chunker(count, max_tokens=40, overlap=0.0, title_prefix=False)
    >>> doc = Document("d", "第一句话很短。第二句话也很短。" * 3, "T", "d.md")
    >>> [c.text for c in chunker.split(doc)][:1]
    ['第一句话很短。第二句话也很短。第一句话很短。第二句话也很短。第一句话很短。']
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.schema import Chunk, Document, embedding_text
from rag.text.placeholders import PLACEHOLDER
from rag.text.sentences import clause_spans, sentence_spans
from rag.text.sources import with_pages

TokenCounter = Callable[[Sequence[str]], list[int]]

CHUNKER_VERSION = 2
_CONTENT = re.compile(r"\w", re.UNICODE)


def has_content(text: str, min_chars: int = 4) -> bool:
    """False for text that is only placeholders, punctuation and whitespace."""
    return len(_CONTENT.findall(PLACEHOLDER.sub("", text))) >= min_chars


@dataclass
class Chunker:
    """Split documents into token-bounded chunks.

    Args:
        count_tokens: Counts the tokens the embedder feeds for each text (prompt and special
            tokens included), e.g. :meth:`rag.embed.embedder.Embedder.count_passage_tokens`.
        max_tokens: Upper bound per chunk, as counted by ``count_tokens`` on the embedded text.
        overlap: Share of ``max_tokens`` repeated from the end of the previous chunk.
        title_prefix: Embed ``"{title}\\n{text}"`` rather than the text alone (see
            :func:`rag.schema.embedding_text`); the title then counts against the limit.
    """

    count_tokens: TokenCounter
    max_tokens: int = 256
    overlap: float = 0.15
    title_prefix: bool = True

    def settings(self) -> dict[str, object]:
        """What changes the chunks; stored in the index manifest."""
        return {
            "max_tokens": self.max_tokens,
            "overlap": self.overlap,
            "title_prefix": self.title_prefix,
            "version": CHUNKER_VERSION,
        }

    # ------------------------------------------------------------------ public
    def split(self, doc: Document) -> list[Chunk]:
        """Chunks of ``doc`` in order; ``chunk.text == doc.text[chunk.start:chunk.end]``."""
        text = doc.text
        if not text.strip():
            return []
        prefix = embedding_text(doc.title, "", self.title_prefix)
        overhead = self.count_tokens([prefix])[0]
        budget = self.max_tokens - overhead
        if budget < 8:
            # A very long title leaves no room: embed the text alone for this document.
            prefix, overhead = "", self.count_tokens([""])[0]
            budget = self.max_tokens - overhead
        units = self._units(text, budget, overhead)
        groups = self._pack(units, budget)
        chunks: list[Chunk] = []
        for first, last in groups:
            start, end = _trim(text, units[first][0], units[last][1])
            if start >= end:
                continue
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}#{len(chunks)}",
                    doc_id=doc.doc_id,
                    title=doc.title,
                    source=doc.source,
                    start=start,
                    end=end,
                    text=text[start:end],
                )
            )
        chunks = self._merge_contentless(chunks, text, prefix)
        return self._enforce_limit(chunks, text, prefix, doc)

    # ------------------------------------------------------------------ steps
    def _unit_tokens(self, pieces: Sequence[str], overhead: int) -> list[int]:
        return [max(0, n - overhead) for n in self.count_tokens([p for p in pieces])]

    def _units(self, text: str, budget: int, overhead: int) -> list[tuple[int, int, int]]:
        """Sentence spans with their token counts, long sentences split to fit ``budget``."""
        empty = self.count_tokens([""])[0]
        sentences = sentence_spans(text)
        counts = self._unit_tokens([text[s:e] for s, e in sentences], empty)
        units: list[tuple[int, int, int]] = []
        for (s, e), n in zip(sentences, counts, strict=True):
            if n <= budget:
                units.append((s, e, n))
                continue
            clauses = clause_spans(text, s, e)
            clause_counts = self._unit_tokens([text[a:b] for a, b in clauses], empty)
            for (a, b), m in zip(clauses, clause_counts, strict=True):
                if m <= budget:
                    units.append((a, b, m))
                else:
                    units.extend(self._hard_cut(text, a, b, budget, empty))
        return units

    def _hard_cut(
        self, text: str, start: int, end: int, budget: int, empty: int
    ) -> list[tuple[int, int, int]]:
        """Cut ``text[start:end]`` into pieces of at most ``budget`` tokens (binary search)."""
        pieces = []
        while start < end:
            lo, hi = start + 1, end
            while lo < hi:  # largest cut with count <= budget
                mid = (lo + hi + 1) // 2
                if self._unit_tokens([text[start:mid]], empty)[0] <= budget:
                    lo = mid
                else:
                    hi = mid - 1
            cut = max(lo, start + 1)
            pieces.append((start, cut, self._unit_tokens([text[start:cut]], empty)[0]))
            start = cut
        return pieces

    def _pack(self, units: list[tuple[int, int, int]], budget: int) -> list[tuple[int, int]]:
        """Greedy packing of units into ``(first, last)`` index ranges with sentence overlap."""
        overlap_budget = int(self.max_tokens * self.overlap)
        groups: list[tuple[int, int]] = []
        i, n = 0, len(units)
        while i < n:
            j, used = i, 0
            while j < n and (used + units[j][2] <= budget or j == i):
                used += units[j][2]
                j += 1
            groups.append((i, j - 1))
            if j >= n:
                break
            k, shared = j, 0
            while k - 1 > i and shared + units[k - 1][2] <= overlap_budget:
                k -= 1
                shared += units[k][2]
            i = k
        return groups

    def _merge_contentless(self, chunks: list[Chunk], text: str, prefix: str) -> list[Chunk]:
        """Fold chunks that are only placeholders/punctuation into a neighbour, or drop them."""
        out: list[Chunk] = []
        carry: Chunk | None = None  # a leading content-less chunk waiting for the next one
        for chunk in chunks:
            if has_content(chunk.text):
                if carry is not None:
                    merged = text[carry.start : chunk.end]
                    if self.count_tokens([prefix + merged])[0] <= self.max_tokens:
                        chunk = _respan(chunk, carry.start, chunk.end, text)
                    carry = None
                out.append(chunk)
                continue
            if out:
                prev = out[-1]
                merged = text[prev.start : max(prev.end, chunk.end)]
                if self.count_tokens([prefix + merged])[0] <= self.max_tokens:
                    out[-1] = _respan(prev, prev.start, max(prev.end, chunk.end), text)
            elif carry is None:
                carry = chunk
        # A document of placeholders only yields nothing worth indexing.
        return [_renumber(c, i) for i, c in enumerate(out)]

    def _enforce_limit(
        self, chunks: list[Chunk], text: str, prefix: str, doc: Document
    ) -> list[Chunk]:
        """Exact check of every chunk; any over the limit is halved until it fits."""
        counts = self.count_tokens([prefix + c.text for c in chunks])
        out: list[Chunk] = []
        pending = list(zip(chunks, counts, strict=True))
        while pending:
            chunk, n = pending.pop(0)
            if n <= self.max_tokens or chunk.end - chunk.start < 2:
                out.append(_with_tokens(chunk, n))
                continue
            mid = (chunk.start + chunk.end) // 2
            halves = [_respan(chunk, chunk.start, mid, text), _respan(chunk, mid, chunk.end, text)]
            halves = [h for h in halves if h.start < h.end]
            hc = self.count_tokens([prefix + h.text for h in halves])
            pending[:0] = list(zip(halves, hc, strict=True))
        return [_renumber(c, i) for i, c in enumerate(out)]


def chunk_document(chunker: Chunker, doc: Document) -> list[Chunk]:
    """``chunker.split(doc)``, except that a PDF is chunked page by page, so that every chunk
    lies on one page and its ``source`` says which (``"a.pdf, p. 4"``). A sentence that runs
    over a page break is cut there, as the page is what a reader looks up.

    A document has pages when its ``meta["page_starts"]`` lists the offset where each begins
    (:func:`ingest.loaders.pdf.load_pdf`).
    """
    starts = doc.meta.get("page_starts") if doc.meta else None
    if not starts:
        return chunker.split(doc)
    out: list[Chunk] = []
    bounds = [*starts, len(doc.text)]
    for page, (begin, end) in enumerate(itertools.pairwise(bounds), start=1):
        if end <= begin:
            continue
        for c in chunker.split(dataclasses.replace(doc, text=doc.text[begin:end])):
            out.append(
                dataclasses.replace(
                    c,
                    chunk_id=f"{doc.doc_id}#{len(out)}",
                    start=c.start + begin,
                    end=c.end + begin,
                    source=with_pages(doc.source, page, page),
                )
            )
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _respan(chunk: Chunk, start: int, end: int, text: str) -> Chunk:
    start, end = _trim(text, start, end)
    return dataclasses.replace(chunk, start=start, end=end, text=text[start:end], n_tokens=0)


def _renumber(chunk: Chunk, index: int) -> Chunk:
    return dataclasses.replace(chunk, chunk_id=f"{chunk.doc_id}#{index}")


def _with_tokens(chunk: Chunk, n: int) -> Chunk:
    return dataclasses.replace(chunk, n_tokens=n)
