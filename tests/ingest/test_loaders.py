"""Loaders: every format, encodings, and files that must be skipped rather than crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ingest.loaders import load_paths
from ingest.loaders.feed import derive_title, parse_feed
from ingest.read import SkipFile, read_text


def _seeds_dir() -> Path:
    """The four seed listing pages (read-only, beside the checkout: ``../shared/seeds``)."""
    candidates = [
        Path(__file__).resolve().parents[3] / "shared" / "seeds",
        Path("/work/shared/seeds"),
    ]
    if os.environ.get("RAG_SEEDS_DIR"):
        candidates.insert(0, Path(os.environ["RAG_SEEDS_DIR"]))
    return next((c for c in candidates if list(c.glob("*.txt"))), candidates[0])


SEEDS = _seeds_dir()


def test_markdown_front_matter_gives_id_title_and_body(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "---\nid: dpo\ntitle: DPO\nlang: zh\nseeds: [p1.txt]\n---\n直接偏好优化(DPO)不需要奖励模型。\n",
        encoding="utf-8",
    )
    (tmp_path / "b.md").write_text("# FlashAttention\n\n分块计算注意力。\n", encoding="utf-8")
    result = load_paths([tmp_path])
    by_id = {d.doc_id: d for d in result.documents}
    assert by_id["dpo"].title == "DPO"
    assert by_id["dpo"].text == "直接偏好优化(DPO)不需要奖励模型。"
    assert by_id["dpo"].meta["seeds"] == ["p1.txt"]
    assert by_id["b"].title == "FlashAttention"  # first heading, id from the file name
    assert result.errors == [] and result.skipped == []


def test_gb18030_file_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "win.txt"
    path.write_bytes("扩散模型 DDIM 的采样只需要二十步。".encode("gb18030"))
    doc = load_paths([path]).documents[0]
    assert doc.text == "扩散模型 DDIM 的采样只需要二十步。"


def test_undecodable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 \x81\x30 \xff\xfe text that is neither utf-8 nor gb18030 \x80")
    result = load_paths([path])
    assert result.documents == []
    assert len(result.errors) == 1 and "bad.txt" in result.errors[0]
    assert "UTF-8" in result.errors[0]


def test_empty_binary_and_unknown_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    (tmp_path / "blank.txt").write_text("  \n\n ", encoding="utf-8")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")  # .pdf is read now (test_pdf.py)
    (tmp_path / "ok.txt").write_text("Rectified Flow 直线化 ODE 轨迹。", encoding="utf-8")
    result = load_paths([tmp_path])
    assert [d.doc_id for d in result.documents] == ["ok"]
    reasons = " | ".join(result.skipped)
    assert "empty.md: empty file" in reasons
    assert "blank.txt: empty file" in reasons
    assert "image.txt: binary file" in reasons
    assert "notes.docx: unsupported file type .docx" in reasons


def test_oversized_file_is_refused_with_the_limit_named(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("大" * 400_000, encoding="utf-8")  # 1.2 MB
    result = load_paths([path], max_bytes=1_000_000)
    assert result.documents == []
    assert "1.0 MB limit" in result.errors[0] and "RAG_MAX_FILE_MB" in result.errors[0]


def test_html_keeps_headings_and_drops_scripts_and_navigation(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "<html><head><title>DDIM 笔记</title><script>var x = 1;</script></head><body>"
        "<nav><a href='/'>首页</a></nav><h1>DDIM</h1><p>确定性采样，<b>20</b> 步即可。</p>"
        "<footer>版权所有</footer><style>p{}</style></body></html>",
        encoding="utf-8",
    )
    doc = load_paths([tmp_path]).documents[0]
    assert doc.title == "DDIM 笔记"
    assert doc.text.splitlines()[0] == "# DDIM"
    assert "确定性采样，20 步即可。" in doc.text
    for junk in ("var x", "首页", "版权所有", "p{}"):
        assert junk not in doc.text


def test_deeply_nested_html_does_not_crash(tmp_path: Path) -> None:
    (tmp_path / "deep.html").write_text("<div>" * 50_000 + "深层内容" + "</div>" * 50_000)
    result = load_paths([tmp_path])
    assert result.documents[0].text == "深层内容"


def test_jsonl_keeps_given_ids_and_names_broken_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "p-1", "text": "第一段", "title": "One", "url": "https://x/1"}),
        "{not json",
        json.dumps({"id": "p-2", "text": ""}),
        json.dumps({"text": "没有 id 的一段"}),
    ]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_paths([tmp_path])
    ids = [d.doc_id for d in result.documents]
    assert ids == ["p-1", "c-4"]
    assert result.documents[0].source == "https://x/1" and result.documents[0].title == "One"
    assert any("c.jsonl:2" in e for e in result.errors)
    assert any("c.jsonl:3" in e and "text" in e for e in result.errors)


def test_symlink_outside_the_corpus_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret token", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("正常文档内容", encoding="utf-8")
    (corpus / "link.txt").symlink_to(outside)
    result = load_paths([corpus])
    assert [d.doc_id for d in result.documents] == ["a"]
    assert any("not followed" in s for s in result.skipped)


def test_read_text_rejects_binary() -> None:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as fh:
        fh.write(b"abc\x00def")
    try:
        read_text(Path(fh.name))
    except SkipFile as exc:
        assert "binary" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("binary file was read")


def test_feed_seeds_give_37_distinct_articles_keeping_the_longest_text() -> None:
    pages = [(p.read_text(encoding="utf-8"), p.name) for p in sorted(SEEDS.glob("*.txt"))]
    assert len(pages) == 4, f"the seed pages are missing from {SEEDS} (set RAG_SEEDS_DIR)"
    articles = parse_feed(pages)
    assert len(articles) == 37
    texts = [a.text for a in articles]
    assert not any(
        t in ("Python", "1 2 3 ... 5") or (t[:4].isdigit() and len(t) < 12) for t in texts
    )
    post_training = next(a for a in articles if a.text.startswith("简介 后训练"))
    assert len(post_training.sources) == 4
    # Each article is the longest version found on any page, verbatim.
    for a in articles:
        for page, _ in pages:
            for line in page.splitlines():
                if line.strip()[:40] == a.text[:40]:
                    assert len(line.strip()) <= len(a.text)
                    assert a.text in page or line.strip() in a.text


def test_feed_format_loads_a_saved_listing_page(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(
        "INCOMING TRANSMISSION\n\nLATEST UPDATES\n"
        "背景 RLHF 通常包括三个阶段。直接偏好优化(DPO) DPO发现了捷径, DPO将两个任务合二为一。\n"
        "Python\n2026-01-11\n"
        "引言与背景 FlashAttention的关键创新在于使用类似于在线Softmax的思想来分块计算注意力。\n"
        "1 2 3 ... 5\n",
        encoding="utf-8",
    )
    result = load_paths([page], fmt="feed")
    assert [d.title for d in result.documents] == ["DPO", "FlashAttention"]
    assert all(d.meta["seeds"] == ["page.txt"] for d in result.documents)


def test_derive_title_finds_the_subject() -> None:
    assert derive_title("TFRecord TFRecord 是谷歌推荐的一种二进制文件格式") == "TFRecord"
    assert (
        derive_title("简介 24年12月,研究团队开发了 DeepSeek-V3,这是 DeepSeek-V3 和 DeepSeek-V3")
        == "DeepSeek-V3"
    )
    assert derive_title("引言与背景 蒙特卡洛方法是强化学习中的重要算法类别") == "蒙特卡洛方法"


def test_committed_articles_match_the_converter_output(tmp_path: Path) -> None:
    from ingest.loaders.feed import read_titles, write_articles

    root = Path(__file__).resolve().parents[2]
    curated = read_titles(root / "data" / "feed_titles.tsv")
    written = write_articles(sorted(SEEDS.glob("*.txt")), tmp_path, curated)
    assert len(written) == 37
    for path in written:
        committed = root / "data" / "articles" / path.name
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
