"""Build the three benchmark corpora under ``bench/work/corpora/`` (real text, offline).

- ``small``: ``data/articles/`` as it is (37 Markdown articles; nothing to build).
- ``medium``: the 256 paragraphs of the CMRC 2018 trial set as ``medium.jsonl`` (id/title/text),
  and its questions (with the paragraph each is about) as ``medium-questions.jsonl``.
- ``large-part``: the first documents of ``large.jsonl`` up to 500 chunks, where the peers
  (LlamaIndex, LangChain) and the raw encoder run side by side with ours in bounded time.
- ``large``: Chinese technical documentation from three Debian packages, fetched with
  ``apt-get download`` and unpacked with ``dpkg-deb -x`` (no system install):
  ``manpages-zh`` (zh_CN man pages rendered by ``groff -man -Tutf8``), ``debian-reference-zh-cn``
  (HTML chapters) and ``libreoffice-help-zh-cn`` (HTML help pages). All of it goes to
  ``large-full.jsonl``; ``large.jsonl`` is the documented bounded subset: documents taken
  round-robin across the three sources (each source in id order) until the chunker (the
  product's own, 256 tokens, overlap 0.15, with the embedder's tokenizer) yields
  ``--large-chunks`` chunks (default 10,000).

``corpora.json`` records the sizes (documents, characters, chunks) of each.

Example:
    >>> from bench.corpora import man_text                                   # doctest: +SKIP
    >>> man_text(Path("ls.1.gz"))[:20]                                       # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import CORPORA, EMBEDDER_DIR, ROOT, WORK, say

# The CMRC 2018 trial split beside the checkout (../shared/datasets/), or RAG_CMRC_TRIAL.
CMRC_TRIAL = Path(
    os.environ.get("RAG_CMRC_TRIAL")
    or ROOT.parent / "shared" / "datasets" / "cmrc2018" / "cmrc2018_trial.json"
)
DEB_PACKAGES = ("manpages-zh", "debian-reference-zh-cn", "libreoffice-help-zh-cn")
DEBS = WORK / "debs"
PKG = WORK / "pkg"

# Questions for the large corpus (query latency only; relevance is not scored there).
LARGE_QUESTIONS = [
    "如何列出目录中的隐藏文件?",
    "tar 怎样解压 gz 压缩包?",
    "怎么查看磁盘剩余空间?",
    "如何修改文件的权限?",
    "crontab 的时间格式是怎样的?",
    "ssh 如何使用密钥登录?",
    "怎样在 Writer 中插入目录?",
    "如何在 Calc 中冻结行和列?",
    "怎样把文档导出为 PDF?",
    "apt-get 和 aptitude 有什么区别?",
    "如何设置系统的默认语言环境?",
    "grep 怎样递归搜索?",
    "如何查看正在运行的进程?",
    "怎么挂载 USB 存储设备?",
    "Impress 如何添加幻灯片切换效果?",
    "如何配置网络接口的静态 IP?",
    "find 命令如何按修改时间查找文件?",
    "怎样给用户添加 sudo 权限?",
    "Calc 中如何使用 VLOOKUP 函数?",
    "如何备份和恢复系统数据?",
]


# ---------------------------------------------------------------------------- medium
def build_medium() -> dict[str, Any]:
    """CMRC 2018 trial paragraphs -> ``medium.jsonl`` and ``medium-questions.jsonl``."""
    data = json.loads(CMRC_TRIAL.read_text(encoding="utf-8"))["data"]
    docs, questions = [], []
    for article in data:
        for para in article["paragraphs"]:
            doc_id = f"cmrc-{para['id']}"
            docs.append(
                {"id": doc_id, "title": article.get("title") or doc_id, "text": para["context"]}
            )
            for qa in para.get("qas", []):
                questions.append({"question": qa["question"], "gold_doc_ids": [doc_id]})
    _write_jsonl(CORPORA / "medium.jsonl", docs)
    _write_jsonl(CORPORA / "medium-questions.jsonl", questions)
    return {
        "documents": len(docs),
        "chars": sum(len(d["text"]) for d in docs),
        "questions": len(questions),
        "source": str(CMRC_TRIAL),
    }


# ---------------------------------------------------------------------------- large
def fetch_packages() -> None:
    """``apt-get download`` the Debian packages (once) and unpack them with ``dpkg-deb -x``."""
    DEBS.mkdir(parents=True, exist_ok=True)
    for name in DEB_PACKAGES:
        if not list(DEBS.glob(f"{name}_*.deb")):
            say(f"apt-get download {name}")
            subprocess.run(
                ["apt-get", "download", name], cwd=DEBS, check=True, stdout=subprocess.DEVNULL
            )
        target = PKG / name
        if not target.exists():
            (deb,) = DEBS.glob(f"{name}_*.deb")
            target.mkdir(parents=True)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    if shutil.which("groff") is None:
        raise RuntimeError("groff is needed to render the man pages: apt-get install -y groff")


def man_text(path: Path) -> str:
    """A zh_CN man page rendered to plain UTF-8 text (no overstrike, no justification gaps)."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    out = subprocess.run(
        ["groff", "-k", "-man", "-Tutf8", "-rLL=2000n", "-P-c", "-P-b", "-P-u"],
        input=raw,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        check=False,
    ).stdout.decode("utf-8", "replace")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in out.splitlines()]
    lines = [ln for ln in lines if ln]
    if lines and re.match(r"^\S+\(\w+\).*\(\w+\)$", lines[0]):  # header line
        lines = lines[1:]
    if lines and re.search(r"\(\w+\)$", lines[-1]):  # footer line
        lines = lines[:-1]
    return "\n".join(lines)


