"""The records: one declaration of a chunk's fields, and the records derived from it."""

from __future__ import annotations

import dataclasses
import typing

from rag.schema import CHUNK_FIELDS, Chunk, Passage, chunk_fields
from rag.store.base import ChunkRow


def test_passage_carries_the_chunk_fields_with_the_same_types() -> None:
    chunk = typing.get_type_hints(Chunk)
    passage = typing.get_type_hints(Passage)
    shared = [name for name in CHUNK_FIELDS if name != "n_tokens"]
    assert all(passage[name] == chunk[name] for name in shared)


def test_a_stored_row_extends_the_chunk() -> None:
    assert [f.name for f in dataclasses.fields(ChunkRow)] == [*CHUNK_FIELDS, "embed_key"]
    row = ChunkRow("d#0", "d", "T", "d.md", 0, 3, "abc", 4, embed_key="k")
    assert Chunk(**chunk_fields(row)) == Chunk("d#0", "d", "T", "d.md", 0, 3, "abc", 4)


def test_a_passage_is_made_from_a_chunk_in_one_place() -> None:
    chunk = Chunk("d#0", "d", "T", "d.md", 5, 8, "abc", 4)
    p = Passage.from_chunk(chunk, 0.5, dense_score=0.9, bm25_score=1.5, rank=2)
    assert (p.chunk_id, p.doc_id, p.title, p.source, p.text, p.start, p.end) == (
        "d#0",
        "d",
        "T",
        "d.md",
        "abc",
        5,
        8,
    )
    assert (p.score, p.dense_score, p.bm25_score, p.rank) == (0.5, 0.9, 1.5, 2)


def test_the_api_passage_model_has_exactly_the_passage_fields() -> None:
    from rag.serve.models import PassageOut, Source

    fields = [f.name for f in dataclasses.fields(Passage)]
    assert list(PassageOut.model_fields) == fields
    assert list(Source.model_fields) == [*fields, "n", "cited", "url"]  # url: web and PDF pages
    p = Passage("t", "d", "T", "s", "d#0", 1.0, rank=1, start=0, end=1)
    assert PassageOut(**p.to_dict()).model_dump() == p.to_dict()
