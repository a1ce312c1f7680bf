"""BM25 over the store's chunks (bm25s), kept beside Chroma and rebuilt when the store's revision moves.

Chroma 1.5 refuses its own sparse search locally, so lexical search lives here.
The index is saved in data_dir/bm25/<key>/ with the revision it was built from.
"""

from __future__ import annotations

import json
import math
import logging
import os
import shutil
import threading
import time

import bm25s
import numpy as np

from assistant.store import ChunkStore
from assistant.terms import terms

log = logging.getLogger(__name__)


class LexicalIndex:
    """BM25 scores for chunks, with the chunk ids and the metadata needed to filter them."""

    def __init__(self, cache_dir: str) -> None:
        self.cache_dir = cache_dir
        self.revision: str | None = None
        self.ids: list[str] = []
        self.sources: np.ndarray = np.array([], dtype=object)
        self.date_ords: np.ndarray = np.array([], dtype=np.int64)
        self.model: bm25s.BM25 | None = None
        self.df: dict[str, int] = {}
        self.build_seconds = 0.0
        self._lock = threading.Lock()

    def ensure(self, store: ChunkStore) -> None:
        """Load or rebuild the index if the store changed since it was built."""
        revision = store.revision
        with self._lock:
            if revision == self.revision:
                return
            if not self._load(revision):
                self._build(store, revision)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) with a positive score; `mask` (bool per chunk) restricts the candidates."""
        if self.model is None or not self.ids:
            return []
        tokens = [t for t in terms(query) if t in self.model.vocab_dict]
        if not tokens:
            return []
        scores = self.model.get_scores(tokens)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a stemmed term; unseen terms weigh most."""
        n = max(1, len(self.ids))
        df = self.df.get(term, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def mask(self, sources: set[str] | None = None, date_from: int | None = None, date_to: int | None = None) -> np.ndarray | None:
        if sources is None and date_from is None and date_to is None:
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        if sources is not None:
            keep &= np.isin(self.sources, list(sources))
        if date_from is not None:
            keep &= self.date_ords >= date_from
        if date_to is not None:
            keep &= (self.date_ords <= date_to) & (self.date_ords > 0)
        return keep

    def _build(self, store: ChunkStore, revision: str) -> None:
        started = time.perf_counter()
        ids, corpus, sources, dates = [], [], [], []
        for chunk in store.all_chunks():
            ids.append(chunk.id)
            corpus.append(terms(f"{chunk.metadata.get('title', '')} {chunk.text}" if chunk.metadata.get("index") == 0 else chunk.text))
            sources.append(chunk.metadata.get("source", ""))
            dates.append(int(chunk.metadata.get("date_ord", 0)))
        df: dict[str, int] = {}
        for tokens in corpus:
            for token in set(tokens):
                df[token] = df.get(token, 0) + 1
        self.df = df
        model = None
        if ids:
            model = bm25s.BM25()
            model.index(corpus, show_progress=False)
        self.model, self.ids, self.revision = model, ids, revision
        self.sources, self.date_ords = np.array(sources, dtype=object), np.array(dates, dtype=np.int64)
        self.build_seconds = time.perf_counter() - started
        log.info("BM25 index over %d chunks built in %.2fs", len(ids), self.build_seconds)
        self._save()

    def _save(self) -> None:
        tmp = f"{self.cache_dir}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        if self.model is not None:
            self.model.save(tmp, show_progress=False)
        with open(os.path.join(tmp, "chunks.json"), "w", encoding="utf-8") as handle:
            json.dump({"revision": self.revision, "df": self.df, "ids": self.ids, "sources": self.sources.tolist(), "dates": self.date_ords.tolist()}, handle)
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        os.makedirs(os.path.dirname(self.cache_dir), exist_ok=True)
        os.replace(tmp, self.cache_dir)

    def _load(self, revision: str) -> bool:
        meta_path = os.path.join(self.cache_dir, "chunks.json")
        try:
            with open(meta_path, encoding="utf-8") as handle:
                meta = json.load(handle)
            if meta["revision"] != revision:
                return False
            model = bm25s.BM25.load(self.cache_dir, show_progress=False) if meta["ids"] else None
        except (OSError, ValueError, KeyError):
            return False
        self.model, self.ids, self.revision, self.df = model, meta["ids"], revision, meta.get("df", {})
        self.sources, self.date_ords = np.array(meta["sources"], dtype=object), np.array(meta["dates"], dtype=np.int64)
        log.info("BM25 index over %d chunks loaded from %s", len(self.ids), self.cache_dir)
        return True
