"""Tools for the low-overlap CMRC 2018 trial question set (``cmrc_trial_lowoverlap.jsonl``).

The set re-asks 300 CMRC 2018 trial questions in words the answering paragraph does not use, so
that retrieval cannot succeed by matching the question's words against the paragraph. This file
holds the overlap measure, the deterministic question selection and the export to the format of
``rag ingest`` / ``rag eval``. See ``LOWOVERLAP.md`` next to it.

Overlap (the exact definition):
    content words = ``jieba.lcut(text)`` (jieba 0.42.1, default dictionary, HMM on), minus
      - tokens made only of punctuation, symbols or spaces,
      - single CJK characters in ``FUNCTION_CHARS`` (particles, prepositions, pronouns,
        localizers, auxiliaries),
      - the question words, pronouns, particles and grammatical words in ``STOP_WORDS``, and
        tokens matching ``_QUESTION_OR_DEMONSTRATIVE`` (哪…, 几+classifier, 这/那+classifier);
    overlap(question, paragraph) = share of the question's *distinct* content words that occur as
      a substring of the paragraph (Latin letters compared case-insensitively);
      0.0 when the question has no content word.

Usage (run from the repository root with the project's Python, which has jieba):
    python data/eval/lowoverlap_tools.py words "问题文本" TRIAL_800   # content words + overlap
    python data/eval/lowoverlap_tools.py select                       # the 300 selected question ids
    python data/eval/lowoverlap_tools.py build DRAFTS.tsv             # drafts -> the JSONL set
    python data/eval/lowoverlap_tools.py check                        # validate + overlap statistics
    python data/eval/lowoverlap_tools.py export OUT                   # OUT/corpus.jsonl, questions.jsonl,
                                                                      # questions_orig.jsonl

``DRAFTS.tsv``: one line per selected question, ``id<TAB>paraphrase[<TAB>note]`` (``id`` is the
original CMRC question id, lines in selection order). ``build`` also accepts the set's own JSONL,
so after editing a question there, ``build data/eval/cmrc_trial_lowoverlap.jsonl`` recomputes
its overlap (and rewrites the other fields from the source).

Evaluate retrieval on the set:
    python data/eval/lowoverlap_tools.py export /tmp/cmrc_lo
    rag ingest /tmp/cmrc_lo/corpus.jsonl --index /tmp/cmrc_lo/index
    rag eval /tmp/cmrc_lo/questions.jsonl --index /tmp/cmrc_lo/index --retrieval-only
    rag eval /tmp/cmrc_lo/questions_orig.jsonl --index /tmp/cmrc_lo/index --retrieval-only

Source data: CMRC 2018 trial split (Cui et al. 2019), CC BY-SA 4.0; the derived set is
CC BY-SA 4.0 too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import unicodedata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = Path(
    os.environ.get("CMRC_TRIAL", "/work/shared/datasets/cmrc2018/cmrc2018_trial.json")
)
DEFAULT_SET = HERE / "cmrc_trial_lowoverlap.jsonl"

TARGET = 300  # questions in the set
MAX_OVERLAP = 0.30  # every paraphrase, except ...
MAX_OVERLAP_NAMES = 0.40  # ... the few marked "note": "names" (at most 10% of the set)

# Single CJK characters that carry no topic: particles, prepositions, conjunctions, pronouns,
# auxiliaries, localizers, classifiers. Other single characters (树, 鱼, 年 ...) are content words.
FUNCTION_CHARS = set(
    "的地得了着过吗呢吧啊呀么嘛哦"
    "是在有和与跟同及或被把对为由从向往于以之其而且并但就都也还又才再则即所"
    "这那此该它他她我你您们个些谁哪几啥何怎"
    "会能可要将曾已给让到去来上下中里内外前后时等一不没很最更多"
    "份枚块只条张座项件套首篇"  # classifiers standing alone
)

# Question words, pronouns and particles (multi-character forms as jieba cuts them), and a few
# grammatical words.
STOP_WORDS = {
    "什么", "哪", "哪个", "哪些", "哪里", "哪儿", "哪家", "哪位", "哪年", "哪一年", "哪一个",
    "哪国", "哪种", "哪一", "哪次", "哪部", "哪座", "哪条", "谁", "几", "多少", "如何", "怎么",
    "怎样", "怎么样", "为什么", "为何", "什么样", "什么时候", "何时", "何地", "何人", "何种",
    "是否", "是不是", "有没有", "能否", "可否", "吗", "呢", "吧", "请问", "一下", "到底", "究竟",
    "这个", "那个", "这些", "那些", "这里", "那里", "这样", "那样", "它们", "他们", "她们",
    "我们", "你们", "自己", "多大", "多高", "多长", "多久", "多远", "多重", "多深", "多宽",
    "几个", "几次", "几年", "几位", "几种", "几天", "几岁", "啥", "咋", "为啥", "干嘛", "干什么",
    "啥样", "怎么回事", "是", "的", "了",
    "在", "有", "和", "与", "被", "把", "对", "为", "由", "及",
    # grammatical words that carry no topic (modals, conjunctions, time/order connectives)
    "的话", "才能", "可以", "能够", "应该", "还是", "或者", "以及", "还有", "一个", "一种",
    "一些", "时候", "的时候", "之后", "之前", "以后", "以前", "已经", "曾经", "就是", "也是",
    "都是", "因为", "所以", "但是", "而且", "如果", "那么", "其中", "之间", "除了",
}  # fmt: skip

# Also dropped: any token starting with 哪 (哪所, 哪几个, 哪款 ...), 几 + classifier (几月, 几号),
# and 这/那 + classifier (这位, 那种, 这部 ...): question words and demonstratives.
_QUESTION_OR_DEMONSTRATIVE = re.compile(
    r"^(哪.*|几[个次年位种天岁月号日名座本条项件家所部只块届代段首张篇处份批轮股门辆架艘头片套栋幢间台]|"
    r"[这那][个位种些里样么款部家间所支座项场类边次届代本条件只块名段首张篇处份批轮股门辆架艘头片套栋幢间台])$"
)

# Questions not used. Automatically: those whose (first) gold answer is longer than
# LONG_ANSWER characters, a multi-sentence stretch of the paragraph rather than a specific
# answer. By hand, with the reason: yes/no questions and vague ones (a definition of the topic
# itself, a question that does not say what it asks about).
# Selection walks the paragraphs in file order and takes each paragraph's first question that is
# not skipped; a second pass (paragraphs in order again, their next question that is not
# skipped) fills the set up to TARGET.
LONG_ANSWER = 100
SKIP: dict[str, str] = {
    "TRIAL_723_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_300_QUERY_1": "answer garbled (formulas stripped from the text)",
    "TRIAL_199_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_656_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_575_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_979_QUERY_0": "vague: asks what the topic is (his occupation)",
    "TRIAL_880_QUERY_0": "garbled question; several things are sold besides, answer not unique",
    "TRIAL_546_QUERY_0": "vague: asks what kind of war the topic is",
    "TRIAL_998_QUERY_0": "yes/no",
    "TRIAL_998_QUERY_1": "yes/no",
    "TRIAL_827_QUERY_0": "yes/no",
    "TRIAL_920_QUERY_0": "vague: asks what the topic is (his occupation)",
    "TRIAL_574_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_925_QUERY_0": "yes/no",
    "TRIAL_739_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_286_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_184_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_111_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_814_QUERY_0": "answer garbled (the names are missing from the text)",
    "TRIAL_803_QUERY_0": "vague: asks what the topic is (her occupation)",
    "TRIAL_513_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_765_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_765_QUERY_1": "vague: asks what the topic itself is",
    "TRIAL_701_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_258_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_708_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_777_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_20_QUERY_0": "empty question",
    "TRIAL_843_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_368_QUERY_1": "vague: asks what the topic itself is",
    "TRIAL_122_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_778_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_917_QUERY_0": "yes/no",
    "TRIAL_749_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_141_QUERY_0": "vague: asks what the topic itself is",
    "TRIAL_265_QUERY_1": "vague: asks what the topic itself is",
}


def skip_reason(qa: dict) -> str:
    """Why the question is not used ("" when it may be used)."""
    if qa["id"] in SKIP:
        return SKIP[qa["id"]]
    answers = _answers(qa)
    if not answers:
        return "no answer"
    if len(answers[0]) > LONG_ANSWER:
        return f"answer longer than {LONG_ANSWER} characters"
    return ""


_jieba = None


def _cut(text: str) -> list[str]:
    global _jieba
    if _jieba is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba
    return _jieba.lcut(text)


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(c)[0] in "PSZC" for c in token)


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def content_words(text: str) -> list[str]:
    """The distinct content words of ``text``, in order of first appearance."""
    out: list[str] = []
    for token in _cut(text):
        token = token.strip()
        if not token or _is_punct(token):
            continue
        if len(token) == 1 and _is_cjk(token) and token in FUNCTION_CHARS:
            continue
        if token in STOP_WORDS or _QUESTION_OR_DEMONSTRATIVE.match(token):
            continue
        if token not in out:
            out.append(token)
    return out


def overlap_details(question: str, paragraph: str) -> tuple[float, list[str], list[str]]:
    """``(overlap, words found in the paragraph, words not found)``."""
    words = content_words(question)
    low = paragraph.lower()
    found = [w for w in words if w.lower() in low]
    missing = [w for w in words if w.lower() not in low]
    return (round(len(found) / len(words), 4) if words else 0.0), found, missing


def overlap(question: str, paragraph: str) -> float:
    """Share of the question's distinct content words that occur in the paragraph."""
    return overlap_details(question, paragraph)[0]


