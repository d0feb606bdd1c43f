"""Stores: where chunks and their vectors live (local FAISS + BM25 directory by default)."""
