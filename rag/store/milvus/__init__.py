"""A store on Milvus: the same chunks, vectors and BM25 as the local store, in a vector database.

Set ``RAG_VECTOR_STORE`` (or ``--store``) to one of::

    milvus://host:19530                       a Milvus server or cluster (gRPC)
    milvus://host:19530/dbname?collection=x   another database / collection name
    milvus://user:password@host:19530?secure=1  with authentication over TLS
    milvus-lite:///abs/path/index.db          embedded Milvus Lite, data in that folder
    path/to/index.db                          the same, shorter

Layout in Milvus (``<c>`` is the collection name, ``rag_chunks`` by default):

``<c>``
    one row per chunk: ``pk`` (INT64, stable hash of ``chunk_id``), ``chunk_id``, ``doc_id``,
    ``title``, ``source``, ``start``, ``end``, ``text``, ``n_tokens``, ``embed_key``, ``vector``
    (FLOAT_VECTOR, inner product; FLAT below :data:`FLAT_MAX_CHUNKS` chunks, HNSW above,
    IVF_SQ8 above :data:`IVF_MIN_CHUNKS`), ``bm25_text`` (the title line and text, analyzed
    with jieba) and ``sparse`` (SPARSE_FLOAT_VECTOR filled by Milvus's own BM25 function).
``<c>_docs``
    documents: ``doc_id``, ``title``, ``source``, ``lang``, ``sha256``, ``origin``,
    ``n_chunks``, ``meta`` and the text, split into parts of :data:`TEXT_PART_CHARS`.
``<c>_meta``
    the manifest (embedder, chunker, counts) and the ids of documents an interrupted ingest left
    half-written.

pymilvus is imported only when a Milvus store is opened.

Modules: :mod:`~rag.store.milvus.target` (the address), :mod:`~rag.store.milvus.schema` (the
collections and their indexes), :mod:`~rag.store.milvus.client` (connecting and querying),
:mod:`~rag.store.milvus.reader` (search) and :mod:`~rag.store.milvus.writer` (ingest).
"""
