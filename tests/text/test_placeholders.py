"""Placeholders the prompt leaves out, and the holes they leave in what the model copies."""

from __future__ import annotations

from rag.text.placeholders import restore_placeholders, without_placeholders
from tests.conftest import ARTICLES

# what the embedded model wrote to "线性 Attention 为什么能降低复杂度?" from the sentences of the
# linear-attention article it was given without their [Math]
HOLED = (
    "这一步我们得到一个 的矩阵,就是这一步决定了Attention的复杂度是;所以这样算大致的复杂度只是 "
    "(就是 左乘那一步占主导) [1]。也就是说,去掉Softmax的Attention的复杂度可以降到最理想的线性级别 [1]!"
)


def test_every_hole_of_a_copied_sentence_shows_the_placeholder_again():
    article = (ARTICLES / "linear-attention.md").read_text(encoding="utf-8")
    restored = restore_placeholders(HOLED, [article])
    assert "得到一个 [Math] 的矩阵" in restored
    assert "复杂度是 [Math];" in restored
    assert "复杂度只是 [Math](就是 [Math] 左乘" in restored
    # a hole the answer cut its sentence at, before its citation
    assert restored.endswith("可以降到最理想的线性级别 [Math] [1]!")
    assert without_placeholders(restored).replace(" ", "") == HOLED.replace(" ", "")


def test_text_without_holes_is_unchanged():
    source = "如果没有Softmax,那么就是三个矩阵连乘 [Math] ,而矩阵乘法是满足结合率的"
    said = "矩阵乘法满足结合率 [1]。"
    assert restore_placeholders(said, [source]) == said
    # a placeholder between two sentences leaves nothing to fill
    assert restore_placeholders("得到这个结论。这一步", ["得到这个结论。 [Math] 这一步"]) == (
        "得到这个结论。这一步"
    )
