"""PNG plots of an evaluation summary (matplotlib, Agg backend; ASCII labels only).

- ``hit_at_k.png``: hit@k for k = 1..K, one line per retrieval mode.
- ``gold_rank.png``: where the gold document ranked, per mode (1..K, or missed).
- ``latency.png``: histograms of retrieval latency per mode and of full-answer latency.
- ``evidence.png``: the best passage's dense similarity for answerable vs unanswerable
  questions (what the abstention check has to separate).
- ``breakdown.png``: MRR per question type (or language), per mode.

Example:
    >>> write_plots(summary, records, Path("eval-out/demo"))        # doctest: +SKIP
    ['hit_at_k.png', 'gold_rank.png', 'latency.png', 'evidence.png']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLORS = {"bm25": "#1f77b4", "dense": "#ff7f0e", "hybrid": "#2ca02c"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _hit_curve(plt: Any, summary: dict[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, block in summary["retrieval"].items():
        curve = block["hit_curve"]
        ks = list(range(1, len(curve) + 1))
        ax.plot(ks, [v or 0.0 for v in curve], marker="o", label=mode, color=COLORS.get(mode))
    ax.set_xlabel("k (documents)")
    ax.set_ylabel("hit@k")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(
        f"{summary['name']}: hit@k ({next(iter(summary['retrieval'].values()))['n']} answerable questions)"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _gold_rank(plt: Any, summary: dict[str, Any], path: Path) -> None:
    modes = list(summary["retrieval"])
    labels = list(next(iter(summary["retrieval"].values()))["gold_rank_counts"])
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(1, len(modes))
    for i, mode in enumerate(modes):
        counts = summary["retrieval"][mode]["gold_rank_counts"]
        xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(labels))]
        ax.bar(xs, [counts[lab] for lab in labels], width=width, label=mode, color=COLORS.get(mode))
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("rank of the gold document")
    ax.set_ylabel("questions")
    ax.set_title("Where the gold document ranked")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _latency(plt: Any, summary: dict[str, Any], records: list[dict[str, Any]], path: Path) -> None:
    answers = [r["answer"]["seconds"] for r in records if r.get("answer")]
    panels = 2 if answers else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4), squeeze=False)
    ax = axes[0][0]
    for mode in summary["retrieval"]:
        ms = [
            r["retrieval"][mode]["seconds"] * 1000
            for r in records
            if mode in r.get("retrieval", {})
        ]
        if ms:
            ax.hist(ms, bins=30, alpha=0.5, label=mode, color=COLORS.get(mode))
    ax.set_xlabel("retrieval latency (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Retrieval latency")
    ax.legend()
    if answers:
        ax = axes[0][1]
        ax.hist(answers, bins=30, color="#9467bd")
        lat = summary["answers"]["latency"]
        for q, style in (("p50", "--"), ("p95", ":")):
            if lat.get(q) is not None:
                ax.axvline(lat[q], color="k", linestyle=style, label=f"{q} {lat[q]:.2f} s")
        ax.set_xlabel("full answer latency (s)")
        ax.set_title(f"Answers ({summary['llm'].get('mode', '')})")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _evidence(plt: Any, summary: dict[str, Any], records: list[dict[str, Any]], path: Path) -> bool:
    mode = summary["primary_mode"]
    groups = {
        "answerable": [r for r in records if r.get("gold_doc_ids")],
        "unanswerable": [r for r in records if r.get("gold_doc_ids") == []],
    }
    values = {
        name: [
            r["retrieval"][mode]["top_dense"]
            for r in rows
            if mode in r.get("retrieval", {}) and r["retrieval"][mode]["top_dense"] is not None
        ]
        for name, rows in groups.items()
    }
    if not values["unanswerable"] or not values["answerable"]:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, color in (("answerable", "#2ca02c"), ("unanswerable", "#d62728")):
        ax.hist(
            values[name], bins=20, alpha=0.55, label=f"{name} ({len(values[name])})", color=color
        )
    ax.set_xlabel(f"dense similarity of the best passage ({mode})")
    ax.set_ylabel("questions")
    ax.set_title("Evidence strength: answerable vs unanswerable")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _breakdown(plt: Any, summary: dict[str, Any], path: Path) -> bool:
    table = summary["breakdown"].get("type") or summary["breakdown"].get("lang")
    if not table:
        return False
    modes = list(summary["retrieval"])
    values = [v for v, row in table.items() if row["answerable"]]
    if not values:
        return False
    metric = list(table[values[0]][modes[0]])[-1]  # mrr@k: hit@5 saturates on easy sets
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(values)), 4))
    width = 0.8 / len(modes)
    for i, mode in enumerate(modes):
        xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(values))]
        ax.bar(
            xs,
            [table[v][mode][metric] or 0.0 for v in values],
            width=width,
            label=mode,
            color=COLORS.get(mode),
        )
    ax.set_xticks(range(len(values)), [f"{v}\n(n={table[v]['answerable']})" for v in values])
    ax.set_ylabel(metric)
    ax.set_ylim(0, 1.2)
    ax.set_title(f"{metric} by question {'type' if 'type' in summary['breakdown'] else 'language'}")
    ax.legend(ncols=len(modes), loc="upper center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_plots(summary: dict[str, Any], records: list[dict[str, Any]], out_dir: Path) -> list[str]:
    """Write the PNGs into ``out_dir``; their file names (none when nothing was retrieved)."""
    ok = [r for r in records if not r.get("error")]
    if not ok or not summary.get("retrieval"):
        return []
    plt = _pyplot()
    out_dir = Path(out_dir)
    files = []
    if any(b["n"] for b in summary["retrieval"].values()):
        _hit_curve(plt, summary, out_dir / "hit_at_k.png")
        _gold_rank(plt, summary, out_dir / "gold_rank.png")
        files += ["hit_at_k.png", "gold_rank.png"]
    _latency(plt, summary, ok, out_dir / "latency.png")
    files.append("latency.png")
    if _evidence(plt, summary, ok, out_dir / "evidence.png"):
        files.append("evidence.png")
    if _breakdown(plt, summary, out_dir / "breakdown.png"):
        files.append("breakdown.png")
    return files