def _man_docs() -> Iterator[dict[str, str]]:
    root = PKG / "manpages-zh" / "usr" / "share" / "man" / "zh_CN"
    pages = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())

    def one(p: Path) -> dict[str, str] | None:
        name = p.name[:-3] if p.name.endswith(".gz") else p.name
        text = man_text(p)
        if len(text) < 80:
            return None
        base, _, sec = name.rpartition(".")
        return {
            "id": f"man-{name}",
            "title": f"{base}({sec}) 手册页",
            "text": text,
            "url": f"man:{base}({sec})",
        }

    with ThreadPoolExecutor(max_workers=2) as pool:
        for doc in pool.map(one, pages):
            if doc:
                yield doc


def _html_docs(root: Path, prefix: str, min_chars: int = 200) -> Iterator[dict[str, str]]:
    from ingest.loaders.html import html_to_text

    for path in sorted(root.rglob("*.html")):
        title, body = html_to_text(path.read_text(encoding="utf-8", errors="replace"))
        body = body.replace("LibreOffice 7.4 帮助\n", "", 1).strip()
        if len(body) < min_chars:
            continue
        rel = path.relative_to(root).with_suffix("").as_posix()
        yield {
            "id": f"{prefix}-{rel}",
            "title": title or rel,
            "text": body,
            "url": f"{prefix}:{rel}",
        }


