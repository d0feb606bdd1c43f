"""The embedder: building the bundled e5 model, loading it (torch or ONNX), caching vectors."""