# --- source data and selection ------------------------------------------------------------------


def load_paragraphs(source: Path = DEFAULT_SOURCE) -> list[dict[str, Any]]:
    """The trial paragraphs in file order: ``{"id", "title", "context", "qas"}``."""
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    paragraphs = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            paragraphs.append(
                {
                    "id": para["id"],
                    "title": article.get("title", ""),
                    "context": para["context"],
                    "qas": para["qas"],
                }
            )
    return paragraphs


def select(paragraphs: list[dict[str, Any]], target: int = TARGET) -> list[tuple[int, dict]]:
    """``(paragraph index, qa)`` of the selected questions, in selection order."""
    chosen: list[tuple[int, dict]] = []
    used: set[str] = set()
    for rnd in range(2):
        for i, para in enumerate(paragraphs):
            if len(chosen) >= target:
                return chosen
            for qa in para["qas"]:
                if qa["id"] in used or skip_reason(qa):
                    continue
                chosen.append((i, qa))
                used.add(qa["id"])
                break
        if rnd == 0 and len(chosen) >= target:
            break
    return chosen


def _answers(qa: dict) -> list[str]:
    out: list[str] = []
    for a in qa.get("answers") or []:
        t = (a.get("text") if isinstance(a, dict) else a or "").strip()
        if t and t not in out:
            out.append(t)
    return out


