"""``python -m rag.eval``: the same as ``rag eval`` (see :mod:`rag.cli.eval`)."""

from __future__ import annotations

import sys

from rag.cli.eval import main

if __name__ == "__main__":
    sys.exit(main())
