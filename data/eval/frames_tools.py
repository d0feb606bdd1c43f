"""Write ``frames.jsonl``: template questions that ask for an article's core idea, principle,
advantages or role by its topic ("DDIM 的核心思想是什么?", "What is the core idea of DDIM?"), one
topic per article and language, written by hand below. They measure whether words of the question's *frame* (核心思想, 原理, 优点, 作用),
(and their English counterparts), which an article about the topic seldom uses, pull another article up (see FRAMES in
``data/eval/README.md``). Retrieval only: no gold answers. Stdlib only.

    python data/eval/frames_tools.py            # rewrites data/eval/frames.jsonl
"""

from __future__ import annotations

import json
from pathlib import Path

TOPICS = {
    "anchor-free": "Anchor-free 目标检测",
    "bias-in-dl": "神经网络中的偏置",
    "ctr-prediction": "CTR 预估",
    "ddim": "DDIM",
    "ddpg": "DDPG",
    "deepseek-r1": "DeepSeek-R1",
    "deepseek-v3": "DeepSeek-V3",
    "differentiable-metrics": "不可导指标的替代损失",
    "dpo": "DPO",
    "flash-gau": "FLASH 模型的 GAU",
    "flashattention": "FlashAttention",
    "fm-ffm": "FFM",
    "image-feature-pyramid": "特征金字塔",
    "kimi-vl": "Kimi-VL",
    "linear-attention": "线性 Attention",
    "llm-activations": "大模型里的新激活函数",
    "monte-carlo-rl": "蒙特卡洛强化学习",
    "nice-flow": "NICE 流模型",
    "prefix-tuning": "Prefix-Tuning",
    "pytorch-ddp": "PyTorch DDP",
    "query-suggestion": "电商搜索的 query 推荐",
    "random-walk": "用生成函数分析随机游走",
    "receptive-field": "感受野计算",
    "recsys-feature-engineering": "推荐系统的特征工程",
    "rectified-flow": "Rectified Flow",
    "reparameterization": "重参数技巧",
    "rerank": "搜索重排",
    "rl-basics": "GridWorld 强化学习",
    "search-engine-overview": "搜索引擎",
    "small-object-detection": "小目标检测",
    "spp": "SPP",
    "ssm-hippo": "HiPPO",
    "stochastic-approximation": "随机逼近",
    "tf-export": "tf_export 装饰器",
    "tf-feature-column": "TensorFlow FeatureColumn",
    "tfrecord": "TFRecord",
    "yolo": "YOLO",
}
TOPICS_EN = {
    "anchor-free": "anchor-free object detection",
    "bias-in-dl": "the bias term in neural networks",
    "ctr-prediction": "CTR prediction",
    "ddim": "DDIM",
    "ddpg": "DDPG",
    "deepseek-r1": "DeepSeek-R1",
    "deepseek-v3": "DeepSeek-V3",
    "differentiable-metrics": "surrogate losses for non-differentiable metrics",
    "dpo": "DPO",
    "flash-gau": "the GAU of the FLASH model",
    "flashattention": "FlashAttention",
    "fm-ffm": "FFM",
    "image-feature-pyramid": "feature pyramids",
    "kimi-vl": "Kimi-VL",
    "linear-attention": "linear attention",
    "llm-activations": "the new activation functions of LLMs",
    "monte-carlo-rl": "Monte Carlo reinforcement learning",
    "nice-flow": "the NICE flow model",
    "prefix-tuning": "Prefix-Tuning",
    "pytorch-ddp": "PyTorch DDP",
    "query-suggestion": "query suggestion in e-commerce search",
    "random-walk": "analysing random walks with generating functions",
    "receptive-field": "computing the receptive field",
    "recsys-feature-engineering": "feature engineering for recommender systems",
    "rectified-flow": "Rectified Flow",
    "reparameterization": "the reparameterization trick",
    "rerank": "search re-ranking",
    "rl-basics": "GridWorld reinforcement learning",
    "search-engine-overview": "search engines",
    "small-object-detection": "small object detection",
    "spp": "SPP",
    "ssm-hippo": "HiPPO",
    "stochastic-approximation": "stochastic approximation",
    "tf-export": "the tf_export decorator",
    "tf-feature-column": "TensorFlow FeatureColumn",
    "tfrecord": "TFRecord",
    "yolo": "YOLO",
}
FRAMES_EN = (
    "What is the core idea of {t}?",
    "What is the basic principle of {t}?",
    "What are the advantages of {t}?",
    "What is the purpose of {t}?",
)
FRAMES = (
    "{t} 的核心思想是什么？",
    "{t} 的基本原理是什么?",
    "{t} 有哪些优点?",
    "{t} 的作用是什么？",
)


def main() -> None:
    out = Path(__file__).with_name("frames.jsonl")
    rows = []
    for lang, topics, frames in (("zh", TOPICS, FRAMES), ("en", TOPICS_EN, FRAMES_EN)):
        for doc, topic in topics.items():
            for frame in frames:
                n = len(rows) + 1
                rows.append(
                    {
                        "id": f"fr{n:03d}",
                        "question": frame.format(t=topic),
                        "gold_doc_ids": [doc],
                        "answers": [],
                        "lang": lang,
                        "type": f"frame_{lang}",
                        "split": "dev" if n % 2 else "test",
                    }
                )
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    print(f"{len(rows)} questions written to {out}")


if __name__ == "__main__":
    main()
