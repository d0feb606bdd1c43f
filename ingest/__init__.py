"""Ingestion: load -> clean -> chunk here, then embed (:mod:`rag.embed`) and index (:mod:`rag.store`).

:func:`ingest.pipeline.ingest` runs the stages in that order, incrementally and crash-safe.
``ingest`` depends on ``rag`` (config, schema, errors, text, embed, store), never the reverse:
query-time code does not import it. See docs/architecture.md.
"""
