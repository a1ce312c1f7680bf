"""Hybrid retrieval: Chroma dense search plus BM25, fused by reciprocal rank fusion, with date and source filters.

Only committed articles are retrieved: a chunk whose article no source record names is a write that did not
finish (assistant/storage/store.py), and is skipped on both paths. The set of committed article ids is read once per
store revision (ChunkStore.committed_articles), so a question costs no scan of the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from assistant.core.answer import Passage
from assistant.core.errors import InputError
from assistant.models.embedding import Embedder
from assistant.retrieval.lexical import LexicalIndex
from assistant.storage.store import ChunkStore, StoredChunk

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "bm25")
RRF_K = 60  # the usual constant: damps the weight of the very first ranks
DENSE_WIDEN = 4  # when uncommitted chunks crowd the nearest ones out, ask Chroma for this many times more
DENSE_MAX_RESULTS = 4096  # ... up to this many


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to articles dated within [date_from, date_to] and/or to sources under a prefix."""

    date_from: date | None = None
    date_to: date | None = None
    source: str | None = None  # a source path or a folder prefix, e.g. "bbc/sport/"

    @property
    def empty(self) -> bool:
        return self.date_from is None and self.date_to is None and not self.source


class HybridRetriever:
    def __init__(self, store: ChunkStore, embedder: Embedder, lexical: LexicalIndex, mode: str = "hybrid") -> None:
        if mode not in MODES:
            raise InputError(f"Unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}.")
        self.store = store
        self.embedder = embedder
        self.lexical = lexical
        self.mode = mode

    def retrieve(self, question: str, k: int, filters: Filters | None = None) -> list[Passage]:
        filters = filters or Filters()
        pool = max(k * 4, 20)
        committed = self.store.committed_articles()
        if not committed:
            return []
        sources = self._matching_sources(filters.source)
        if sources is not None and not sources:
            return []
        dense: list[tuple[StoredChunk, float]] = []
        lexical: list[tuple[str, float]] = []
        if self.mode in ("hybrid", "dense"):
            dense = self._dense(question, pool, _where(filters, sources), committed)
        if self.mode in ("hybrid", "bm25"):
            self.lexical.ensure(self.store)
            mask = self.lexical.mask(sources, _ord(filters.date_from), _ord(filters.date_to), committed=committed)
            lexical = self.lexical.search(question, pool, mask)
        fused: dict[str, float] = {}
        for rank, (chunk, _) in enumerate(dense, start=1):
            fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (RRF_K + rank)
        for rank, (chunk_id, _) in enumerate(lexical, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)
        known = {chunk.id: chunk for chunk, _ in dense}
        dense_rank = {chunk.id: r for r, (chunk, _) in enumerate(dense, start=1)}
        lexical_rank = {chunk_id: r for r, (chunk_id, _) in enumerate(lexical, start=1)}
        passages: list[Passage] = []
        for start in range(0, len(ranked), k):  # one round as a rule; more only if chunks went or were not committed
            batch = ranked[start:start + k]
            known.update(self.store.get_chunks([i for i in batch if i not in known]))
            for i in batch:
                stored = known.get(i)
                # the BM25 mask already hid uncommitted chunks; checked again here on the chunk itself, since the
                # index may have been swapped for a newer one between the mask and the search
                if stored is not None and _article(stored) in committed:
                    passages.append(_passage(stored, fused[i], dense_rank.get(i), lexical_rank.get(i)))
                    if len(passages) == k:
                        return passages
        return passages

    def retrieve_first(self, question: str, k: int, plan: Iterable[Filters | None]) -> list[Passage]:
        """The passages of the first filters in `plan` that find any; [] when none does. A plan is tried in order:
        the window the question's time words point at ("this week"), then the plain filters (Assistant.filter_plan).
        """
        for filters in plan:
            passages = self.retrieve(question, k, filters)
            if passages:
                return passages
        return []

    def _dense(
        self, question: str, pool: int, where: dict | None, committed: frozenset[str]
    ) -> list[tuple[StoredChunk, float]]:
        """The `pool` nearest committed chunks: Chroma cannot filter on the committed set (it can be 100k ids), so
        uncommitted ones are dropped here, and Chroma asked for more if they crowded the nearest ones out."""
        vector = self.embedder.embed_query(question)
        wanted = pool
        while True:
            hits = self.store.query(vector, wanted, where=where)
            kept = [(chunk, score) for chunk, score in hits if _article(chunk) in committed]
            if len(kept) >= pool or len(hits) < wanted or wanted >= DENSE_MAX_RESULTS:
                return kept[:pool]
            wanted = min(wanted * DENSE_WIDEN, DENSE_MAX_RESULTS)

    def whole_articles(self, article_ids: list[str]) -> list[Passage]:
        """All chunks of these articles as passages: the answer often sits beside the best-matching chunk."""
        committed = self.store.committed_articles()
        article_ids = [a for a in article_ids if a in committed]
        return [_passage(chunk, 0.0, None, None) for chunk in self.store.article_chunks(article_ids)]

    def _matching_sources(self, prefix: str | None) -> set[str] | None:
        if not prefix:
            return None
        records = self.store.source_records()
        return {
            r.source
            for r in records.values()
            if not r.duplicate_of and (r.source == prefix or r.source.startswith(prefix.rstrip("/") + "/"))
        }


def _article(chunk: StoredChunk) -> str:
    return str(chunk.metadata.get("article_id", ""))


def _ord(day: date | None) -> int | None:
    return day.year * 10000 + day.month * 100 + day.day if day else None


def _where(filters: Filters, sources: set[str] | None) -> dict | None:
    clauses: list[dict[str, Any]] = []
    if filters.date_from:
        clauses.append({"date_ord": {"$gte": _ord(filters.date_from)}})
    if filters.date_to:
        clauses.append({"date_ord": {"$lte": _ord(filters.date_to)}})
    if sources is not None:
        clauses.append({"source": {"$in": sorted(sources)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _passage(chunk: StoredChunk, score: float, dense_rank: int | None, lexical_rank: int | None) -> Passage:
    meta = chunk.metadata
    return Passage(
        chunk_id=chunk.id,
        article_id=str(meta.get("article_id", "")),
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        date=meta.get("date"),
        url=meta.get("url"),
        text=chunk.text,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        score=score,
        dense_rank=dense_rank,
        lexical_rank=lexical_rank,
    )