# --- build / check / export ---------------------------------------------------------------------


def read_drafts(path: Path) -> list[tuple[str, str, str]]:
    """``(original question id, paraphrase, note)`` from a drafts TSV, or from the set itself
    (a ``.jsonl`` file in the format of ``cmrc_trial_lowoverlap.jsonl``, e.g. after editing it)."""
    if str(path).endswith(".jsonl"):
        return [
            (r["id"].removesuffix("_LO"), r["question"], r.get("note", "")) for r in read_set(path)
        ]
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise SystemExit(f"{path}:{n}: expected id<TAB>question[<TAB>note]")
        rows.append(
            (parts[0].strip(), parts[1].strip(), parts[2].strip() if len(parts) > 2 else "")
        )
    return rows


def build(drafts: Path, out: Path, source: Path, partial: bool = False) -> list[dict]:
    paragraphs = load_paragraphs(source)
    chosen = select(paragraphs)
    rows = read_drafts(drafts)
    if not partial and len(rows) != len(chosen):
        raise SystemExit(f"{len(rows)} drafts for {len(chosen)} selected questions")
    records = []
    for (pi, qa), (qid, question, note) in zip(chosen, rows, strict=False):
        if qid != qa["id"]:
            raise SystemExit(f"draft {qid} where the selection has {qa['id']}")
        para = paragraphs[pi]
        rec = {
            "id": qa["id"] + "_LO",
            "question": question,
            "question_orig": qa["question"].strip(),
            "paragraph_id": para["id"],
            "answers": _answers(qa),
            "overlap": overlap(question, para["context"]),
            "lang": "zh",
            "split": "dev" if pi % 2 == 0 else "test",
        }
        if note:
            rec["note"] = note
        records.append(rec)
    out.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return records


