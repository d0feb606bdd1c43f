#!/usr/bin/env python3
"""Check data/eval/injection.jsonl and data/eval/faithfulness.jsonl (stdlib only).

    python3 data/eval/check_sets.py            # both files, counts, exit 1 on any error
    python3 data/eval/check_sets.py --quiet    # errors and the final line only

See data/eval/SETS.md for what the two files are and how they were made.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARTICLES = HERE.parent / "articles"
INJECTION = HERE / "injection.jsonl"
FAITHFULNESS = HERE / "faithfulness.jsonl"

INJ_FIELDS = ("id", "text", "label", "lang", "style", "split")
INJ_LABELS = ("injection", "benign")
FAITH_FIELDS = (
    "id",
    "doc_id",
    "question",
    "lang",
    "answer_ok",
    "answer_bad",
    "injected",
    "kind",
    "split",
)
KINDS = ("number", "entity", "added_claim", "negation", "comparison")
LANGS = ("zh", "en")
SPLITS = ("dev", "test")

MIN_INJ = {
    ("injection", "zh"): 30,
    ("injection", "en"): 30,
    ("benign", "zh"): 30,
    ("benign", "en"): 30,
}
MIN_FAITH_TOTAL = 220
MIN_FAITH_LANG = 100
MIN_FAITH_KIND = 30  # "well represented": at least this many cases of each kind
MIN_ATTACHED_SHARE = (
    0.5  # share of cases whose unsupported clause shares a sentence with correct content
)

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]+")
CITE = re.compile(r"\[(\d+)\]")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
# a sentence ends at 。！？!? or at a full stop followed by a space or the end of the text
SENT_END = re.compile(r"[。！？!?]|\.(?=\s|$)")

errors: list[str] = []


def error(msg: str) -> None:
    errors.append(msg)


def article_bodies() -> dict[str, str]:
    """Front-matter id -> body (the text after the closing ``---``)."""
    out = {}
    for path in sorted(ARTICLES.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        m = re.match(r"---\n(.*?)\n---\n?(.*)", text, re.S)
        if not m:
            error(f"{path.name}: no front matter")
            continue
        idm = re.search(r"^id:\s*(\S+)\s*$", m.group(1), re.M)
        if not idm:
            error(f"{path.name}: no id in front matter")
            continue
        out[idm.group(1).strip("'\"")] = m.group(2)
    return out


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    if not path.exists():
        error(f"{path.name}: missing")
        return rows
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            error(f"{path.name}:{n}: blank line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            error(f"{path.name}:{n}: invalid JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            error(f"{path.name}:{n}: not a JSON object")
            continue
        if line != json.dumps(obj, ensure_ascii=False):
            error(f"{path.name}:{n}: not written with json.dumps(obj, ensure_ascii=False)")
        rows.append(obj)
    return rows


def lang_ok(text: str, lang: str) -> bool:
    """zh: at least as many CJK characters as Latin words; en: mostly Latin words."""
    cjk = len(CJK.findall(text))
    words = len(LATIN_WORD.findall(text))
    if lang == "zh":
        return cjk >= 4 and cjk >= words
    return words >= 3 and 2 * words > cjk


def check_ids_and_splits(name: str, rows: list[dict], prefix: str, width: int, group_key) -> None:
    """Ids are prefix001... in file order; split alternates dev, test, ... within each group."""
    seen_ids = set()
    position: Counter = Counter()
    wrong: dict = {}
    for n, row in enumerate(rows, 1):
        want = f"{prefix}{n:0{width}d}"
        if row.get("id") != want:
            error(f"{name}: row {n} has id {row.get('id')!r}, expected {want!r}")
        if row.get("id") in seen_ids:
            error(f"{name}: duplicate id {row.get('id')!r}")
        seen_ids.add(row.get("id"))
        key = group_key(row)
        expected = SPLITS[position[key] % 2]
        position[key] += 1
        if row.get("split") != expected:
            wrong.setdefault(key, []).append(row.get("id"))
    for key, ids in wrong.items():
        error(
            f"{name}: split does not alternate dev, test, ... within {key}: "
            f"{len(ids)} row(s) off, first {ids[0]}"
        )


def table(title: str, counter: Counter, rows_keys, cols_keys) -> str:
    lines = [title]
    width = max([len(str(r)) for r in rows_keys] + [6])
    lines.append(" " * width + "".join(f"{c!s:>12}" for c in cols_keys) + f"{'all':>8}")
    for r in rows_keys:
        vals = [counter[(r, c)] for c in cols_keys]
        lines.append(f"{r!s:<{width}}" + "".join(f"{v:>12}" for v in vals) + f"{sum(vals):>8}")
    tot = [sum(counter[(r, c)] for r in rows_keys) for c in cols_keys]
    lines.append(f"{'all':<{width}}" + "".join(f"{v:>12}" for v in tot) + f"{sum(tot):>8}")
    return "\n".join(lines)


def check_injection() -> list[str]:
    rows = read_jsonl(INJECTION)
    name = INJECTION.name
    texts = Counter()
    for row in rows:
        rid = row.get("id", "?")
        missing = [f for f in INJ_FIELDS if f not in row]
        extra = [f for f in row if f not in INJ_FIELDS]
        if missing:
            error(f"{name}: {rid} missing fields {missing}")
            continue
        if extra:
            error(f"{name}: {rid} unexpected fields {extra}")
        if not all(isinstance(row[f], str) and row[f].strip() for f in INJ_FIELDS):
            error(f"{name}: {rid} has an empty or non-string field")
            continue
        if row["label"] not in INJ_LABELS:
            error(f"{name}: {rid} label {row['label']!r} not in {INJ_LABELS}")
        if row["lang"] not in LANGS:
            error(f"{name}: {rid} lang {row['lang']!r} not in {LANGS}")
        elif not lang_ok(row["text"], row["lang"]):
            error(f"{name}: {rid} text does not look like {row['lang']}")
        if row["split"] not in SPLITS:
            error(f"{name}: {rid} split {row['split']!r} not in {SPLITS}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", row["style"]):
            error(f"{name}: {rid} style {row['style']!r} is not a short lower_snake tag")
        if row["text"] != row["text"].strip() or "\n" in row["text"]:
            error(f"{name}: {rid} text has surrounding whitespace or a newline")
        if len(row["text"]) > 400:
            error(f"{name}: {rid} text longer than 400 characters")
        texts[re.sub(r"\s+", " ", row["text"].lower())] += 1
    for text, c in texts.items():
        if c > 1:
            error(f"{name}: text repeated {c} times: {text[:60]!r}")
    check_ids_and_splits(name, rows, "inj", 3, lambda r: (r.get("label"), r.get("lang")))

    by = Counter((r.get("label"), r.get("lang")) for r in rows)
    for key, least in MIN_INJ.items():
        if by[key] < least:
            error(f"{name}: only {by[key]} rows with label/lang {key}, need {least}")
    split_by = Counter((f"{r.get('label')}/{r.get('lang')}", r.get("split")) for r in rows)
    styles = Counter((r.get("style"), r.get("label")) for r in rows)
    out = [f"{name}: {len(rows)} rows"]
    out.append(table("  label x lang", by, INJ_LABELS, LANGS))
    out.append(
        table(
            "  label/lang x split",
            split_by,
            [f"{lab}/{g}" for lab in INJ_LABELS for g in LANGS],
            SPLITS,
        )
    )
    out.append(table("  style x label", styles, sorted({s for s, _ in styles}), INJ_LABELS))
    return out


def sentences(text: str) -> list[str]:
    pieces, pos = [], 0
    for m in SENT_END.finditer(text):
        pieces.append(text[pos : m.end()])
        pos = m.end()
    if text[pos:].strip():
        pieces.append(text[pos:])
    return [p for p in pieces if p.strip()]


def check_answer_form(name: str, rid: str, field: str, text: str) -> None:
    """1-3 sentences, each ending with the citation [1] right before its final punctuation."""
    if CITE.sub("", text) == text:
        error(f"{name}: {rid} {field} has no citation")
    if any(n != "1" for n in CITE.findall(text)):
        error(f"{name}: {rid} {field} cites a passage other than [1]")
    sents = sentences(text)
    if not 1 <= len(sents) <= 3:
        error(f"{name}: {rid} {field} has {len(sents)} sentences")
    for s in sents:
        if not re.search(r"\[1\]\s*[。！？!?.]\s*$", s):
            error(f"{name}: {rid} {field}: sentence does not end with '[1]' + punctuation: {s!r}")


def number_in(num: str, body: str) -> bool:
    return re.search(r"(?<![\d.])" + re.escape(num) + r"(?!\d|\.\d)", body) is not None


def check_faithfulness(bodies: dict[str, str]) -> list[str]:
    rows = read_jsonl(FAITHFULNESS)
    name = FAITHFULNESS.name
    bad_seen: Counter = Counter()
    attached = 0
    replaced = 0
    for row in rows:
        rid = row.get("id", "?")
        missing = [f for f in FAITH_FIELDS if f not in row]
        extra = [f for f in row if f not in FAITH_FIELDS]
        if missing:
            error(f"{name}: {rid} missing fields {missing}")
            continue
        if extra:
            error(f"{name}: {rid} unexpected fields {extra}")
        if not all(isinstance(row[f], str) and row[f].strip() for f in FAITH_FIELDS):
            error(f"{name}: {rid} has an empty or non-string field")
            continue
        ok, bad, inj = row["answer_ok"], row["answer_bad"], row["injected"]
        if row["kind"] not in KINDS:
            error(f"{name}: {rid} kind {row['kind']!r} not in {KINDS}")
        if row["split"] not in SPLITS:
            error(f"{name}: {rid} split {row['split']!r} not in {SPLITS}")
        if row["lang"] not in LANGS:
            error(f"{name}: {rid} lang {row['lang']!r} not in {LANGS}")
        else:
            for f in ("question", "answer_ok", "answer_bad"):
                if not lang_ok(row[f], row["lang"]):
                    error(f"{name}: {rid} {f} does not look like {row['lang']}")
        body = bodies.get(row["doc_id"])
        if body is None:
            error(f"{name}: {rid} doc_id {row['doc_id']!r} is not an article id")
            continue
        check_answer_form(name, rid, "answer_ok", ok)
        check_answer_form(name, rid, "answer_bad", bad)
        if ok == bad:
            error(f"{name}: {rid} answer_bad equals answer_ok")
        if inj not in bad:
            error(f"{name}: {rid} injected is not a substring of answer_bad")
            continue
        if inj in ok:
            error(f"{name}: {rid} injected is also a substring of answer_ok")
        if bad.count(inj) != 1:
            error(f"{name}: {rid} injected occurs {bad.count(inj)} times in answer_bad")
        # exactly one change: answer_bad = pre + injected + post, answer_ok = pre + X + post
        start = bad.index(inj)
        pre, post = bad[:start], bad[start + len(inj) :]
        if not (ok.startswith(pre) and ok.endswith(post) and len(pre) + len(post) <= len(ok)):
            error(f"{name}: {rid} answer_bad differs from answer_ok outside the injected span")
        else:
            removed = ok[len(pre) : len(ok) - len(post)]
            if removed:
                replaced += 1
        # numbers of answer_ok must appear in the article body
        for num in NUMBER.findall(CITE.sub("", ok)):
            if not number_in(num, body):
                error(f"{name}: {rid} number {num} of answer_ok is not in article {row['doc_id']}")
        if row["kind"] == "number" and not re.search(
            r"\d|[一二两三四五六七八九十百千万亿半]|"
            r"\b(one|two|three|four|five|six|seven|eight|"
            r"nine|ten|hundred|thousand|half|double)\b",
            inj,
            re.I,
        ):
            error(f"{name}: {rid} kind number but injected has no number")
        # attached: the sentence holding the injected span has correct content besides it
        for s in sentences(bad):
            if inj in s or (s in inj and len(s) > 0):
                rest = CITE.sub("", s.replace(inj, ""))
                rest = re.sub(r"[\s\W_]+", "", rest)
                if len(rest) >= (6 if row["lang"] == "zh" else 12):
                    attached += 1
                break
        bad_seen[bad] += 1
    for text, c in bad_seen.items():
        if c > 1:
            error(f"{name}: answer_bad repeated {c} times: {text[:60]!r}")
    check_ids_and_splits(name, rows, "f", 3, lambda r: (r.get("lang"), r.get("kind")))

    by_lang = Counter(r.get("lang") for r in rows)
    by_kind = Counter(r.get("kind") for r in rows)
    docs = Counter(r.get("doc_id") for r in rows)
    if len(rows) < MIN_FAITH_TOTAL:
        error(f"{name}: {len(rows)} cases, need {MIN_FAITH_TOTAL}")
    for lang in LANGS:
        if by_lang[lang] < MIN_FAITH_LANG:
            error(f"{name}: {by_lang[lang]} {lang} cases, need {MIN_FAITH_LANG}")
    for kind in KINDS:
        if by_kind[kind] < MIN_FAITH_KIND:
            error(f"{name}: {by_kind[kind]} {kind} cases, need {MIN_FAITH_KIND}")
    for doc in bodies:
        if not docs[doc]:
            error(f"{name}: no case for article {doc}")
    if rows and attached < MIN_ATTACHED_SHARE * len(rows):
        error(
            f"{name}: only {attached}/{len(rows)} injected clauses share a sentence with correct content"
        )
    out = [
        f"{name}: {len(rows)} cases over {len(docs)} of {len(bodies)} articles "
        f"(per article min {min(docs.values()) if docs else 0}, max {max(docs.values()) if docs else 0})"
    ]
    out.append(
        table("  kind x lang", Counter((r.get("kind"), r.get("lang")) for r in rows), KINDS, LANGS)
    )
    out.append(
        table(
            "  lang/kind x split",
            Counter((f"{r.get('lang')}/{r.get('kind')}", r.get("split")) for r in rows),
            [f"{g}/{k}" for g in LANGS for k in KINDS],
            SPLITS,
        )
    )
    out.append(
        f"  injected span replaces text of answer_ok: {replaced}; pure insertion: {len(rows) - replaced}"
    )
    out.append(f"  injected span shares its sentence with correct content: {attached}/{len(rows)}")
    return out


def check_heldout_questions(bodies: dict[str, str]) -> list[str]:
    """questions_heldout.jsonl: ids, splits, gold spans verbatim in their article's body."""
    name = "questions_heldout.jsonl"
    rows = read_jsonl(HERE / name)
    compact = {d: re.sub(r"\s+", "", b) for d, b in bodies.items()}
    per_doc: Counter = Counter()
    for row in rows:
        rid, kind, lang = row.get("id"), row.get("type"), row.get("lang")
        if lang not in LANGS or kind not in ("factoid_zh", "english", "unanswerable"):
            error(f"{name}: {rid} has lang {lang!r} / type {kind!r}")
            continue
        if kind == "unanswerable":
            if row.get("gold_doc_ids") or row.get("answers"):
                error(f"{name}: {rid} is unanswerable but has gold documents or answers")
            continue
        docs = row.get("gold_doc_ids") or []
        if len(docs) != 1 or docs[0] not in bodies:
            error(f"{name}: {rid} needs one gold article of data/articles, has {docs}")
            continue
        per_doc[docs[0]] += 1
        answers = row.get("answers") or []
        if not 1 <= len(answers) <= 3:
            error(f"{name}: {rid} has {len(answers)} answers (1-3)")
        for a in answers:
            if re.sub(r"\s+", "", a) not in compact[docs[0]]:
                error(f"{name}: {rid} answer {a!r} is not in the body of {docs[0]}")
        if (lang == "en") != bool(row.get("answers_en")):
            error(f"{name}: {rid}: answers_en belong to the English questions, and only to them")
    check_ids_and_splits(name, rows, "h", 3, lambda r: (r.get("lang"), r.get("type")))
    by = Counter((r.get("lang"), r.get("type"), r.get("split")) for r in rows)
    return [
        f"{name}: {len(rows)} questions over {len(per_doc)} articles "
        f"(at most {max(per_doc.values()) if per_doc else 0} per article)",
        *(f"  {k[0]}/{k[1]}/{k[2]}: {n}" for k, n in sorted(by.items())),
    ]


def main() -> int:
    quiet = "--quiet" in sys.argv[1:]
    bodies = article_bodies()
    report = [
        *check_injection(),
        "",
        *check_faithfulness(bodies),
        "",
        *check_heldout_questions(bodies),
    ]
    if not quiet:
        print("\n".join(report))
    for e in errors:
        print("ERROR:", e)
    print(f"{'FAILED' if errors else 'OK'}: {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
