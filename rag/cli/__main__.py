"""``python -m rag.cli``: the same as the ``rag`` command."""

from __future__ import annotations

import sys

from rag.cli import main

if __name__ == "__main__":
    sys.exit(main())
