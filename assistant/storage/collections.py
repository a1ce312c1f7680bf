"""Named collections in one store: list them with what they hold, create, rename and delete them.

A collection is the Chroma collection `NAME` (the chunks, whose metadata records the embedding model and chunker)
and its source records, one per ingested file or object, in the catalogue (assistant/storage/catalogue.py: SQLite
beside an embedded Chroma, the Chroma collection `NAME__sources` on a server). Every function here keeps the two in
step; a rename that fails half-way is undone. What lives beside Chroma under a collection's name
(the BM25 index, the history's record of which collection a question was asked of) is the caller's to move:
`Assistant.rename_collection` does both.

    for info in list_collections(client): print(info.name, info.articles, info.chunks)
    create_collection(client, "sport", signature); rename_collection(client, "sport", "sports")
    delete_collection(client, "sports")
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from assistant.core.errors import InputError
from assistant.core.naming import SOURCES_SUFFIX, check_name, name_problem
from assistant.storage.catalogue import open_catalogue, sqlite_collections
from assistant.storage.store import ChunkStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectionInfo:
    """What one collection holds: articles (duplicates stored once not counted), chunks, dates, embedding model."""

    name: str
    articles: int
    chunks: int
    first_date: str | None
    last_date: str | None
    embedding_model: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def label(self) -> str:
        """"news · 12 articles, 80 chunks" for a picker."""
        return (f"{self.name} · {self.articles} article{'s' if self.articles != 1 else ''}, "
                f"{self.chunks} chunk{'s' if self.chunks != 1 else ''}")


def collection_names(client) -> list[str]:
    """The names of the assistant's collections in this Chroma (those with their source records beside them: in
    the catalogue, or in a `NAME__sources` collection), sorted."""
    names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    catalogued = sqlite_collections(client)
    return sorted(n for n in names
                  if not n.endswith(SOURCES_SUFFIX) and (n in catalogued or n + SOURCES_SUFFIX in names))


def exists(client, name: str) -> bool:
    return name in collection_names(client)


def collection_info(client, name: str) -> CollectionInfo:
    """Articles, chunks, date range and embedding model of collection `name`, read from what it stores."""
    chunks, catalogue = _pair(client, name)
    articles, dates = 0, []
    for record in catalogue.records():
        if record.duplicate_of:
            continue
        articles += 1
        if record.date:
            dates.append(str(record.date))
    model = str((chunks.metadata or {}).get("embedding_model", "")).partition("@")[0] or "(none yet)"
    return CollectionInfo(name, articles, chunks.count(), min(dates, default=None), max(dates, default=None), model)


def list_collections(client) -> list[CollectionInfo]:
    return [collection_info(client, name) for name in collection_names(client)]


def create_collection(client, name: str, signature: dict[str, Any]) -> CollectionInfo:
    """A new, empty collection recording `signature` (the model and chunker it will be built with)."""
    check_name(name)
    if exists(client, name):
        raise InputError(f"A collection named {name!r} exists already; pick another name.")
    ChunkStore(client, name, signature)
    log.info("created collection %s", name)
    return collection_info(client, name)


def rename_collection(client, old: str, new: str) -> None:
    """Rename the chunk collection and the source records of `old` to `new`; nothing is copied, nothing lost."""
    check_name(new)
    chunks, catalogue = _pair(client, old)
    if old == new:
        return
    if client_has(client, new) or client_has(client, new + SOURCES_SUFFIX) or new in sqlite_collections(client):
        raise InputError(f"A collection named {new!r} exists already; pick another name, or delete that one first.")
    chunks.modify(name=new)
    try:
        catalogue.rename(new)
    except Exception:
        chunks.modify(name=old)  # undo: the pair stays together under the old name
        raise
    log.info("renamed collection %s to %s", old, new)


def delete_collection(client, name: str) -> None:
    """Delete collection `name` (its chunks and its source records)."""
    _pair(client, name)
    ChunkStore.drop_collections(client, name)
    log.info("deleted collection %s", name)


def client_has(client, name: str) -> bool:
    try:
        client.get_collection(name, embedding_function=None)
        return True
    except Exception:
        return False


def _pair(client, name: str):
    """The chunk collection and the catalogue of `name`, or InputError naming the collections there are."""
    problem = name_problem(name)
    if problem:
        raise InputError(problem)
    try:
        if name not in collection_names(client):
            raise LookupError(name)
        return client.get_collection(name, embedding_function=None), open_catalogue(client, name, create=False)
    except Exception:
        there = collection_names(client)
        listed = ", ".join(there) if there else "none yet"
        raise InputError(f"There is no collection named {name!r} (collections: {listed}). "
                         "See them with `assistant collections`.") from None