def read_set(path: Path) -> list[dict]:
    return [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]


def _stats(values: list[float]) -> str:
    if not values:
        return "n=0"
    return (
        f"n={len(values)} mean={statistics.mean(values):.3f} "
        f"median={statistics.median(values):.3f} min={min(values):.3f} max={max(values):.3f}"
    )


def check(path: Path, source: Path, verbose: bool = False) -> int:
    """Recompute every overlap and validate the set; print statistics; number of problems."""
    paragraphs = {p["id"]: p for p in load_paragraphs(source)}
    records = read_set(path)
    problems: list[str] = []
    orig, para_ov = [], []
    names = 0
    seen = set()
    for r in records:
        ctx = paragraphs[r["paragraph_id"]]["context"]
        ov = overlap(r["question"], ctx)
        oo = overlap(r["question_orig"], ctx)
        orig.append(oo)
        para_ov.append(ov)
        if abs(ov - r["overlap"]) > 1e-4:
            problems.append(f"{r['id']}: stored overlap {r['overlap']} != {ov}")
        if r.get("note") == "names":
            names += 1
            if ov > MAX_OVERLAP_NAMES:
                problems.append(f"{r['id']}: overlap {ov} > {MAX_OVERLAP_NAMES} (names)")
        elif ov > MAX_OVERLAP:
            problems.append(f"{r['id']}: overlap {ov} > {MAX_OVERLAP}")
        for a in r["answers"]:
            if len(a) <= 30 and a in r["question"]:
                problems.append(f"{r['id']}: answer {a!r} inside the question")
        if r["question"] == r["question_orig"]:
            problems.append(f"{r['id']}: question not rewritten")
        if r["id"] in seen:
            problems.append(f"{r['id']}: duplicate id")
        seen.add(r["id"])
        if verbose:
            _, found, missing = overlap_details(r["question"], ctx)
            print(
                f"{ov:.2f} (orig {oo:.2f}) {r['id']} {r['question']}  found={found} new={missing}"
            )
    if len(records) >= TARGET and names > len(records) // 10:
        problems.append(f'{names} questions marked "names" (> 10%)')
    splits = {s: sum(r["split"] == s for r in records) for s in ("dev", "test")}
    print(
        f"{len(records)} questions, {len({r['paragraph_id'] for r in records})} paragraphs, "
        f"split {splits}, names-notes {names}"
    )
    print(f"overlap original questions:   {_stats(orig)}")
    print(f"overlap paraphrased questions: {_stats(para_ov)}")
    for s in ("dev", "test"):
        sel = [ov for ov, r in zip(para_ov, records, strict=True) if r["split"] == s]
        sel_o = [ov for ov, r in zip(orig, records, strict=True) if r["split"] == s]
        print(f"  {s}: original {_stats(sel_o)}; paraphrase {_stats(sel)}")
    for p in problems:
        print("PROBLEM", p)
    return len(problems)


