"""Word segmentation for BM25: jieba for Chinese, lowercased words and numbers for the rest.

Chinese is cut with jieba's search mode (a long word also yields its shorter words, so
"奖励模型" matches "奖励"), English words are lowercased, numbers kept; punctuation and a short
list of function words are dropped. Nothing is split into single characters.

Example:
    >>> tok = BM25Tokenizer()
    >>> tok("DPO 为什么不需要奖励模型?")
    ['dpo', '需要', '奖励', '模型']
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import unicodedata
from pathlib import Path
from typing import Any

import jieba

from rag.text.language import CJK

TOKENIZER_VERSION = "jieba-0.42.1-search-v1"

_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_LATIN_RUN = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")

STOPWORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "等",
        "也",
        "就",
        "都",
        "而",
        "对",
        "从",
        "把",
        "被",
        "让",
        "给",
        "这",
        "那",
        "其",
        "之",
        "于",
        "以",
        "为",
        "中",
        "上",
        "下",
        "个",
        "一个",
        "一种",
        "这个",
        "那个",
        "这些",
        "那些",
        "我们",
        "你们",
        "他们",
        "它们",
        "它",
        "他",
        "她",
        "我",
        "你",
        "吗",
        "呢",
        "吧",
        "啊",
        "么",
        "什么",
        "怎么",
        "为什么",
        "如何",
        "哪些",
        "哪个",
        "是否",
        "可以",
        "能",
        "会",
        "要",
        "不",
        "没有",
        "有",
        "又",
        "还",
        "很",
        "更",
        "最",
        "并",
        "但",
        "但是",
        "因为",
        "所以",
        "如果",
        "则",
        "即",
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "by",
        "with",
        "as",
        "at",
        "from",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "what",
        "which",
        "who",
        "how",
        "why",
        "does",
        "do",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "not",
        "no",
        "than",
        "then",
        "into",
        "about",
    ]
)
_STOP_SINGLE_CJK = frozenset(
    "的了是在和与及或等也就都而对从把被让给这那其之于以为中上下个吗呢吧啊么不有又还很更最并则即"
)


#: Characters segmented with the on-disk dictionary before jieba's whole dictionary is loaded
#: into memory: an ingest gets there at once; a query process never loads it (``whole_after``).
DISK_DICT_CHARS = 20_000


class _DiskFreq:
    """jieba's prefix dictionary (``FREQ``: word or prefix -> count) looked up in SQLite.

    jieba loads its 580k-entry dictionary in 0.4-0.9 s (most of a fresh ``rag search``); a
    question needs a few hundred lookups, a few ms from this file. The mapping is the same, so
    the words are the same (``tests/text/test_tokenize_zh.py``).
    """

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        (total,) = self._db.execute("SELECT value FROM meta WHERE key = 'total'").fetchone()
        self.total = int(total)
        self._memo: dict[str, int | None] = {}

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._memo:
            hit = self._memo[key]
        else:
            with self._lock:
                row = self._db.execute("SELECT f FROM freq WHERE w = ?", (key,)).fetchone()
            hit = self._memo[key] = row[0] if row else None
        return default if hit is None else hit

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __getitem__(self, key: str) -> int:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return int(value)


def _disk_dict_path(cache_dir: Path) -> Path:
    """The SQLite copy of jieba's default dictionary, named after jieba's version and file."""
    try:
        size = (Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME).stat().st_size
    except OSError:
        size = 0
    return cache_dir / f"jieba-{jieba.__version__}-{size}.sqlite"


def _write_disk_dict(path: Path, freq: dict[str, int], total: int) -> None:
    """Write jieba's in-memory dictionary to ``path`` (atomically; a failure only costs speed)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        db = sqlite3.connect(str(tmp))
        db.execute("CREATE TABLE freq (w TEXT PRIMARY KEY, f INTEGER) WITHOUT ROWID")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.executemany("INSERT INTO freq VALUES (?, ?)", freq.items())
        db.execute("INSERT INTO meta VALUES ('total', ?)", (str(total),))
        db.commit()
        db.close()
        os.replace(tmp, path)
    except (OSError, sqlite3.Error):
        tmp.unlink(missing_ok=True)


