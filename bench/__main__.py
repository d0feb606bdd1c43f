"""``python -m bench``: performance benchmarks of rag-articles (see bench/README.md).

Examples::

    python -m bench corpora                 # build small/medium/large under bench/work/
    python -m bench ingest small medium     # ours vs the raw SentenceTransformer.encode
    python -m bench peers small             # + LlamaIndex and LangChain, interleaved
    python -m bench query small             # cold start, warm p50/p95 per retrieval step
    python -m bench answer                  # embedded LLM TTFT at context 400 and 800
    python -m bench faiss                   # FAISS index types: latency, recall@10
    python -m bench all                     # everything, then SUMMARY.md
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CORPUS_CHOICES = ("small", "medium", "large-part", "large")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Where time and memory go: ingest, query, answer, at three corpus sizes, "
        "against the raw embedder and the default LlamaIndex/LangChain pipelines.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("corpora", help="build the corpora under bench/work/corpora/")
    p.add_argument(
        "--large-chunks",
        type=int,
        default=10_000,
        help="chunks of the bounded large subset (default 10000)",
    )

    def corpora_arg(q: argparse.ArgumentParser, default: list[str]) -> None:
        q.add_argument(
            "corpora",
            nargs="*",
            choices=CORPUS_CHOICES,
            default=default,
            metavar="CORPUS",
            help=f"{', '.join(CORPUS_CHOICES)} (default {' '.join(default)})",
        )
        q.add_argument("--threads", type=int, default=2, help="threads for every pipeline")

    p = sub.add_parser("ingest", help="our ingest vs the raw SentenceTransformer.encode")
    corpora_arg(p, ["small", "medium"])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--raw-limit", type=int, help="raw-encode an even sample of N chunks")

    p = sub.add_parser("peers", help="ours, raw encode, LlamaIndex and LangChain, interleaved")
    corpora_arg(p, ["small", "medium", "large-part"])
    p.add_argument("--repeats", type=int, default=1)

    p = sub.add_parser("query", help="cold start and warm latency per retrieval step")
    corpora_arg(p, ["small", "medium", "large-part"])
    p.add_argument("--n", type=int, default=20, help="questions")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--tag", default="", help="index variant (e.g. onnx-int8)")

    p = sub.add_parser("large", help="the >=10k-chunk corpus: our ingest + raw/ours on a sample")
    p.add_argument(
        "--backend", default="onnx-int8", choices=["torch", "onnx", "onnx-int8", "onnx-int8-docs"]
    )
    p.add_argument("--sample", type=int, default=400)

    p = sub.add_parser("cache", help="re-ingest after a chunk_overlap change (embedding cache)")
    p.add_argument("--corpus", default="medium", choices=CORPUS_CHOICES)

    p = sub.add_parser("backends", help="torch / onnx / onnx-int8 x 1/2 threads; int8 quality")
    p.add_argument("--sample", type=int, default=48)
    p.add_argument(
        "--names",
        nargs="+",
        default=["torch", "onnx-int8"],
        choices=["torch", "onnx", "onnx-int8", "onnx-int8-docs"],
    )

    p = sub.add_parser(
        "startup", help="old default vs new: rag search / ask / no-op ingest / stats, interleaved"
    )
    p.add_argument("--ref", default="main", help="git ref of the old default (default main)")
    p.add_argument("--rounds", type=int, default=5)

    p = sub.add_parser("fastquery", help="old default vs new: cold start and warm retrieve")
    p.add_argument("--ref", default="main")
    p.add_argument("--rounds", type=int, default=2)

    p = sub.add_parser("serve", help="old default vs new: rag serve RSS and /v1/search load")
    p.add_argument("--ref", default="main")
    p.add_argument("--requests", type=int, default=400)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rounds", type=int, default=1)

    p = sub.add_parser("scale", help="hybrid retrieve at 100k / 1M chunks (real e5 vectors)")
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument(
        "--factory",
        help="FAISS factory instead of the product's choice (writes scale-<factory>.json)",
    )

    p = sub.add_parser(
        "scale-types", help="FAISS types on the same vectors: one-query search, recall@10"
    )
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--sets", nargs="+", default=["real", "mix", "noisy"])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--name", default="scale-types", help="result file name (default scale-types)")

    p = sub.add_parser("limit", help="GEMM fp32/int8 throughput vs the embedder's FLOP/s")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--backends", nargs="+", default=["onnx-int8", "onnx", "torch"])
    p.add_argument("--sample", type=int, default=128)

    p = sub.add_parser("answer", help="embedded LLM: time to first token, total")
    p.add_argument("--n", type=int, default=3, help="questions per context budget")
    p.add_argument(
        "--question",
        action="append",
        dest="questions",
        metavar="Q",
        help="ask this question instead (repeatable); writes answer-small-questions.json",
    )
    p.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        default=[400, 800],
        metavar="TOKENS",
        help="context budgets in tokens (default 400 800)",
    )

    p = sub.add_parser("warmup", help="first answers of a session: cold vs warmed prompt cache")
    p.add_argument("--rounds", type=int, default=2, help="fresh processes per variant")

    p = sub.add_parser(
        "prompt-state", help="`rag ask`'s first token: prompt start read vs restored from disk"
    )
    p.add_argument("--rounds", type=int, default=3, help="fresh processes per variant and question")

    p = sub.add_parser("faiss", help="FAISS index types: build, latency, recall@10")
    p.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=[100_000, 1_000_000],
        help="random-vector sizes (none: only the large index's real vectors)",
    )
    p.add_argument("--hnsw-max", type=int, default=1_000_000, help="skip HNSW above this size")
    p.add_argument("--queries", type=int, default=200)

    sub.add_parser("summary", help="write bench/results/SUMMARY.md from the result files")

    p = sub.add_parser("all", help="every benchmark in order, then the summary")
    p.add_argument("--skip", nargs="*", default=[], help="steps to skip (e.g. faiss answer)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    if not args.command:
        build_parser().print_help()
        return 2
    from bench import fastpath, limit, runs
    from bench.summary import write_summary

    if args.command == "corpora":
        runs.corpora(args.large_chunks)
    elif args.command == "ingest":
        for c in args.corpora:
            runs.ingest(
                c,
                ("ours", "raw"),
                repeats=args.repeats,
                raw_limit=args.raw_limit,
                threads=args.threads,
            )
    elif args.command == "peers":
        for c in args.corpora:
            runs.ingest(c, runs.PIPELINES, repeats=args.repeats, threads=args.threads)
    elif args.command == "query":
        for c in args.corpora:
            runs.query(c, n=args.n, repeats=args.repeats, threads=args.threads, tag=args.tag)
    elif args.command == "large":
        runs.ingest_large(args.backend, sample=args.sample)
    elif args.command == "cache":
        runs.cache(args.corpus)
    elif args.command == "backends":
        runs.backends(sample=args.sample, names=tuple(args.names))
    elif args.command == "startup":
        fastpath.startup(args.ref, args.rounds)
    elif args.command == "fastquery":
        fastpath.query(args.ref, args.rounds)
    elif args.command == "serve":
        fastpath.serve(args.ref, args.requests, args.concurrency, args.rounds)
    elif args.command == "scale":
        from bench import scale

        scale.run(args.sizes, factory=args.factory)
    elif args.command == "scale-types":
        from bench import scale_types

        scale_types.run(args.sizes, args.sets, args.rounds, name=args.name)
    elif args.command == "limit":
        limit.run(args.threads, args.backends, sample=args.sample)
    elif args.command == "answer":
        runs.answer(tuple(args.budgets), n=args.n, questions=args.questions)
    elif args.command == "warmup":
        runs.warmup(args.rounds)
    elif args.command == "prompt-state":
        runs.prompt_state(args.rounds)
    elif args.command == "faiss":
        runs.faiss_types(args.sizes, args.hnsw_max, args.queries)
    elif args.command == "all":
        steps = {
            "peers": lambda: [runs.ingest(c) for c in ("small", "medium", "large-part")],
            "query": lambda: [runs.query(c) for c in ("small", "medium", "large-part")],
            "cache": lambda: runs.cache("medium"),
            "backends": runs.backends,
            "startup": fastpath.startup,
            "fastquery": fastpath.query,
            "serve": fastpath.serve,
            "limit": limit.run,
            "answer": runs.answer,
            "faiss": lambda: runs.faiss_types([100_000, 1_000_000], 1_000_000, 200),
        }
        for name, step in steps.items():
            if name not in args.skip:
                step()
    if args.command in ("summary", "all") or args.command != "corpora":
        path = write_summary()
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
