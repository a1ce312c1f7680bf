"""Ingest a folder (or file) into the store: discover, load, de-duplicate, chunk, embed, upsert, sync.

Idempotent: a file whose bytes are unchanged is skipped without being read
further; an article is stored once however many files hold it; chunk ids are
derived from the article's content hash. New chunks are written before old ones
are removed, and a file that fails to load leaves what was stored for it alone.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from assistant.errors import InputError
from assistant.store import ChunkStore, SourceRecord
from ingest.articles import Article
from ingest.chunking import Chunk, Chunker
from ingest.decoding import LoadError
from ingest.discover import discover
from ingest.embedding import Embedder
from ingest.loaders import load_file
from ingest.summary import IngestSummary

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
FLUSH_CHUNKS = 512  # chunks embedded per wave: big batches keep the model busy
HOLDER_SCAN_FACTOR = 20  # read all source records once when the store holds at most this many per file being ingested


@dataclass
class _Pending:
    article: Article
    file: str
    file_hash: str
    chunks: list[Chunk]


class Ingestor:
    """Writes articles into a ChunkStore with one embedder and chunker."""

    def __init__(self, store: ChunkStore, embedder: Embedder, chunker: Chunker, max_file_bytes: int, exclude: tuple[str, ...] = ()):
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.max_file_bytes = max_file_bytes
        self.exclude = exclude

    def ingest(self, path: str | Path, sync: bool = False, progress: bool | Progress = False) -> IngestSummary:
        started = time.perf_counter()
        root = Path(path).expanduser()
        if not root.exists():
            raise InputError(f"{path} does not exist; give a folder of articles or an article file.")
        root = root.resolve()
        files, unsupported = discover(root, self.exclude)
        base = root.parent if root.is_file() else root
        prefix = f"{base.name}/"
        summary = IngestSummary(skipped=[prefix + str(p.relative_to(base)) for p in unsupported])
        if not files and root.is_dir() and not sync:
            raise InputError(f"No article files (.txt, .md, .html, .json, .jsonl) under {root}.")
        existing = self.store.source_records(file_prefix=prefix)
        by_file: dict[str, list[SourceRecord]] = {}
        for record in existing.values():
            by_file.setdefault(record.file, []).append(record)

        run = _Run(self, summary, expected_files=len(files))
        bar = tqdm(total=len(files), unit="file", desc="ingest", disable=progress is not True, leave=False)
        seen_files = set()
        for number, file_path in enumerate(files, start=1):
            file_source = prefix + file_path.relative_to(base).as_posix()
            seen_files.add(file_source)
            run.visit(file_path, file_source, by_file.get(file_source, []))
            bar.update(1)
            if callable(progress):
                progress(number, len(files), file_source)
        bar.close()
        run.flush()
        if sync and root.is_dir():
            gone = [r for f, records in by_file.items() if f not in seen_files for r in records]
            run.remove(gone)
            summary.deleted.extend(sorted({r.file for r in gone}))
        if summary.changed_anything:
            self.store.touch()
        summary.seconds = time.perf_counter() - started
        log.info("ingest of %s: %s", root, summary.describe().splitlines()[0])
        return summary


class _Run:
    """State of one ingest run: pending articles waiting to be embedded, ids seen so far."""

    def __init__(self, ingestor: Ingestor, summary: IngestSummary, expected_files: int = 0) -> None:
        self.ingestor = ingestor
        self.expected_files = expected_files
        self._holders: dict[str, list[tuple[str, dict]]] | None = None  # article id -> stored (source, metadata), read once
        self.store = ingestor.store
        self.summary = summary
        self.pending: list[_Pending] = []
        self.pending_chunks = 0
        self.new_ids: dict[str, str] = {}  # article id -> source that carries it, for articles written this run
        self.aliases: list[tuple[Article, str, str, str]] = []  # (article, file, file hash, canonical source)
        self.replaced: list[tuple[SourceRecord, bool]] = []  # (old record of a changed file, whether its source still exists)

    def visit(self, path: Path, file_source: str, old: list[SourceRecord]) -> None:
        try:
            data = path.read_bytes() if path.stat().st_size <= self.ingestor.max_file_bytes else None
            if data is None:
                raise LoadError(f"file is larger than max_file_bytes ({self.ingestor.max_file_bytes} bytes)")
            file_hash = hashlib.sha256(data).hexdigest()
            if old and all(r.file_hash == file_hash for r in old):
                self.summary.unchanged.append(file_source)
                return
            articles = load_file(path, file_source)
        except (LoadError, OSError) as exc:
            reason = str(exc) if isinstance(exc, LoadError) else f"cannot read: {exc.strerror or exc}"
            self.summary.failed.append((file_source, reason))
            log.warning("skipped %s: %s", file_source, reason)
            return
        (self.summary.updated if old else self.summary.added).append(file_source)
        old_by_source = {r.source: r for r in old}
        for article in articles:
            self._take(article, file_source, file_hash, old_by_source.get(article.source))
        new_ids = {a.source: a.article_id for a in articles}
        self.replaced.extend((r, r.source in new_ids) for r in old if new_ids.get(r.source) != r.article_id)

    def _take(self, article: Article, file_source: str, file_hash: str, old: SourceRecord | None) -> None:
        article_id = article.article_id
        if article.date is None and old is None:
            self.summary.undated.append(article.source)
        if old is not None and old.article_id == article_id:
            self.aliases.append((article, file_source, file_hash, old.duplicate_of or ""))  # same text, new bytes: refresh the record
            return
        canonical = self.new_ids.get(article_id) or self._stored_canonical(article_id)
        if canonical and canonical != article.source:
            self.aliases.append((article, file_source, file_hash, canonical))
            self.summary.duplicates.append((article.source, canonical))
            return
        chunks = self.ingestor.chunker.chunk(article.text)
        self.new_ids[article_id] = article.source
        self.pending.append(_Pending(article, file_source, file_hash, chunks))
        self.pending_chunks += len(chunks)
        if self.pending_chunks >= FLUSH_CHUNKS:
            self.flush_chunks()

    def _stored_canonical(self, article_id: str) -> str | None:
        holders = self._stored_holders(article_id)
        for source, meta in holders:
            if not meta.get("duplicate_of"):
                return source
        return holders[0][0] if holders else None

    def _stored_holders(self, article_id: str) -> list[tuple[str, dict]]:
        """Stored sources of an article. A big ingest reads the source records once (one scan instead of a
        query per article); a small ingest into a big store asks per article."""
        if self._holders is None and self.store.sources.count() <= HOLDER_SCAN_FACTOR * max(1, self.expected_files):
            self._holders = {}
            for record_id, meta in ((i, m) for batch in self.store._pages(self.store.sources, include=["metadatas"])
                                    for i, m in zip(batch["ids"], batch["metadatas"])):
                self._holders.setdefault(str(meta.get("article_id", "")), []).append((record_id, meta))
        if self._holders is not None:
            return self._holders.get(article_id, [])
        got = self.store.sources.get(where={"article_id": article_id}, include=["metadatas"])
        return list(zip(got["ids"], got["metadatas"]))

    def flush_chunks(self) -> None:
        if not self.pending:
            return
        texts = [chunk.text for item in self.pending for chunk in item.chunks]
        vectors = self.ingestor.embedder.embed(texts)
        ids, metas, records, article_vectors = [], [], [], []
        offset = 0
        for item in self.pending:
            count = len(item.chunks)
            ids += [f"{item.article.article_id}:{c.index:04d}" for c in item.chunks]
            metas += [_chunk_meta(item, c) for c in item.chunks]
            records.append(_record(item.article, item.file, item.file_hash, None))
            article_vectors.append(_mean(vectors[offset:offset + count]))
            offset += count
        self.store.add_chunks(ids, texts, vectors, metas)
        self.store.put_sources(records, np.vstack(article_vectors))
        self.summary.chunks_added += len(ids)
        self.pending, self.pending_chunks = [], 0

    def flush(self) -> None:
        self.flush_chunks()
        if self.aliases:
            records, vectors = [], []
            for article, file_source, file_hash, canonical in self.aliases:
                records.append(_record(article, file_source, file_hash, canonical or None))
                vectors.append(self._vector_of(canonical or article.source))
            self.store.put_sources(records, np.vstack(vectors))
        # Only now, with the new versions stored, let go of what they replace.
        self.store.delete_sources(r.source for r, kept in self.replaced if not kept)
        self._release([r for r, _ in self.replaced])

    def _vector_of(self, source: str) -> np.ndarray:
        got = self.store.sources.get(ids=[source], include=["embeddings"])
        return np.asarray(got["embeddings"][0], dtype=np.float32)

    def remove(self, records: list[SourceRecord]) -> None:
        """Delete source records, then any article no source refers to; re-point articles whose cited copy went."""
        self.store.delete_sources(r.source for r in records)
        self._release(records)

    def _release(self, records: list[SourceRecord]) -> None:
        for article_id in {r.article_id for r in records}:
            holders = self.store.sources.get(where={"article_id": article_id}, include=["metadatas"])
            remaining = [(s, m) for s, m in zip(holders["ids"], holders["metadatas"])]
            if not remaining:
                self.store.delete_article(article_id)
                continue
            if any(not m.get("duplicate_of") for _, m in remaining):
                continue
            self._promote(article_id, remaining)

    def _promote(self, article_id: str, remaining: list[tuple[str, dict]]) -> None:
        """The stored copy was removed: the first remaining duplicate becomes the one cited."""
        from assistant.store import _source_record

        new_canonical = _source_record(*remaining[0])
        promoted = [SourceRecord(**{**r.__dict__, "duplicate_of": None if r.source == new_canonical.source else new_canonical.source})
                    for r in (_source_record(s, m) for s, m in remaining)]
        vectors = np.vstack([self._vector_of(r.source) for r in promoted])
        self.store.put_sources(promoted, vectors)
        self.store.repoint_article(article_id, new_canonical)


def _mean(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    norm = np.linalg.norm(mean)
    return mean / norm if norm else mean


def _record(article: Article, file_source: str, file_hash: str, duplicate_of: str | None) -> SourceRecord:
    return SourceRecord(
        source=article.source,
        file=file_source,
        file_hash=file_hash,
        article_id=article.article_id,
        title=article.title,
        date=article.date.isoformat() if article.date else None,
        url=article.url,
        duplicate_of=duplicate_of,
    )


def _chunk_meta(item: _Pending, chunk: Chunk) -> dict:
    article = item.article
    meta = {
        "article_id": article.article_id,
        "source": article.source,
        "file": item.file,
        "title": article.title,
        "start": chunk.start,
        "end": chunk.end,
        "index": chunk.index,
    }
    if article.date:
        meta["date"] = article.date.isoformat()
        meta["date_ord"] = article.date.year * 10000 + article.date.month * 100 + article.date.day
    if article.url:
        meta["url"] = article.url
    return meta
