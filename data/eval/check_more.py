#!/usr/bin/env python3
"""Check questions_more.jsonl and cmrc_trial_en.jsonl (stdlib only).

    python3 data/eval/check_more.py        # exit 1 and list the problems if any check fails

The CMRC 2018 trial set is looked up beside the checkout (../shared/datasets/cmrc2018/) or at
$RAG_CMRC_TRIAL. See MORE.md for what is checked and why.
"""

import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CMRC = Path(
    os.environ.get("RAG_CMRC_TRIAL")
    or ROOT.parent / "shared" / "datasets" / "cmrc2018" / "cmrc2018_trial.json"
)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.DOTALL)
errors = []


def err(msg):
    errors.append(msg)


def load(path):
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            err(f"{path.name}:{n}: not JSON ({exc})")
            continue
        if isinstance(obj, dict):
            rows.append(obj)
        else:
            err(f"{path.name}:{n}: not a JSON object")
    return rows


def norm(q):
    return re.sub(r"[\W_]+", "", q.lower())


def articles():
    out = {}
    for f in sorted((ROOT / "data" / "articles").glob("*.md")):
        text = f.read_text(encoding="utf-8")
        m = FRONT.match(text)
        meta_id = re.search(r"^id:\s*(\S+)", m.group(1), re.M).group(1).strip("'\"")
        out[meta_id] = text[m.end() :].strip()
    return out


def common(rows, name, fields, context_of):
    """Checks shared by both files; context_of(row) -> list of texts an answer must come from."""
    for r in rows:
        rid = r.get("id", "?")
        if set(r) != fields:
            err(f"{name} {rid}: fields {sorted(set(r) ^ fields)} missing or extra")
            continue
        q = r["question"]
        has_cjk = bool(CJK.search(q))
        if r["lang"] not in ("zh", "en") or has_cjk != (r["lang"] == "zh"):
            err(f"{name} {rid}: lang {r['lang']!r} does not match the question's script")
        if r["split"] not in ("dev", "test"):
            err(f"{name} {rid}: split {r['split']!r}")
        if any(a != a.lower() or not a.strip() for a in r["answers_en"]):
            err(f"{name} {rid}: answers_en must be non-empty lowercase strings")
        for a in r["answers"]:
            if not a or not any(a in t for t in context_of(r)):
                err(f"{name} {rid}: answer {a!r} is not a verbatim substring of its gold text")
    for rid, n in Counter(r.get("id") for r in rows).items():
        if n > 1:
            err(f"{name}: id {rid} occurs {n} times")


def check_more(arts, old_questions):
    rows = load(HERE / "questions_more.jsonl")
    fields = {
        "id",
        "question",
        "gold_doc_ids",
        "answers",
        "answers_en",
        "lang",
        "type",
        "split",
        "made",
    }
    common(rows, "questions_more", fields, lambda r: [arts.get(g, "") for g in r["gold_doc_ids"]])
    groups = {}
    for i, r in enumerate(rows, 1):
        if set(r) != fields:
            continue
        rid = r["id"]
        if rid != f"m{i:03d}":
            err(f"questions_more: id {rid} at line {i}, expected m{i:03d}")
        for g in r["gold_doc_ids"]:
            if g not in arts:
                err(f"questions_more {rid}: unknown gold id {g}")
        if r["type"] == "unanswerable":
            if r["gold_doc_ids"] or r["answers"] or r["answers_en"]:
                err(
                    f"questions_more {rid}: unanswerable must have empty gold_doc_ids/answers/answers_en"
                )
        elif r["type"] in ("english", "factoid_zh"):
            if (
                len(r["gold_doc_ids"]) != 1
                or not 1 <= len(r["answers"]) <= 3
                or not r["answers_en"]
            ):
                err(f"questions_more {rid}: answerable needs 1 gold id, 1-3 answers, answers_en")
            if (r["type"] == "english") != (r["lang"] == "en"):
                err(f"questions_more {rid}: type {r['type']} with lang {r['lang']}")
        else:
            err(f"questions_more {rid}: unknown type {r['type']!r}")
        if r["type"] == "factoid_zh":
            body = arts.get(r["gold_doc_ids"][0], "") if r["gold_doc_ids"] else ""
            for run in re.findall(r"[\u3400-\u9fff\uf900-\ufaff]{8,}", r["question"]):
                hits = [run[k : k + 8] for k in range(len(run) - 7) if run[k : k + 8] in body]
                if hits:
                    err(
                        f"questions_more {rid}: shares 8+ CJK characters with its gold text: {hits[0]}"
                    )
        g = groups.setdefault((r["type"], r["lang"]), [])
        want = "dev" if len(g) % 2 == 0 else "test"
        g.append(rid)
        if r["split"] != want:
            err(
                f"questions_more {rid}: split {r['split']}, expected {want} (alternating per type+lang)"
            )
    seen = {norm(q) for q in old_questions}
    for r in rows:
        k = norm(r.get("question", ""))
        if k in seen:
            err(f"questions_more {r.get('id')}: duplicate question text")
        seen.add(k)
    return rows


