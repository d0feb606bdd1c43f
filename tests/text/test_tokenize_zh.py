"""BM25 terms on jieba's on-disk dictionary equal the terms on its in-memory one."""

from __future__ import annotations

import json
from pathlib import Path

from rag.config import PROJECT_ROOT
from rag.text.tokenize_zh import DISK_DICT_CHARS, BM25Tokenizer, _disk_dict_path
from tests.conftest import ARTICLES


def _texts() -> list[str]:
    path = PROJECT_ROOT / "data" / "eval" / "questions.jsonl"
    questions = [json.loads(x)["question"] for x in path.read_text("utf-8").splitlines() if x]
    lines = [x for p in sorted(ARTICLES.glob("*.md")) for x in p.read_text("utf-8").splitlines()]
    return questions + [x for x in lines if x.strip()]


def test_disk_dictionary_gives_the_same_terms(tmp_path: Path) -> None:
    memory = BM25Tokenizer()  # jieba's own cache, whole dictionary in memory
    first = BM25Tokenizer(tmp_path)  # no disk copy yet: loads the whole one and writes it
    assert first("DPO 为什么不需要奖励模型?") == memory("DPO 为什么不需要奖励模型?")
    assert _disk_dict_path(tmp_path).is_file() and not first._on_disk
    disk = BM25Tokenizer(tmp_path)
    texts = _texts()
    got = [disk(t) for t in texts[:60]]  # the questions: segmented on the disk copy
    assert disk._on_disk
    assert got == [memory(t) for t in texts[:60]]
    assert [disk.words(t) for t in texts[:20]] == [memory.words(t) for t in texts[:20]]
    rest = [disk(t) for t in texts[60:]]  # past DISK_DICT_CHARS it loads the whole dictionary
    assert sum(len(t) for t in texts) > DISK_DICT_CHARS and not disk._on_disk
    assert rest == [memory(t) for t in texts[60:]]


def test_a_query_process_stays_on_the_disk_dictionary(tmp_path: Path) -> None:
    BM25Tokenizer(tmp_path)("写出磁盘副本")  # the first one writes the disk copy
    memory = BM25Tokenizer()
    query_side = BM25Tokenizer(tmp_path, whole_after=None)  # what Assistant uses
    texts = _texts()
    got = [query_side(t) for t in texts]
    assert sum(len(t) for t in texts) > DISK_DICT_CHARS and query_side._on_disk
    assert got == [memory(t) for t in texts]
