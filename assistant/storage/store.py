"""The vector store: Chroma, embedded (PersistentClient) or a server (HttpClient), behind a small interface.

Two parts:
- the Chroma collection `<name>`: one record per chunk (text, embedding, article metadata, character span);
- the catalogue (assistant/storage/catalogue.py): one source record per ingested source (file, or object in a
  JSON file), with its file hash and the id of the article it holds; in SQLite beside an embedded Chroma, in the
  collection `<name>__sources` on a Chroma server. Duplicate files point at the same article, whose chunks are
  stored once.
The chunk collection's metadata records the embedding model, its dimension and
the chunker settings, plus the write counter: its revision, "<writes>-<token>", which every write
method of this class moves when it is done (no caller has to remember to), so the caches beside the
store (the BM25 index, the committed articles, the catalogue of dates) know when to read it again. The
token keeps a revision unique across a store dropped and built again, and across two writers of one
Chroma server that counted to the same number. `rows_epoch` is the revision of the last write that changed
a stored chunk in place (same id, new text or metadata): caches keyed by chunk id must go then.

The source record is the commit mark. A writer stores an article's chunks first and its source
record after them, so a source record means the article's chunks are all there; chunks whose
article no source record names are a write that did not finish (a process killed between the
two). Readers never use them (`committed_articles`, cached per revision), and the next ingest
deletes them (`remove_orphans`).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import numpy as np

from assistant.core.errors import StoreError, StoreMismatchError
from assistant.storage.catalogue import SourceRecord, open_catalogue, pages

__all__ = ["ChunkStore", "SourceRecord", "StoredChunk", "pages", "write_count"]

log = logging.getLogger(__name__)

SIGNATURE_KEYS = ("embedding_model", "embedding_dimension", "chunker")
# HNSW search breadth: Chroma's default (100) already gives recall@10 >= 0.95 against exact search at 100k+ chunks
# (benchmarks/README.md); raise it here if a bigger store needs it. Applied to existing collections when they open.
EF_SEARCH = 100
HNSW = {"space": "cosine", "ef_search": EF_SEARCH}


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]


class ChunkStore:
    """Chunks and source records in Chroma, checked against the signature it was built with."""

    def __init__(self, client, name: str, signature: dict[str, Any]) -> None:
        self.client = client
        self.name = name
        self.signature = signature
        self._committed: tuple[str, frozenset[str]] | None = None  # (revision, article ids with a source record)
        try:
            self.chunks = client.get_or_create_collection(
                name,
                metadata={**signature, "revision": _revision(0)},
                configuration={"hnsw": dict(HNSW)},
                embedding_function=None,
            )
            self.catalogue = open_catalogue(client, name, int(signature.get("embedding_dimension") or 0),
                                            configuration={"hnsw": dict(HNSW)})
            self._tune(self.chunks)
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types for an unreachable or broken store
            raise StoreError(f"Cannot open the Chroma collection {name!r}: {exc}") from exc
        self._check_signature()

    @staticmethod
    def _tune(collection) -> None:
        """Bring an existing collection's ef_search to EF_SEARCH (get_or_create keeps the configuration it was made
        with)."""
        try:
            current = ((collection.configuration_json or {}).get("hnsw") or {}).get("ef_search")
            if current is not None and int(current) != EF_SEARCH:
                collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})
        except Exception as exc:  # an older server may not report or accept it; search still works
            log.debug("could not set ef_search on %s: %s", collection.name, exc)

    def _check_signature(self) -> None:
        stored = self.chunks.metadata or {}
        for key in SIGNATURE_KEYS:
            if key in stored and str(stored[key]) != str(self.signature[key]):
                raise StoreMismatchError(
                    f"The store was built with {key} = {stored[key]!r}, but this assistant uses "
                    f"{self.signature[key]!r}. "
                    "Rebuild it with `assistant ingest PATH --rebuild`, or point data_dir (or chroma_url/collection) "
                    "at another store."
                )

    # ---- reading ----------------------------------------------------------------------------------

    @property
    def revision(self) -> str:
        return self.state()[0]

    def state(self) -> tuple[str, str]:
        """(revision, rows_epoch), read fresh from Chroma in one call: the revision moves on every write; the epoch
        only when a write changed chunks in place (same id, new text or metadata), so id-keyed caches must go."""
        self.chunks = self.client.get_collection(self.name, embedding_function=None)
        meta = self.chunks.metadata or {}
        return str(meta.get("revision", "")), str(meta.get("rows_epoch", ""))

    def count(self) -> int:
        return self.chunks.count()

    def source_records(self, file_prefix: str | None = None) -> dict[str, SourceRecord]:
        """Every source record by source (in the order they were written), or those of files under `file_prefix`."""
        return {r.source: r for r in self.catalogue.records() if not file_prefix or r.file.startswith(file_prefix)}

    def source_count(self) -> int:
        """How many source records there are (duplicates included)."""
        return self.catalogue.count()

    def records_of_article(self, article_id: str) -> list[SourceRecord]:
        """The source records that hold article `article_id` (its cited copy and its duplicates), in stored order."""
        return self.catalogue.of_article(article_id)

    def is_empty(self) -> bool:
        """No source record: nothing was ever committed (chunks left by an unfinished write do not count)."""
        return self.catalogue.count() == 0

    def committed_articles(self) -> frozenset[str]:
        """Ids of the articles some source record names: the only ones whose chunks may be read.

        Read once per revision (the revision is read first, so the set is never older than the revision it is
        kept under). Within a revision the set can only be behind the writes, never ahead: an article a running
        write commits shows when that write ends and moves the revision; chunks a write did not finish never show."""
        revision = self.revision
        cached = self._committed
        if cached is None or cached[0] != revision:
            ids = frozenset(self.catalogue.article_ids())
            self._committed = cached = (revision, ids)
        return cached[1]

    def has_article(self, article_id: str) -> bool:
        return bool(self.chunks.get(where={"article_id": article_id}, limit=1, include=[])["ids"])

    def all_chunks(self) -> Iterator[StoredChunk]:
        for batch in self._pages(self.chunks, include=["documents", "metadatas"]):
            for chunk_id, text, meta in zip(batch["ids"], batch["documents"], batch["metadatas"]):
                yield StoredChunk(chunk_id, text, meta)

    def all_ids(self) -> list[str]:
        """Every chunk id: one call (105k ids: ~0.6 s), else page by page."""
        try:
            return list(self.chunks.get(include=[])["ids"])
        except Exception as exc:  # a limit of the backend (SQL variables, response size): fall back to pages
            log.debug("listing all chunk ids at once failed (%s); paging", exc)
            return [i for batch in self._pages(self.chunks, include=[]) for i in batch["ids"]]

    def chunks_by_ids(self, ids: list[str], batch: int = 2000) -> Iterator[StoredChunk]:
        for i in range(0, len(ids), batch):
            got = self.chunks.get(ids=ids[i:i + batch], include=["documents", "metadatas"])
            for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                yield StoredChunk(chunk_id, text, meta)

    def get_chunks(self, ids: list[str]) -> dict[str, StoredChunk]:
        if not ids:
            return {}
        got = self.chunks.get(ids=ids, include=["documents", "metadatas"])
        return {i: StoredChunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])}

    def article_chunks(self, article_ids: list[str]) -> list[StoredChunk]:
        """Every chunk of the given articles, in article order."""
        if not article_ids:
            return []
        where = {"article_id": article_ids[0]} if len(article_ids) == 1 else {"article_id": {"$in": article_ids}}
        got = self.chunks.get(where=where, include=["documents", "metadatas"])
        chunks = [StoredChunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(chunks, key=lambda c: (c.metadata.get("article_id", ""), int(c.metadata.get("start", 0))))

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[StoredChunk, float]]:
        """The k nearest chunks with their cosine similarity (an empty collection gives [])."""
        result = self.chunks.query(
            query_embeddings=[vector.tolist()],
            n_results=k,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (StoredChunk(i, t, m), 1.0 - float(d))
            for i, t, m, d in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
        ]

    def stats(self) -> dict[str, Any]:
        records = self.source_records()
        dates = sorted(r.date for r in records.values() if r.date and not r.duplicate_of)
        unfinished, _ = self.orphan_ids({r.article_id for r in records.values()})
        return {
            "articles": sum(1 for r in records.values() if not r.duplicate_of),
            "sources": len(records),
            "duplicates": sum(1 for r in records.values() if r.duplicate_of),
            "chunks": max(0, self.count() - len(unfinished)),  # of committed articles: the ones questions can reach
            # left by an interrupted ingest; never read; the next ingest removes them
            "unfinished_chunks": len(unfinished),
            "first_date": dates[0] if dates else None,
            "last_date": dates[-1] if dates else None,
            # the signature says "model@backend" for a non-torch backend (assistant/models/embedding.py); shown apart
            "embedding_model": str(self.signature["embedding_model"]).partition("@")[0],
            "embedding_backend": str(self.signature["embedding_model"]).partition("@")[2] or "torch",
            "embedding_dimension": self.signature["embedding_dimension"],
            "chunker": self.signature["chunker"],
        }

    # ---- writing ----------------------------------------------------------------------------------

    def add_chunks(self, ids: list[str], texts: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        """Store chunks. They are not visible until a source record names their article (`put_sources`, after)."""
        step = self._batch_size()
        written_at = int(time.time())  # lets remove_orphans leave alone what another writer is writing right now
        metadatas = [{**meta, "written_at": written_at} for meta in metadatas]
        for i in range(0, len(ids), step):
            # delete, then add: Chroma's upsert merges metadata, so a key that is gone now (a date, a url) would stay.
            # Only ids already there are deleted (new ones are the rule): a read is much cheaper than a delete.
            present = self.chunks.get(ids=ids[i:i + step], include=[])["ids"]
            if present:
                self.chunks.delete(ids=present)
            self.chunks.add(
                ids=ids[i : i + step],
                documents=texts[i : i + step],
                embeddings=vectors[i : i + step],
                metadatas=metadatas[i : i + step],
            )
            self._written(rows_changed=bool(present))

    def put_sources(self, records: list[SourceRecord]) -> None:
        """Write source records (replacing any of the same source): the commit mark of their articles' chunks, so
        written after them (`add_chunks`)."""
        step = self._batch_size()
        for i in range(0, len(records), step):
            self.catalogue.put(records[i:i + step])  # replaces a record of the same source whole
            self._written()

    def delete_sources(self, sources: Iterable[str]) -> None:
        sources = list(sources)
        step = self._batch_size()
        for i in range(0, len(sources), step):
            self.catalogue.delete(sources[i:i + step])
            self._written()

    def delete_article(self, article_id: str) -> None:
        self.chunks.delete(where={"article_id": article_id})
        self._written()

    def repoint_article(self, article_id: str, record: SourceRecord) -> None:
        """Chunks of an article whose cited file was removed now cite a remaining copy."""
        got = self.chunks.get(where={"article_id": article_id}, include=["metadatas"])
        metas = [{**m, "source": record.source, "title": record.title} for m in got["metadatas"]]
        if got["ids"]:
            self.chunks.update(ids=got["ids"], metadatas=metas)
            self._written(rows_changed=True)

    def orphan_ids(
        self, committed: set[str] | frozenset[str] | None = None, min_age_seconds: float = 0.0
    ) -> tuple[list[str], set[str]]:
        """(chunk ids, article ids) of the chunks whose article no source record names: a write that stopped between
        its chunks and its records.

        `committed`: the article ids of the source records, if the caller has just read them. Chunks written less
        than `min_age_seconds` ago are left out: with a Chroma server another process may be between its two writes.
        Costs one listing of the chunk ids (an id is "<article id>:<index>"), plus a read of the few suspects'
        metadata."""
        if committed is None:
            committed = self.catalogue.article_ids()
        suspects = [i for i in self.all_ids() if i.rpartition(":")[0] not in committed]
        orphans: list[str] = []
        articles: set[str] = set()
        now = time.time()
        step = self._batch_size()
        for start in range(0, len(suspects), step):
            got = self.chunks.get(ids=suspects[start:start + step], include=["metadatas"])
            for chunk_id, meta in zip(got["ids"], got["metadatas"]):
                meta = meta or {}
                article_id = str(meta.get("article_id", ""))
                if article_id in committed:  # an id of another shape, whose article is committed
                    continue
                if min_age_seconds and now - float(meta.get("written_at", 0) or 0) < min_age_seconds:
                    continue
                orphans.append(chunk_id)
                articles.add(article_id)
        return orphans, articles

    def remove_orphans(
        self, committed: set[str] | frozenset[str] | None = None, min_age_seconds: float = 0.0
    ) -> tuple[int, int]:
        """Delete the chunks `orphan_ids` finds; returns (chunks, articles) deleted."""
        orphans, articles = self.orphan_ids(committed, min_age_seconds)
        step = self._batch_size()
        for start in range(0, len(orphans), step):
            self.chunks.delete(ids=orphans[start:start + step])
        if orphans:
            # the same ids may come back with other metadata (another file holding the article): BM25 rows
            # must be re-read
            self._written(rows_changed=True)
        return len(orphans), len(articles)

    def touch(self) -> None:
        """Move the write counter without writing (every write method moves it already): for a caller that wrote
        to the Chroma collections some other way."""
        self._written()

    def _written(self, rows_changed: bool = False) -> None:
        """Move the write counter, after a write: one more write, a new revision (and, when the write changed stored
        chunks in place, the rows epoch with it), so every reader's caches know to read the store again."""
        # read fresh: another process may have moved it
        self.chunks = self.client.get_collection(self.name, embedding_function=None)
        meta = {k: v for k, v in (self.chunks.metadata or {}).items() if not k.startswith("hnsw:")}
        meta.update(self.signature)
        revision = _revision(write_count(str(meta.get("revision", ""))) + 1)
        meta["revision"] = revision
        if rows_changed:
            meta["rows_epoch"] = revision
        self.chunks.modify(metadata=meta)

    @staticmethod
    def drop_collections(client, name: str) -> None:
        """Delete the source records, then the chunks, of collection `name` (for a rebuild, or a delete): stopped in
        between, it leaves chunks no record names, which nothing reads and the next ingest removes."""
        try:
            open_catalogue(client, name, create=False).drop()
        except Exception as exc:  # no catalogue: nothing to drop
            log.debug("no source records of %s to drop: %s", name, exc)
        try:
            client.delete_collection(name)
        except Exception:  # absent already
            log.debug("collection %s was not there to drop", name)

    # ---- helpers ----------------------------------------------------------------------------------

    def _batch_size(self) -> int:
        try:
            return max(1, min(5000, int(self.client.get_max_batch_size())))
        except Exception:
            return 1000

    def _pages(self, collection, include: list[str], page: int = 5000) -> Iterator[dict]:
        return pages(collection, include, page)


def write_count(revision: str) -> int:
    """The number of writes a revision counts ("12-4f0c..." -> 12); 0 for one written before the count was kept."""
    head, _, _ = revision.partition("-")
    return int(head) if head.isdigit() else 0


def _revision(writes: int) -> str:
    return f"{writes}-{uuid.uuid4().hex[:16]}"
