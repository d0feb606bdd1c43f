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
import re
import threading
import unicodedata
from pathlib import Path

import jieba

TOKENIZER_VERSION = "jieba-0.42.1-search-v1"

_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
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


class BM25Tokenizer:
    """A callable turning text into BM25 terms, with its own jieba dictionary instance.

    Args:
        cache_dir: Where jieba may keep its parsed-dictionary cache (default: jieba's choice).
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        logging.getLogger("jieba").setLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._jieba.tmp_dir = str(cache_dir)
        self._lock = threading.Lock()
        self._ready = False

    def _init(self) -> None:
        with self._lock:
            if not self._ready:
                self._jieba.initialize()
                self._ready = True

    def __call__(self, text: str) -> list[str]:
        if not self._ready:
            self._init()
        text = unicodedata.normalize("NFKC", text).lower()
        terms: list[str] = []
        for piece in self._jieba.cut_for_search(text, HMM=True):
            piece = piece.strip()
            if not piece or not _WORD.search(piece):
                continue
            if _CJK.search(piece):
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
        text = unicodedata.normalize("NFKC", text).lower()
        return [w.strip() for w in self._jieba.cut(text, HMM=True) if w.strip()]

    def many(self, texts: list[str]) -> list[list[str]]:
        """Tokenize several texts."""
        return [self(t) for t in texts]
