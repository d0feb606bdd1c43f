"""Text rules shared by ingest and query time: BM25 words, sentences, the language of a question."""
