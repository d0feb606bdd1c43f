"""Section-title -> section retrieval on the Debian Reference in Chinese (a second low-overlap proxy).

The corpus is the Debian Reference (``debian-reference-zh-cn``, the Chinese HTML chapters that
``bench/corpora.py`` also uses), one document per section; the questions are the section
titles, each with its own section as the gold document. A title names a topic in a few words
("挂载虚拟磁盘映像文件", "ps 命令") and the section usually words it differently or at length,
and the sections of one chapter share their vocabulary, so titles are short, under-specified
queries, unlike CMRC questions that copy their paragraph's words. See DEBREF.md.

Usage (stdlib only; ``export`` needs ``apt-get`` and ``dpkg-deb``, or ``--deb FILE``)::

    python data/eval/debref_tools.py export OUT [--deb debian-reference-zh-cn_2.100_all.deb]

writes ``OUT/corpus.jsonl`` (``id``, ``title`` = the chapter title, ``text`` = the section's own
text up to the next heading, first 400 characters) and ``OUT/questions.jsonl`` (``question`` =
the section title without its number, ``gold_doc_ids`` = ``[id]``, ``split``: ``dev`` for an
even question index, ``test`` for an odd one).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

PACKAGE = "debian-reference-zh-cn"
MADE_FROM = "2.100"  # the version the committed expected scores were measured on
MAX_CHARS = 400
MIN_CHARS = 80
_HEAD = re.compile(r'<h([1-4]) class="title"[^>]*>(.*?)</h\1>', re.S)
_NUMBER = re.compile(r"^[\d.]+$")


def text_of(fragment: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, blank runs squeezed."""
    s = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", fragment, flags=re.S)
    s = re.sub(r"<br\s*/?>|</p>|</tr>|</li>|</pre>", "\n", s)
    s = html.unescape(re.sub(r"<[^>]+>", " ", s))
    s = re.sub(r"[ \t\u3000\xa0]+", " ", s)
    return re.sub(r"\n\s*\n+", "\n", s).strip()


def sections(chapter_html: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The chapter title and its sections (levels 2-4) as ``(number, title, own text)``."""
    heads = list(_HEAD.finditer(chapter_html))
    if not heads:
        return "", []
    chapter = text_of(heads[0].group(2))
    out = []
    for i, m in enumerate(heads):
        if m.group(1) == "1":
            continue
        end = heads[i + 1].start() if i + 1 < len(heads) else len(chapter_html)
        number, _, title = text_of(m.group(2)).partition(" ")
        if _NUMBER.match(number):
            out.append((number.rstrip("."), title.strip(), text_of(chapter_html[m.end() : end])))
    return chapter, out


def build(doc_root: Path) -> tuple[list[dict], list[dict]]:
    """Corpus and questions from the unpacked ``usr/share/debian-reference`` folder."""
    docs, questions = [], []
    for path in sorted(doc_root.glob("ch*.zh-cn.html")):
        chapter, secs = sections(path.read_text(encoding="utf-8"))
        for number, title, body in secs:
            if len(body) < MIN_CHARS:  # a heading over its subsections only
                continue
            doc_id = f"debref-{number}"
            docs.append({"id": doc_id, "title": chapter, "text": body[:MAX_CHARS]})
            questions.append(
                {"id": doc_id, "question": title, "gold_doc_ids": [doc_id], "lang": "zh"}
            )
    counts = Counter(q["question"] for q in questions)
    questions = [q for q in questions if counts[q["question"]] == 1]  # ambiguous titles dropped
    for i, q in enumerate(questions):
        q["split"] = "dev" if i % 2 == 0 else "test"
    return docs, questions


def fetch(out_dir: Path, deb: Path | None) -> Path:
    """The unpacked package's document folder (downloads the .deb with apt-get if needed)."""
    if deb is None:
        found = sorted(out_dir.glob(f"{PACKAGE}_*.deb"))
        if not found:
            subprocess.run(["apt-get", "download", PACKAGE], cwd=out_dir, check=True)
            found = sorted(out_dir.glob(f"{PACKAGE}_*.deb"))
        deb = found[-1]
    version = deb.name.split("_")[1]
    if version != MADE_FROM:
        print(f"warning: {deb.name} is not version {MADE_FROM}: the scores will differ")
    unpacked = out_dir / "pkg"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    return unpacked / "usr" / "share" / "debian-reference"


def export(out_dir: Path, deb: Path | None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    docs, questions = build(fetch(out_dir, deb))
    for name, rows in (("corpus.jsonl", docs), ("questions.jsonl", questions)):
        with (out_dir / name).open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    split = Counter(q["split"] for q in questions)
    print(
        f"wrote {out_dir / 'corpus.jsonl'} ({len(docs)} sections) and "
        f"{out_dir / 'questions.jsonl'} ({len(questions)} titles: "
        f"{split['dev']} dev, {split['test']} test)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="write OUT/corpus.jsonl and OUT/questions.jsonl")
    e.add_argument("out", type=Path)
    e.add_argument("--deb", type=Path, help=f"a downloaded {PACKAGE} .deb (default: apt-get)")
    args = ap.parse_args(argv)
    export(args.out, args.deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