class BM25Tokenizer:
    """A callable turning text into BM25 terms, with its own jieba dictionary instance.

    A tokenizer with a ``cache_dir`` starts on an on-disk copy of jieba's dictionary (see
    :class:`_DiskFreq`; written there the first time the whole dictionary is loaded) and loads
    the whole dictionary once it has segmented :data:`DISK_DICT_CHARS` characters.

    Args:
        cache_dir: Where jieba may keep its parsed-dictionary cache (default: jieba's choice).
        whole_after: Characters after which the whole dictionary is loaded; None: never (a
            query process: the disk copy's lookups are memoised, and the load, 0.4-0.9 s that
            hold the GIL, would stall whichever question crossed the line).
    """

    def __init__(
        self, cache_dir: Path | None = None, whole_after: int | None = DISK_DICT_CHARS
    ) -> None:
        logging.getLogger("jieba").setLevel(logging.WARNING)
        self._cache_dir = cache_dir
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
        self._jieba = self._new_jieba()
        self._lock = threading.Lock()
        self._ready = False
        self._on_disk = False
        self._chars = 0
        self._whole_after = whole_after

    def _new_jieba(self) -> Any:
        tok = jieba.Tokenizer()
        if self._cache_dir is not None:
            tok.tmp_dir = str(self._cache_dir)
        return tok

    def _init(self) -> None:
        with self._lock:
            if self._ready:
                return
            disk = _disk_dict_path(self._cache_dir) if self._cache_dir is not None else None
            if disk is not None and disk.is_file():
                try:
                    freq = _DiskFreq(disk)
                except (sqlite3.Error, TypeError, ValueError):
                    pass
                else:
                    self._jieba.FREQ, self._jieba.total = freq, freq.total
                    self._jieba.initialized = True
                    self._ready = self._on_disk = True
                    return
            self._jieba.initialize()
            if disk is not None and isinstance(self._jieba.FREQ, dict):
                _write_disk_dict(disk, self._jieba.FREQ, self._jieba.total)
            self._ready = True

    def _count(self, text: str) -> None:
        """Load the whole dictionary into memory once enough text went through the disk one."""
        self._chars += len(text)
        if self._on_disk and self._whole_after is not None and self._chars > self._whole_after:
            with self._lock:
                if self._on_disk:
                    full = self._new_jieba()
                    full.initialize()
                    self._jieba, self._on_disk = full, False

    def __call__(self, text: str) -> list[str]:
        if not self._ready:
            self._init()
        self._count(text)
        text = unicodedata.normalize("NFKC", text).lower()
        terms: list[str] = []
        for piece in self._jieba.cut_for_search(text, HMM=True):
            piece = piece.strip()
            if not piece or not _WORD.search(piece):
                continue
            if CJK.search(piece):
                if piece in STOPWORDS or (len(piece) == 1 and piece in _STOP_SINGLE_CJK):
                    continue
                terms.append(piece)
            else:
                for word in _LATIN_RUN.findall(piece):
                    if word not in STOPWORDS:
                        terms.append(word)
        return terms

    def words(self, text: str) -> list[str]:
        """Whole words (jieba's default cut, normalized and lowercased, blanks dropped).

        For a query that another jieba analyzer cuts again in search mode (Milvus's BM25): the
        words give back the same terms as :meth:`__call__`, where the terms joined would repeat
        their parts.
        """
        if not self._ready:
            self._init()
        self._count(text)
        text = unicodedata.normalize("NFKC", text).lower()
        return [w.strip() for w in self._jieba.cut(text, HMM=True) if w.strip()]

    def many(self, texts: list[str]) -> list[list[str]]:
        """Tokenize several texts."""
        return [self(t) for t in texts]
