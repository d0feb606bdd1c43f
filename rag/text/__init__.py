"""Text rules shared by ingest and query time: BM25 words, sentences, the language of a question,
citation marks, and the page a PDF passage's source names (:mod:`~rag.text.sources`)."""
