"""BM25 over the store's chunks (bm25s), kept beside Chroma and rebuilt when the store's revision moves.

Chroma 1.5 refuses its own sparse search locally, so lexical search lives here.

- Every `ensure` reads the chunk collection's revision (one small Chroma call: ~0.2 ms embedded, a few ms
  over HTTP) and rebuilds when it moved, so a long-running process (the UI) sees what another process
  (a CLI ingest against the same Chroma server) wrote, at its next question.
- A rebuild lists the chunk ids (one call), reads and tokenises only chunks it has not seen (terms, source and
  date are kept per chunk id; chunk ids are content hashes), drops the ones gone, and re-indexes. When a write
  changed a stored chunk in place (the store's `rows_epoch` moves), everything is read again.
  Its cost is logged and kept in `build_seconds` (and `last_build`: list / read+tokenise / index split).
- The built index is saved in <cache_dir>/<revision>/ (written aside, then renamed: never changed in
  place), so a restarted process, or another process on the same data_dir, loads it instead of rebuilding.
- It indexes every chunk id in Chroma, also chunks of an unfinished write (no source record names their
  article yet): `mask(committed=...)` hides them, from the article id kept per chunk.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import threading
import time
from dataclasses import dataclass, field

import bm25s
import numpy as np

from assistant.storage.store import ChunkStore
from assistant.text.terms import terms

log = logging.getLogger(__name__)

KEEP_OLD_SECONDS = 300  # revision folders older than this (and not the current one) are pruned


@dataclass(frozen=True)
class _Snapshot:
    """One built index: swapped in whole, so a search never sees the ids of one build with the model of another."""

    revision: str | None = None
    ids: list[str] = field(default_factory=list)
    sources: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    date_ords: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    model: bm25s.BM25 | None = None
    df: dict[str, int] = field(default_factory=dict)
    articles: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))  # article id per chunk


class LexicalIndex:
    """BM25 scores for chunks, with the chunk ids and the metadata needed to filter them."""

    def __init__(self, cache_dir: str) -> None:
        self.cache_dir = cache_dir
        self._snapshot = _Snapshot()
        # chunk id -> (space-joined terms, source, date_ord, article id)
        self._rows: dict[str, tuple[str, str, int, str]] = {}
        # (snapshot, committed, hidden chunks)
        self._hidden: tuple[_Snapshot, frozenset[str], np.ndarray | None] | None = None
        self._epoch: str | None = None  # the store's rows_epoch the rows were read under
        self.build_seconds = 0.0
        self.last_build: dict[str, float] = {}
        self.builds = 0
        self._lock = threading.Lock()

    # the current snapshot's parts, for callers that read them
    revision = property(lambda self: self._snapshot.revision)
    ids = property(lambda self: self._snapshot.ids)
    sources = property(lambda self: self._snapshot.sources)
    date_ords = property(lambda self: self._snapshot.date_ords)
    model = property(lambda self: self._snapshot.model)
    df = property(lambda self: self._snapshot.df)

    def ensure(self, store: ChunkStore) -> None:
        """Load or rebuild the index if the store changed since it was built."""
        revision, epoch = store.state()
        if revision == self._snapshot.revision:
            return
        with self._lock:
            if revision == self._snapshot.revision:  # another thread built it meanwhile
                return
            if not self._load(revision, epoch):
                self._build(store, revision, epoch)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) with a positive score; `mask` (bool per chunk) restricts the candidates."""
        snap = self._snapshot
        if snap.model is None or not snap.ids:
            return []
        tokens = [t for t in terms(query) if t in snap.model.vocab_dict]
        if not tokens:
            return []
        scores = snap.model.get_scores(tokens)
        if mask is not None:
            if len(mask) != len(scores):  # the index was rebuilt between mask() and search(): the mask is stale
                log.debug("BM25 mask from another build; skipping lexical results for this question")
                return []
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(snap.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a stemmed term; unseen terms weigh most."""
        snap = self._snapshot
        n = max(1, len(snap.ids))
        df = snap.df.get(term, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def mask(self, sources: set[str] | None = None, date_from: int | None = None, date_to: int | None = None,
             committed: frozenset[str] | None = None) -> np.ndarray | None:
        """Which chunks may be returned (None: all): under the source prefixes, within the dates, and, given
        `committed` (ChunkStore.committed_articles), only of articles a source record names."""
        snap = self._snapshot
        hidden = self._uncommitted(snap, committed) if committed is not None else None
        if sources is None and date_from is None and date_to is None:
            return None if hidden is None else ~hidden
        keep = np.ones(len(snap.ids), dtype=bool) if hidden is None else ~hidden
        if sources is not None:
            keep &= np.isin(snap.sources, list(sources))
        if date_from is not None:
            keep &= snap.date_ords >= date_from
        if date_to is not None:
            keep &= (snap.date_ords <= date_to) & (snap.date_ords > 0)
        return keep

    def _uncommitted(self, snap: _Snapshot, committed: frozenset[str]) -> np.ndarray | None:
        """Chunks of `snap` whose article is not in `committed` (None when there are none, the usual case);
        worked out once per snapshot and committed set."""
        cached = self._hidden
        if cached is not None and cached[0] is snap and cached[1] is committed:
            return cached[2]
        hidden = np.fromiter((a not in committed for a in snap.articles), dtype=bool, count=len(snap.articles))
        # cannot happen for a snapshot built or loaded here; hide everything if it does
        if len(hidden) != len(snap.ids):
            hidden = np.ones(len(snap.ids), dtype=bool)
        result = hidden if hidden.any() else None
        self._hidden = (snap, committed, result)
        return result

    # ---- building ---------------------------------------------------------------------------------

    def _build(self, store: ChunkStore, revision: str, epoch: str = "") -> None:
        started = time.perf_counter()
        if epoch != self._epoch:  # a chunk was rewritten in place somewhere: trust no cached row
            self._rows, self._epoch = {}, epoch
        ids = store.all_ids()
        listed = time.perf_counter()
        known = self._rows
        rows: dict[str, tuple[str, str, int, str]] = {i: known[i] for i in ids if i in known}
        missing = [i for i in ids if i not in rows]
        for chunk in store.chunks_by_ids(missing):
            meta = chunk.metadata
            text = f"{meta.get('title', '')} {chunk.text}" if meta.get("index") == 0 else chunk.text
            rows[chunk.id] = (" ".join(terms(text)), str(meta.get("source", "")), int(meta.get("date_ord", 0) or 0),
                              str(meta.get("article_id", "")))
        ids = [i for i in ids if i in rows]  # a chunk deleted between the listing and the read
        read = time.perf_counter()
        self._rows = rows
        model = None
        df: dict[str, int] = {}
        if ids:
            model = bm25s.BM25()
            model.index([rows[i][0].split() for i in ids], show_progress=False)
            df = _document_frequencies(model)
        sources = np.array([rows[i][1] for i in ids], dtype=object)
        dates = np.array([rows[i][2] for i in ids], dtype=np.int64)
        articles = np.array([rows[i][3] for i in ids], dtype=object)
        self._snapshot = _Snapshot(revision, ids, sources, dates, model, df, articles)
        self.build_seconds = time.perf_counter() - started
        self.last_build = {
            "chunks": len(ids),
            "new_chunks": len(missing),
            "seconds": self.build_seconds,
            "list": listed - started,
            "read_tokenise": read - listed,
            "index": time.perf_counter() - read,
        }
        self.builds += 1
        log.info(
            "BM25 index over %d chunks (%d new) built in %.2fs (list ids %.2fs, read+tokenise %.2fs, index %.2fs)",
            len(ids),
            len(missing),
            self.build_seconds,
            self.last_build["list"],
            self.last_build["read_tokenise"],
            self.last_build["index"],
        )
        self._save()

    # ---- the on-disk copy -------------------------------------------------------------------------

    def _folder(self, revision: str | None) -> str:
        return os.path.join(self.cache_dir, str(revision))

    def _save(self) -> None:
        snap = self._snapshot
        final = self._folder(snap.revision)
        tmp = f"{final}.tmp-{os.getpid()}-{threading.get_ident()}"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            if snap.model is not None:
                snap.model.save(tmp, show_progress=False)
            with open(os.path.join(tmp, "chunks.json"), "w", encoding="utf-8") as handle:
                json.dump(
                    {
                        "revision": snap.revision,
                        "epoch": self._epoch,
                        "ids": snap.ids,
                        "sources": snap.sources.tolist(),
                        "dates": snap.date_ords.tolist(),
                        "articles": snap.articles.tolist(),
                        "terms": [self._rows[i][0] for i in snap.ids],
                    },
                    handle,
                )
            try:
                os.rename(tmp, final)
            except OSError:  # another process saved the same revision first: theirs is as good
                shutil.rmtree(tmp, ignore_errors=True)
            self._prune(keep=final)
        except OSError as exc:  # the saved copy only saves time; never fail a question over it
            log.warning("could not save the BM25 index to %s: %s", final, exc)
            shutil.rmtree(tmp, ignore_errors=True)

    def _prune(self, keep: str) -> None:
        now = time.time()
        try:
            names = os.listdir(self.cache_dir)
        except OSError:
            return
        for name in names:
            path = os.path.join(self.cache_dir, name)
            try:
                if path != keep and now - os.stat(path).st_mtime > KEEP_OLD_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                continue

    def _load(self, revision: str, epoch: str = "") -> bool:
        folder = self._folder(revision)
        try:
            with open(os.path.join(folder, "chunks.json"), encoding="utf-8") as handle:
                meta = json.load(handle)
            if meta["revision"] != revision or len(meta.get("articles") or []) != len(meta["ids"]):
                return False  # another revision, or saved before article ids were kept: rebuild
            model = bm25s.BM25.load(folder, show_progress=False) if meta["ids"] else None
        except (OSError, ValueError, KeyError):
            return False
        df = _document_frequencies(model) if model is not None else {}
        saved_terms = meta.get("terms")
        if meta.get("epoch") == epoch and isinstance(saved_terms, list) and len(saved_terms) == len(meta["ids"]):
            # the rows come along, so the next rebuild (after another process writes) only reads what is new
            self._rows = {
                i: (t, s, int(d), a)
                for i, t, s, d, a in zip(meta["ids"], saved_terms, meta["sources"], meta["dates"], meta["articles"])
            }
            self._epoch = epoch
        self._snapshot = _Snapshot(
            revision,
            meta["ids"],
            np.array(meta["sources"], dtype=object),
            np.array(meta["dates"], dtype=np.int64),
            model,
            df,
            np.array(meta["articles"], dtype=object),
        )
        log.info("BM25 index over %d chunks loaded from %s", len(meta["ids"]), folder)
        return True


def _document_frequencies(model: bm25s.BM25) -> dict[str, int]:
    """Chunks containing each term, read off the index: BM25 scores are positive wherever a term occurs."""
    counts = np.diff(np.asarray(model.scores["indptr"]))
    return {token: int(counts[i]) for token, i in model.vocab_dict.items() if i < len(counts)}
