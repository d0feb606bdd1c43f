"""The default store: FAISS + BM25 + SQLite in one directory, written in atomic generations.

:mod:`~rag.store.local.layout` (the files), :mod:`~rag.store.local.reader` (search),
:mod:`~rag.store.local.writer` (ingest).
"""
