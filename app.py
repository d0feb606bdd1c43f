"""Chat with the articles in your browser: ``python app.py`` (the same as ``rag ui``).

Serves on http://127.0.0.1:7860 (or the next free port). Options: ``--host``, ``--port``,
``--auth user:password`` (needed for a non-loopback host, or ``--insecure``), ``--index``,
``--upload-dir``, ``--no-llm``; every setting is also a ``RAG_*`` environment variable.
"""

from __future__ import annotations

import sys

from rag.cli.common import run  # importing rag.cli keeps model hubs offline (HF_HUB_OFFLINE=1)
from rag.cli.ui import standalone_parser


def main(argv: list[str] | None = None) -> int:
    """Parse the options and serve the page until interrupted."""
    return run(standalone_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