def check_cmrc():
    rows = load(HERE / "cmrc_trial_en.jsonl")
    if not CMRC.is_file():
        err(
            f"CMRC 2018 trial set not found at {CMRC} (set RAG_CMRC_TRIAL); cmrc_trial_en.jsonl not checked"
        )
        return rows
    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    paras = [p for art in data for p in art["paragraphs"]]
    expect, ctx = [], {}
    for i, p in enumerate(paras):
        ctx[p["id"]] = p["context"]
        for qa in p["qas"][:2]:
            if len(expect) < 300:
                expect.append((qa, p["id"], "dev" if i % 2 == 0 else "test"))
    fields = {
        "id",
        "question",
        "question_zh",
        "paragraph_id",
        "answers",
        "answers_en",
        "lang",
        "split",
    }
    common(rows, "cmrc_trial_en", fields, lambda r: [ctx.get(r["paragraph_id"], "")])
    if len(rows) != len(expect):
        err(f"cmrc_trial_en: {len(rows)} rows, expected {len(expect)}")
    for r, (qa, pid, split) in zip(rows, expect, strict=False):
        got = (
            r.get("id"),
            r.get("question_zh"),
            r.get("paragraph_id"),
            r.get("answers"),
            r.get("split"),
        )
        want = (
            qa["id"],
            qa["question"],
            pid,
            list(dict.fromkeys(a["text"] for a in qa["answers"])),
            split,
        )
        if got != want:
            err(
                f"cmrc_trial_en {r.get('id')}: expected id/question_zh/paragraph_id/answers/split {want}"
            )
        if r.get("lang") != "en":
            err(f"cmrc_trial_en {r.get('id')}: lang must be en")
    if len({norm(r.get("question", "")) for r in rows}) != len(rows):
        err("cmrc_trial_en: duplicate English question text")
    return rows


def main():
    arts = articles()
    old = [
        json.loads(line)["question"]
        for line in (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    more, cmrc = check_more(arts, old), check_cmrc()
    print("questions_more.jsonl:", len(more), "questions")
    for key, n in sorted(
        Counter((r.get("type"), r.get("lang"), r.get("split")) for r in more).items()
    ):
        print(f"  {key[0]:<13} {key[1]} {key[2]:<4} {n}")
    for made, n in sorted(Counter(r.get("made") for r in more).items()):
        print(f"  made: {made!r}: {n}")
    per_doc = Counter(
        g for r in more if r.get("type") == "english" for g in r.get("gold_doc_ids", [])
    )
    print(
        "  english questions per article: min",
        min(per_doc.get(a, 0) for a in arts),
        "over",
        len(arts),
        "articles",
    )
    print(
        "cmrc_trial_en.jsonl:",
        len(cmrc),
        "questions from",
        len({r.get("paragraph_id") for r in cmrc}),
        "paragraphs;",
        dict(sorted(Counter(r.get("split") for r in cmrc).items())),
        "; with answers_en:",
        sum(1 for r in cmrc if r.get("answers_en")),
    )
    for e in errors:
        print("FAIL", e)
    print("FAILED:" if errors else "OK", len(errors), "problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
