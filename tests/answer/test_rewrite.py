"""Follow-up questions become standalone before retrieval."""

from __future__ import annotations

from rag.answer.rewrite import clean_rewrite, heuristic_rewrite, needs_rewrite

HISTORY = [
    {"role": "user", "content": "DDIM 需要重新训练模型吗?"},
    {"role": "assistant", "content": "不需要 [1]。"},
]


def test_follow_ups_are_detected() -> None:
    assert needs_rewrite("那它和 DDPM 比呢?", HISTORY)
    assert needs_rewrite("What about its speed?", HISTORY)
    assert not needs_rewrite("FlashAttention 为什么快?", HISTORY)
    assert not needs_rewrite("那它和 DDPM 比呢?", [])


def test_heuristic_carries_the_previous_subject() -> None:
    assert (
        heuristic_rewrite("那它和 DDPM 比呢?", HISTORY)
        == "DDIM 需要重新训练模型吗? 那它和 DDPM 比呢?"
    )


def test_a_follow_up_of_a_follow_up_keeps_the_subject_named_before() -> None:
    turns = [
        {"role": "user", "content": "What is FFM?"},
        {"role": "assistant", "content": "FFM is a field-aware factorization machine [1]."},
        {"role": "user", "content": "Who proposed it?"},
        {"role": "assistant", "content": "Yuchin Juan等人 [1]."},
    ]
    # "Who proposed it? When?" lost FFM: the retriever answered with the Prefix-Tuning date
    assert heuristic_rewrite("When?", turns) == "What is FFM? Who proposed it? When?"
    # a question that names its subject ends the context
    fresh = [*turns, {"role": "user", "content": "FlashAttention 为什么快?"}]
    assert heuristic_rewrite("那它省显存吗?", fresh) == "FlashAttention 为什么快? 那它省显存吗?"
    # and at most max_turns earlier questions are carried
    chain = [{"role": "user", "content": q} for q in ("DDIM?", "it?", "it?", "it?", "it?")]
    assert heuristic_rewrite("it?", chain, max_turns=2) == "it? it? it?"


def test_llm_rewrite_is_cleaned_or_rejected() -> None:
    assert (
        clean_rewrite("改写后的问题：DDIM 和 DDPM 相比有什么不同?\n多余", "fb")
        == "DDIM 和 DDPM 相比有什么不同?"
    )
    assert clean_rewrite("   ", "fallback") == "fallback"


def test_a_statement_is_no_rewrite_of_a_question() -> None:
    asked = "How much faster is it?"
    assert clean_rewrite("DDIM is faster than DDPM sampling.", "fb", asked) == "fb"
    assert clean_rewrite("How much faster is DDIM than DDPM?", "fb", asked) == (
        "How much faster is DDIM than DDPM?"
    )
    assert (
        clean_rewrite("DDIM 和 DDPM 相比快多少", "fb", "那它快多少?") == "DDIM 和 DDPM 相比快多少"
    )
    assert clean_rewrite("说说 DDIM 的推导", "fb", "详细说说") == "说说 DDIM 的推导"  # no question


def test_a_comparison_that_leaves_out_its_first_side_is_a_follow_up() -> None:
    # asked as a user after two FlashAttention questions: "和标准实现比快多少?" was retrieved
    # alone and refused as not covered
    turns = [{"role": "user", "content": "FlashAttention 的关键创新是什么?"}]
    assert needs_rewrite("和标准实现比快多少?", turns)
    assert heuristic_rewrite("和标准实现比快多少?", turns).startswith("FlashAttention")
    assert needs_rewrite("Compared to DDPM, how fast is it?", turns)
    assert not needs_rewrite("比较 FM 和 FFM 的区别", turns)


def test_a_rewrite_that_repeats_the_previous_question_is_not_taken() -> None:
    # the embedded model, asked to rewrite "和标准实现比快多少?", returned the previous question
    fallback = "FlashAttention 的关键创新是什么? 和标准实现比快多少?"
    repeated = clean_rewrite("FlashAttention的关键创新是什么?", fallback, "和标准实现比快多少?")
    assert repeated == fallback
    kept = clean_rewrite("FlashAttention 和标准实现比快多少?", fallback, "和标准实现比快多少?")
    assert kept == "FlashAttention 和标准实现比快多少?"


def test_which_one_of_the_previous_pair_is_a_follow_up() -> None:
    # asked as a user after "How does it differ from FM?": retrieved alone, the passages
    # of FLASH came first
    turns = [{"role": "user", "content": "What is FFM?"}]
    assert needs_rewrite("Which one has higher time complexity?", turns)
    assert needs_rewrite("两者哪一个更快?", turns)
    assert not needs_rewrite("哪个模型的时间复杂度更高?", turns)


def test_a_rewrite_that_drops_the_comparison_is_not_taken() -> None:
    # asked as a user after questions about YOLO: "And how does SPP differ?" came back from the
    # embedded model as "What is SPP?", and the answer described SPP alone
    fallback = "What is YOLO? And how does SPP differ?"
    asked = "And how does SPP differ?"
    assert clean_rewrite("What is SPP?", fallback, asked) == fallback
    kept = clean_rewrite("How does SPP differ from YOLO?", fallback, asked)
    assert kept == "How does SPP differ from YOLO?"
    assert clean_rewrite("DPO 是什么?", "fb", "它和 RLHF 有什么区别?") == "fb"
    assert clean_rewrite("DPO 和 RLHF 有什么区别?", "fb", "它和 RLHF 有什么区别?") == (
        "DPO 和 RLHF 有什么区别?"
    )


def test_a_follow_up_given_back_unchanged_is_not_taken_when_it_points_back() -> None:
    # asked as a user after "What is DPO?": the embedded model gave "Why doesn't it need a
    # reward model?" back unchanged and the question was retrieved and answered without DPO
    asked = "Why doesn't it need a reward model?"
    fallback = "What is DPO? " + asked
    assert clean_rewrite(asked, fallback, asked) == fallback
    assert clean_rewrite("Why doesn't DPO need a reward model?", fallback, asked) == (
        "Why doesn't DPO need a reward model?"
    )
    assert clean_rewrite("它每个网格预测几个框?", "fb", "它每个网格预测几个框?") == "fb"
    # a follow-up that names its subject itself may come back as it is
    own = "Why is DDIM faster than DDPM?"
    assert clean_rewrite(own, "What is DDIM? " + own, own) == own


def test_a_what_about_follow_up_whose_rewrite_lost_the_subject_is_not_taken() -> None:
    # asked as a user: "What is DPO?", "Does it need a reward model?", then "What about the
    # reference model?" came back from the embedded model as "What is the reference model?",
    # and the Rectified Flow article answered it ("The reference model is DDPM [1].")
    asked = "What about the reference model?"
    fallback = "What is DPO? Does it need a reward model? " + asked
    assert clean_rewrite("What is the reference model?", fallback, asked) == fallback
    assert clean_rewrite("What is the reference model in DPO?", fallback, asked) == (
        "What is the reference model in DPO?"
    )
    assert clean_rewrite("DDPM 的采样步数呢?", "fb", "那 DDPM 的采样步数呢?") == "fb"
