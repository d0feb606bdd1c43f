"""Ingestion: loading, chunking and embedding documents."""