def build_large(target_chunks: int) -> dict[str, Any]:
    """``large-full.jsonl`` (all three packages) and ``large.jsonl`` (>= ``target_chunks``)."""
    fetch_packages()
    say("rendering man pages and reading the HTML help")
    sources = {
        "manpages-zh": list(_man_docs()),
        "debian-reference-zh-cn": list(
            _html_docs(
                PKG / "debian-reference-zh-cn" / "usr" / "share" / "debian-reference", "debref"
            )
        ),
        "libreoffice-help-zh-cn": list(
            _html_docs(
                PKG / "libreoffice-help-zh-cn" / "usr" / "share" / "libreoffice" / "help" / "zh-CN",
                "lohelp",
            )
        ),
    }
    # Round-robin across sources so the subset mixes man pages, the reference and the help.
    order: list[tuple[str, dict[str, str]]] = []
    iters = {k: iter(v) for k, v in sources.items()}
    while iters:
        for name in list(iters):
            doc = next(iters[name], None)
            if doc is None:
                del iters[name]
            else:
                order.append((name, doc))
    all_docs = [d for _, d in order]
    _write_jsonl(CORPORA / "large-full.jsonl", all_docs)
    say(f"large-full: {len(all_docs)} documents; counting chunks with the product's chunker")
    counts = _chunk_counts(all_docs)
    subset, n_chunks = [], 0
    per_source: dict[str, int] = {}
    for (name, doc), n in zip(order, counts, strict=True):
        if n_chunks >= target_chunks:
            break
        subset.append(doc)
        n_chunks += n
        per_source[name] = per_source.get(name, 0) + 1
    _write_jsonl(CORPORA / "large.jsonl", subset)
    _write_jsonl(CORPORA / "large-questions.jsonl", [{"question": q} for q in LARGE_QUESTIONS])
    return {
        "full": {
            "documents": len(all_docs),
            "chars": sum(len(d["text"]) for d in all_docs),
            "chunks": int(sum(counts)),
            "per_source": {k: len(v) for k, v in sources.items()},
            "chars_per_source": {k: sum(len(d["text"]) for d in v) for k, v in sources.items()},
        },
        "subset": {
            "documents": len(subset),
            "chars": sum(len(d["text"]) for d in subset),
            "chunks": n_chunks,
            "per_source": per_source,
            "target_chunks": target_chunks,
            "rule": "round-robin over the three packages (each in id order) until the "
            "product's chunker reaches target_chunks",
        },
        "packages": sorted(p.name for p in DEBS.glob("*.deb")),
    }


def build_prefix(src: Path, dst: Path, target_chunks: int) -> dict[str, Any]:
    """The first documents of ``src`` up to ``target_chunks`` chunks (the peers' large corpus)."""
    docs = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line]
    out, n = [], 0
    for doc in docs:
        if n >= target_chunks:
            break
        (c,) = _chunk_counts([doc])
        out.append(doc)
        n += c
    _write_jsonl(dst, out)
    return {
        "documents": len(out),
        "chars": sum(len(d["text"]) for d in out),
        "chunks": n,
        "rule": f"first documents of {src.name} until {target_chunks} chunks",
    }


def _chunk_counts(docs: list[dict[str, str]]) -> list[int]:
    """Chunks per document with the product's chunker and the embedder's tokenizer."""
    from transformers import AutoTokenizer

    from ingest.chunk import Chunker
    from ingest.clean import clean_text
    from rag.schema import Document

    tok = AutoTokenizer.from_pretrained(str(EMBEDDER_DIR))

    def count(texts: Any) -> list[int]:
        enc = tok(
            ["passage: " + t for t in texts],
            add_special_tokens=True,
            truncation=False,
            verbose=False,
        )
        return [len(ids) for ids in enc["input_ids"]]

    chunker = Chunker(count, 256, 0.15)
    return [
        len(chunker.split(Document(d["id"], clean_text(d["text"]), d["title"], d.get("url", ""))))
        for d in docs
    ]


# ---------------------------------------------------------------------------- small
def describe_small() -> dict[str, Any]:
    files = sorted((ROOT / "data" / "articles").glob("*.md"))
    return {
        "documents": len(files),
        "chars": sum(len(f.read_text(encoding="utf-8")) for f in files),
        "path": "data/articles",
        "questions": "data/eval/questions.jsonl",
    }


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def build_all(large_chunks: int = 10_000, skip_large: bool = False) -> dict[str, Any]:
    """Build every corpus and write ``corpora.json``; returns its content."""
    CORPORA.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {"small": describe_small(), "medium": build_medium()}
    say(f"medium: {info['medium']['documents']} paragraphs")
    if not skip_large:
        info["large"] = build_large(large_chunks)
        say(f"large: {info['large']['subset']}")
        info["large-part"] = build_prefix(
            CORPORA / "large.jsonl", CORPORA / "large-part.jsonl", 500
        )
        say(f"large-part: {info['large-part']}")
    (CORPORA / "corpora.json").write_text(
        json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return info
