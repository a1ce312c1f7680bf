"""Retrieval: hybrid dense + BM25 search over the store (hybrid.py, lexical.py) and the LangChain retrievers
(retriever.py). Same layer as ingest/; imports the store and below."""
