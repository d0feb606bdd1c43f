"""Ingestion: load -> clean -> chunk -> embed -> index.

Each stage is one module; :func:`ingest.pipeline.ingest` runs them in that order.
"""