def export(out_dir: Path, path: Path, source: Path) -> None:
    """Write ``corpus.jsonl`` (the 256 paragraphs), ``questions.jsonl`` (the paraphrases, eval
    format) and ``questions_orig.jsonl`` (the same questions in their original CMRC wording)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paragraphs = load_paragraphs(source)
    with (out_dir / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for p in paragraphs:
            rec = {"id": p["id"], "title": p["context"][:20], "text": p["context"]}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    records = read_set(path)
    contexts = {p["id"]: p["context"] for p in paragraphs}
    # questions.jsonl: the paraphrases; questions_orig.jsonl: the same questions in their original
    # CMRC wording, for a side-by-side run on the same paragraphs.
    for name, field, suffix in (
        ("questions.jsonl", "question", "_LO"),
        ("questions_orig.jsonl", "question_orig", "_ORIG"),
    ):
        with (out_dir / name).open("w", encoding="utf-8") as f:
            for r in records:
                rec = {
                    "id": r["id"].removesuffix("_LO") + suffix,
                    "question": r[field],
                    "gold_doc_ids": [r["paragraph_id"]],
                    "answers": r["answers"],
                    "lang": r["lang"],
                    "split": r["split"],
                    "overlap": r["overlap"]
                    if field == "question"
                    else overlap(r[field], contexts[r["paragraph_id"]]),
                }
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    # questions_en.jsonl: the English translations of CMRC trial questions (cmrc_trial_en.jsonl,
    # see MORE.md) over the same paragraphs, for a cross-lingual run on the same index.
    english = path.parent / "cmrc_trial_en.jsonl"
    n_en = 0
    if english.is_file():
        with (out_dir / "questions_en.jsonl").open("w", encoding="utf-8") as f:
            for r in read_set(english):
                rec = {
                    "id": r["id"] + "_EN",
                    "question": r["question"],
                    "gold_doc_ids": [r["paragraph_id"]],
                    "answers": r["answers"],
                    "lang": r["lang"],
                    "split": r["split"],
                }
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n_en += 1
    print(
        f"wrote {out_dir / 'corpus.jsonl'} ({len(paragraphs)} paragraphs), "
        f"{out_dir / 'questions.jsonl'} and {out_dir / 'questions_orig.jsonl'} "
        f"({len(records)} questions each)"
        + (f", {out_dir / 'questions_en.jsonl'} ({n_en} questions)" if n_en else "")
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="cmrc2018_trial.json")
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("words", help="content words and overlap of a question")
    w.add_argument("question")
    w.add_argument("paragraph_id", nargs="?")
    sub.add_parser("select", help="list the selected question ids")
    b = sub.add_parser("build", help="build the JSONL set from a drafts TSV")
    b.add_argument("drafts", type=Path)
    b.add_argument("--out", type=Path, default=DEFAULT_SET)
    b.add_argument("--partial", action="store_true", help="allow fewer drafts than selected")
    c = sub.add_parser("check", help="validate the set and print overlap statistics")
    c.add_argument("file", type=Path, nargs="?", default=DEFAULT_SET)
    c.add_argument("-v", "--verbose", action="store_true")
    e = sub.add_parser("export", help="write OUT/corpus.jsonl and OUT/questions.jsonl")
    e.add_argument("out_dir", type=Path)
    e.add_argument("--set", type=Path, default=DEFAULT_SET)
    args = ap.parse_args(argv)

    if args.cmd == "words":
        words = content_words(args.question)
        if args.paragraph_id:
            ctx = {p["id"]: p for p in load_paragraphs(args.source)}[args.paragraph_id]["context"]
            ov, found, missing = overlap_details(args.question, ctx)
            print(f"overlap={ov:.3f} found={found} new={missing}")
        else:
            print(words)
        return 0
    if args.cmd == "select":
        paragraphs = load_paragraphs(args.source)
        for pi, qa in select(paragraphs):
            print(f"{pi}\t{qa['id']}\t{qa['question']}\t{' | '.join(_answers(qa))}")
        return 0
    if args.cmd == "build":
        records = build(args.drafts, args.out, args.source, args.partial)
        print(f"wrote {len(records)} questions to {args.out}")
        return 1 if check(args.out, args.source) else 0
    if args.cmd == "check":
        return 1 if check(args.file, args.source, args.verbose) else 0
    if args.cmd == "export":
        export(args.out_dir, args.set, args.source)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
