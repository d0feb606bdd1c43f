"""What a sentence-transformers folder declares, read from its files (no model is loaded).

Everything the query path needs to know before (or instead of) loading weights: the prompts,
the pooling, the vector size, the token limit, and a fingerprint of the files. Only the standard
library and the folder's JSON files are read, so ``rag ingest`` can tell an unchanged index
from a stale one without importing torch or opening an ONNX session.

Example:
    >>> info = ModelInfo.read(Path("~/.cache/rag-articles/embedders/e5").expanduser())  # doctest: +SKIP
    >>> info.dim, info.max_seq_length, info.prompts["query"]                           # doctest: +SKIP
    (384, 512, 'query: ')
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Files above this size enter the fingerprint by size only (hashing 470 MB on every start
#: would cost seconds; every real change of the weights changes the sidecar files too).
HASH_LIMIT = 1_000_000


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or ``{}`` when it is missing or not JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class ModelInfo:
    """The facts of a sentence-transformers folder that decide its vectors.

    Args:
        folder: The folder.
        dim: Vector size.
        max_seq_length: Tokens fed to the model at most (longer texts are truncated).
        prompts: Named prompts (``query``, ``passage``...).
        pooling: ``mean``, ``cls`` ... (the ONNX runtime supports ``mean``).
        include_prompt: Whether the prompt's tokens are pooled too (e5: yes).
        normalize: Whether the folder ends in a Normalize module.
        extra: ``build_info.json`` of a folder built by :mod:`rag.embed.e5_build`.
    """

    folder: Path
    dim: int
    max_seq_length: int
    prompts: dict[str, str] = field(default_factory=dict)
    pooling: str = "mean"
    include_prompt: bool = True
    normalize: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path) -> ModelInfo:
        """Read the folder's configuration files.

        Raises:
            FileNotFoundError: the folder has no ``tokenizer.json`` or ``config.json``.
        """
        folder = Path(folder)
        for name in ("config.json", "tokenizer.json"):
            if not (folder / name).is_file():
                raise FileNotFoundError(folder / name)
        config = read_json(folder / "config.json")
        st_config = read_json(folder / "config_sentence_transformers.json")
        bert_config = read_json(folder / "sentence_bert_config.json")
        tok_config = read_json(folder / "tokenizer_config.json")
        modules = _modules(folder)
        pooling_dir = next((m.get("path", "") for m in modules if "Pooling" in m["type"]), "")
        pool_cfg = read_json(folder / pooling_dir / "config.json") if pooling_dir else {}
        dim = int(
            pool_cfg.get("embedding_dimension")
            or pool_cfg.get("word_embedding_dimension")
            or config.get("hidden_size")
            or 0
        )
        limits = [
            int(x)
            for x in (
                tok_config.get("model_max_length"),
                config.get("max_position_embeddings"),
            )
            if isinstance(x, int) and 0 < x < 1_000_000
        ]
        max_len = int(bert_config.get("max_seq_length") or (min(limits) if limits else 512))
        return cls(
            folder=folder,
            dim=dim,
            max_seq_length=max_len,
            prompts={str(k): str(v) for k, v in (st_config.get("prompts") or {}).items()},
            pooling=_pooling_mode(pool_cfg),
            include_prompt=bool(pool_cfg.get("include_prompt", True)),
            normalize=any("Normalize" in m["type"] for m in modules),
            extra=read_json(folder / "build_info.json"),
        )

    def file_hashes(self) -> dict[str, object]:
        """Every file of the folder: sha256 of small ones, the size of large ones."""
        files: dict[str, object] = {}
        for f in sorted(self.folder.rglob("*")):
            if f.is_file() and f.name != "build_info.json":
                size = f.stat().st_size
                files[str(f.relative_to(self.folder))] = (
                    hashlib.sha256(f.read_bytes()).hexdigest() if size < HASH_LIMIT else size
                )
        return files


def _modules(folder: Path) -> list[dict[str, str]]:
    try:
        data = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [
        {"type": str(m.get("type", "")), "path": str(m.get("path", ""))}
        for m in data
        if isinstance(m, dict)
    ]


def _pooling_mode(cfg: dict[str, Any]) -> str:
    """The pooling of a Pooling module config (new ``pooling_mode`` or old boolean flags)."""
    if cfg.get("pooling_mode"):
        return str(cfg["pooling_mode"])
    for flag, mode in (
        ("pooling_mode_cls_token", "cls"),
        ("pooling_mode_max_tokens", "max"),
        ("pooling_mode_lasttoken", "lasttoken"),
    ):
        if cfg.get(flag):
            return mode
    return "mean"
