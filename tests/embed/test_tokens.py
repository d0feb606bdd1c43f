"""The query path's tokenizer (``tokenizers`` alone) matches transformers' exactly."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import ARTICLES

TEXTS = [
    "query: DPO 为什么不需要奖励模型?",
    "passage: " + (ARTICLES / "dpo.md").read_text(encoding="utf-8") * 2,  # > 512 tokens
    "",
    "How does FlashAttention reduce memory traffic? 😀 e\u0301 ｆｕｌｌ-width",
]


@pytest.fixture(scope="module")
def pair(embedder):
    from transformers import AutoTokenizer

    from rag.embed.tokens import Tokens

    folder = embedder._engines.info.folder
    return Tokens(folder, embedder.max_tokens), AutoTokenizer.from_pretrained(str(folder))


def test_counts_match_transformers(pair) -> None:
    ours, hf = pair
    want = [len(x) for x in hf(TEXTS, add_special_tokens=True, truncation=False)["input_ids"]]
    assert ours.count(TEXTS) == want
    assert want[1] > 512  # the long one is really long


def test_model_inputs_match_transformers(pair) -> None:
    ours, hf = pair
    ids, mask = ours.batch(TEXTS)
    ref = hf(TEXTS, padding=True, truncation=True, max_length=512, return_tensors="np")
    assert ids.dtype == np.int64 and ids.shape == ref["input_ids"].shape
    assert np.array_equal(ids, ref["input_ids"])
    assert np.array_equal(mask, ref["attention_mask"])


def _corpus() -> list[str]:
    import json
    import random

    from rag.config import PROJECT_ROOT

    texts = [
        line for p in sorted(ARTICLES.glob("*.md")) for line in p.read_text("utf-8").splitlines()
    ]
    for name in ("questions.jsonl", "questions_more.jsonl"):
        path = PROJECT_ROOT / "data" / "eval" / name
        texts += [json.loads(x)["question"] for x in path.read_text("utf-8").splitlines() if x]
    rng = random.Random(0)
    ranges = [(0x20, 0x250), (0x3000, 0x3100), (0x4E00, 0x4F00), (0xFF00, 0xFF70)]
    codes = [c for a, b in [*ranges, (0x1F300, 0x1F380)] for c in range(a, b)]
    codes += [0x2581, 0x200B, 0x9, 0xA, 0x1, 0x7F, 0xFEFF, 0x301, 0x1680, 0xFFFD, 0x2028, 0xFF5E]
    pool = "".join(chr(c) for c in codes)
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    return [
        *texts,
        "",
        " ",
        "  a  b ",
        "▁",
        "a▁b",
        "\x01",
        "～",
        "🈻",
        "ｆｕｌｌ",
        "e\u0301",
        "ﬁ㍿Ⅻ",
    ]


def test_python_unigram_equals_tokenizers(embedder, tmp_path) -> None:
    """The question tokenizer (pure Python) gives the ids of the tokenizers library, exactly."""
    from tokenizers import Tokenizer

    from rag.embed.unigram import Unigram

    folder = embedder._engines.info.folder
    uni = Unigram.load(folder / "tokenizer.json", tmp_path / "vocab.marshal")
    again = Unigram.load(folder / "tokenizer.json", tmp_path / "vocab.marshal")  # from the cache
    rust = Tokenizer.from_file(str(folder / "tokenizer.json"))
    texts = _corpus()
    checked = [t for t in texts if uni.supports(t)]
    assert len(checked) > 0.9 * len(texts)
    assert not uni.supports("a<s>b")  # special tokens' text: left to tokenizers
    wrong = [t for t in checked if uni.ids(t) != rust.encode(t).ids or again.ids(t) != uni.ids(t)]
    assert not wrong, wrong[:5]


def test_short_texts_take_the_python_path(embedder, tmp_path) -> None:
    from rag.embed.tokens import Tokens

    folder = embedder._engines.info.folder
    tok = Tokens(folder, 512, tmp_path / "vocab.marshal")
    ids, _ = tok.batch(["query: DPO 为什么不需要奖励模型?"])
    assert tok._rust is None and tok._short  # one question: no tokenizers load
    full = Tokens(folder, 512)
    assert np.array_equal(ids, full.batch(["query: DPO 为什么不需要奖励模型?"])[0])
    assert full._rust is not None
