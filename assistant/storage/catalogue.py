"""The catalogue: one source record per ingested file or object (file, hash, article id, title, date, url, copy of).

A record is the commit mark of its article's chunks (assistant/storage/store.py). Where it lives:

- Embedded store: a SQLite file beside the Chroma directory (`<data_dir>/catalogue.sqlite3`, stdlib sqlite3 in WAL
  mode), one table `sources` keyed by (collection, source) and a table `collections` naming the collections it holds.
  The store's file lock (assistant/storage/chroma_client.py) keeps other processes out, as for Chroma.
- Chroma server: a Chroma collection `<name>__sources` on the server, as before. The chunks are shared by every
  machine that reaches the server; a SQLite file on one of them would not be, so the records stay with the chunks.
  Chroma keeps nothing without a vector: each record carries a fixed unit vector drawn from its source's name,
  which nothing searches.

An embedded store written before the catalogue moved keeps its records in `<name>__sources`: they are copied into
SQLite the first time the collection is opened (one transaction, in the order Chroma kept them), then that
collection is dropped. A copy stopped half-way changes nothing (the transaction is undone); a drop stopped half-way
is finished at the next open.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from assistant.core.naming import SOURCES_SUFFIX

log = logging.getLogger(__name__)

CATALOGUE_FILE = "catalogue.sqlite3"
FIELDS = ("source", "file", "file_hash", "article_id", "title", "date", "url", "duplicate_of")


@dataclass(frozen=True)
class SourceRecord:
    source: str
    file: str
    file_hash: str
    article_id: str
    title: str
    date: str | None
    url: str | None
    duplicate_of: str | None


def catalogue_path(client) -> str | None:
    """The SQLite catalogue of an embedded Chroma client (beside its directory); None for a Chroma server."""
    try:
        settings = client.get_settings()
        if not settings.is_persistent or not settings.persist_directory:
            return None
        return os.path.join(os.path.dirname(os.path.realpath(settings.persist_directory)), CATALOGUE_FILE)
    except Exception:  # a client that does not say: treat it as a server
        return None


def open_catalogue(client, name: str, dimension: int = 0, create: bool = True,
                   configuration: dict | None = None) -> "ChromaCatalogue | SqliteCatalogue":
    """The catalogue of collection `name`: SQLite for an embedded client (an old `__sources` collection moved into
    it first), else the Chroma collection `name__sources` (made when `create`, with `configuration`)."""
    path = catalogue_path(client)
    if path is None:
        return ChromaCatalogue(client, name, dimension, create, configuration)
    catalogue = SqliteCatalogue(path, name)
    catalogue.take_over(client, create)
    return catalogue


# ---- SQLite (embedded) ------------------------------------------------------------------------------------------


_connections: dict[str, tuple[sqlite3.Connection, threading.Lock]] = {}  # path -> one connection per process
_connections_guard = threading.Lock()
_take_over_guard = threading.Lock()


def _connect(path: str) -> tuple[sqlite3.Connection, threading.Lock]:
    with _connections_guard:
        if path not in _connections:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS collections (name TEXT PRIMARY KEY);
                CREATE TABLE IF NOT EXISTS sources (
                    collection TEXT NOT NULL, source TEXT NOT NULL, file TEXT NOT NULL, file_hash TEXT NOT NULL,
                    article_id TEXT NOT NULL, title TEXT NOT NULL, date TEXT, url TEXT, duplicate_of TEXT,
                    PRIMARY KEY (collection, source));
                CREATE INDEX IF NOT EXISTS sources_article ON sources (collection, article_id);
                """
            )
            _connections[path] = (db, threading.Lock())
        return _connections[path]


def close_catalogues(path: str | None) -> None:
    """Close this process's connection to the catalogue at `path` (when the store is closed)."""
    if path is None:
        return
    with _connections_guard:
        entry = _connections.pop(path, None)
    if entry is not None:
        entry[0].close()


