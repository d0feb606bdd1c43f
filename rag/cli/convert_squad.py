"""``rag convert-squad``: a SQuAD-format file -> ``corpus.jsonl`` + ``questions.jsonl``.

The same works as ``python -m rag.eval convert-squad FILE --out DIR``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rag.cli.common import say


def cmd_convert_squad(args: argparse.Namespace) -> int:
    """``rag convert-squad FILE --out DIR``."""
    from rag.eval.squad import SquadError, write_squad

    source = Path(args.file)
    out = Path(args.out) if args.out else Path("eval-out") / source.stem
    try:
        report = write_squad(source, out)
    except SquadError as exc:
        say(f"error: {exc}")
        return 1
    print(f"wrote {report.corpus_path} and {report.questions_path}: {report.summary()}")
    for note in report.skipped:
        say(f"skipped: {note}")
    return 0


def convert_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m rag.eval convert-squad``."""
    p = argparse.ArgumentParser(prog="python -m rag.eval convert-squad")
    p.add_argument("file")
    p.add_argument("--out", metavar="DIR")
    p.set_defaults(func=cmd_convert_squad)
    return p


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``convert-squad`` to the ``rag`` parser."""
    p = sub.add_parser(
        "convert-squad",
        help="turn a SQuAD-format file into corpus.jsonl + questions.jsonl",
        description="Every paragraph becomes a document (id = paragraph id, title = article title); "
        "every question's gold document is its paragraph. Index the corpus with "
        "`rag ingest --format jsonl DIR/corpus.jsonl --index DIR/index`.",
    )
    p.add_argument("file", help="SQuAD-format JSON (SQuAD, CMRC 2018, DRCD...)")
    p.add_argument("--out", metavar="DIR", help="output folder (default eval-out/<name>/)")
    p.set_defaults(func=cmd_convert_squad)
