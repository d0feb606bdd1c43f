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