class SqliteCatalogue:
    """The source records of one collection in the SQLite catalogue."""

    def __init__(self, path: str, name: str) -> None:
        self.path = path
        self.name = name
        self._db, self._lock = _connect(path)

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def records(self) -> Iterator[SourceRecord]:
        rows = self._rows(f"SELECT {', '.join(FIELDS)} FROM sources WHERE collection = ? ORDER BY rowid", (self.name,))
        return (SourceRecord(*row) for row in rows)

    def count(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM sources WHERE collection = ?", (self.name,))[0][0])

    def of_article(self, article_id: str) -> list[SourceRecord]:
        rows = self._rows(f"SELECT {', '.join(FIELDS)} FROM sources WHERE collection = ? AND article_id = ? "
                          "ORDER BY rowid", (self.name, article_id))
        return [SourceRecord(*row) for row in rows]

    def article_ids(self) -> set[str]:
        return {row[0] for row in self._rows("SELECT DISTINCT article_id FROM sources WHERE collection = ?",
                                             (self.name,))}

    def put(self, records: list[SourceRecord]) -> None:
        self._write(lambda db: _insert(db, self.name, records))

    def delete(self, sources: list[str]) -> None:
        self._write(lambda db: db.executemany("DELETE FROM sources WHERE collection = ? AND source = ?",
                                              [(self.name, s) for s in sources]))

    def _write(self, change) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                change(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def take_over(self, client, create: bool) -> None:
        """Make the collection known here, first copying the records of an old `name__sources` collection."""
        with _take_over_guard:  # two stores of one process opening the same old collection: one copies it
            self._take_over(client, create)

    def _take_over(self, client, create: bool) -> None:
        known = bool(self._rows("SELECT 1 FROM collections WHERE name = ?", (self.name,)))
        old = _chroma_collection(client, self.name + SOURCES_SUFFIX)
        if not known and old is not None:
            records = [_from_meta(source, meta) for batch in pages(old, include=["metadatas"])
                       for source, meta in zip(batch["ids"], batch["metadatas"])]

            def copy(db: sqlite3.Connection) -> None:
                db.execute("DELETE FROM sources WHERE collection = ?", (self.name,))
                _insert(db, self.name, records)
                db.execute("INSERT OR IGNORE INTO collections (name) VALUES (?)", (self.name,))

            self._write(copy)
            log.info("moved %d source record(s) of collection %s from Chroma into %s", len(records), self.name,
                     self.path)
            known = True
        elif not known and create:
            self._write(lambda db: db.execute("INSERT OR IGNORE INTO collections (name) VALUES (?)", (self.name,)))
            known = True
        if known and old is not None:  # copied now, or earlier by a run stopped before the drop
            try:
                client.delete_collection(self.name + SOURCES_SUFFIX)
            except Exception as exc:  # tried again at the next open
                log.warning("could not drop the old collection %s%s: %s", self.name, SOURCES_SUFFIX, exc)

    def drop(self) -> None:
        def forget(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM sources WHERE collection = ?", (self.name,))
            db.execute("DELETE FROM collections WHERE name = ?", (self.name,))

        self._write(forget)

    def rename(self, new: str) -> None:
        def move(db: sqlite3.Connection) -> None:
            db.execute("UPDATE sources SET collection = ? WHERE collection = ?", (new, self.name))
            db.execute("UPDATE collections SET name = ? WHERE name = ?", (new, self.name))

        self._write(move)
        self.name = new


def sqlite_collections(client) -> set[str]:
    """The collections the SQLite catalogue of an embedded client holds (empty for a server)."""
    path = catalogue_path(client)
    if path is None or not os.path.exists(path):
        return set()
    db, lock = _connect(path)
    with lock:
        return {row[0] for row in db.execute("SELECT name FROM collections").fetchall()}


def _insert(db: sqlite3.Connection, name: str, records: list[SourceRecord]) -> None:
    # replace, not merge: a field gone now (a date, a url) must not stay; a replaced record goes to the end, as in
    # Chroma, so "the first remaining holder" of an article is the same one
    db.executemany("DELETE FROM sources WHERE collection = ? AND source = ?", [(name, r.source) for r in records])
    db.executemany(f"INSERT INTO sources (collection, {', '.join(FIELDS)}) VALUES (?, {', '.join('?' * len(FIELDS))})",
                   [(name, *(_field(r, f) for f in FIELDS)) for r in records])


def _field(record: SourceRecord, name: str) -> Any:
    value = getattr(record, name)
    return value or None if name in ("date", "url", "duplicate_of") else value


# ---- Chroma (server) --------------------------------------------------------------------------------------------


class ChromaCatalogue:
    """The source records of one collection in the Chroma collection `name__sources`."""

    path = None

    def __init__(self, client, name: str, dimension: int, create: bool = True,
                 configuration: dict | None = None) -> None:
        self.client = client
        self.name = name
        self.dimension = dimension
        label = name + SOURCES_SUFFIX
        self.collection = (client.get_or_create_collection(label, configuration=configuration,
                                                           embedding_function=None)
                           if create else client.get_collection(label, embedding_function=None))

    def records(self) -> Iterator[SourceRecord]:
        for batch in pages(self.collection, include=["metadatas"]):
            for source, meta in zip(batch["ids"], batch["metadatas"]):
                yield _from_meta(source, meta)

    def count(self) -> int:
        return self.collection.count()

    def of_article(self, article_id: str) -> list[SourceRecord]:
        got = self.collection.get(where={"article_id": article_id}, include=["metadatas"])
        return [_from_meta(source, meta) for source, meta in zip(got["ids"], got["metadatas"])]

    def article_ids(self) -> set[str]:
        return {r.article_id for r in self.records()}

    def put(self, records: list[SourceRecord], step: int = 1000) -> None:
        for i in range(0, len(records), step):
            part = records[i:i + step]
            ids = [r.source for r in part]
            self.collection.delete(ids=ids)  # replace, not merge: Chroma's upsert keeps keys that are gone now
            self.collection.add(ids=ids, embeddings=_placeholder_vectors(ids, self.dimension),
                                metadatas=[_to_meta(r) for r in part])

    def delete(self, sources: list[str]) -> None:
        self.collection.delete(ids=sources)

    def drop(self) -> None:
        try:
            self.client.delete_collection(self.name + SOURCES_SUFFIX)
        except Exception:  # absent already
            log.debug("collection %s%s was not there to drop", self.name, SOURCES_SUFFIX)

    def rename(self, new: str) -> None:
        self.collection.modify(name=new + SOURCES_SUFFIX)
        self.name = new


def _placeholder_vectors(sources: list[str], dimension: int) -> np.ndarray:
    """A fixed unit vector per source, drawn from its name (Chroma stores nothing without a vector; none is
    searched)."""
    vectors = np.empty((len(sources), dimension), dtype=np.float32)
    for row, source in enumerate(sources):
        seed = int.from_bytes(hashlib.sha256(source.encode("utf-8")).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(dimension)
        vectors[row] = vector / np.linalg.norm(vector)
    return vectors


# ---- shared -----------------------------------------------------------------------------------------------------


def pages(collection, include: list[str], page: int = 5000) -> Iterator[dict]:
    """Every record of a Chroma collection, `page` at a time (one get of 100k rows would hold them all at once)."""
    offset = 0
    while True:
        batch = collection.get(include=include, limit=page, offset=offset)
        if not batch["ids"]:
            return
        yield batch
        offset += len(batch["ids"])


def _chroma_collection(client, label: str):
    try:
        return client.get_collection(label, embedding_function=None)
    except Exception:  # not there
        return None


def _to_meta(record: SourceRecord) -> dict[str, Any]:
    meta = {"file": record.file, "file_hash": record.file_hash, "article_id": record.article_id, "title": record.title}
    for key in ("date", "url", "duplicate_of"):
        value = getattr(record, key)
        if value:
            meta[key] = value
    return meta


def _from_meta(source: str, meta: dict[str, Any] | None) -> SourceRecord:
    meta = meta or {}
    return SourceRecord(
        source=source,
        file=str(meta.get("file", source)),
        file_hash=str(meta.get("file_hash", "")),
        article_id=str(meta.get("article_id", "")),
        title=str(meta.get("title", "")),
        date=meta.get("date"),
        url=meta.get("url"),
        duplicate_of=meta.get("duplicate_of"),
    )
