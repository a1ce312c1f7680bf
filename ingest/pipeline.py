"""Ingest a folder (or file) into the store: discover, load, de-duplicate, chunk, embed, upsert, sync.

Idempotent: a file whose bytes are unchanged is skipped without being read
further; an article is stored once however many files hold it; chunk ids are
derived from the article's content hash. New chunks are written before old ones
are removed, and a file that fails to load leaves what was stored for it alone.

A file is all or nothing: its articles are prepared (loaded, de-duplicated, chunked and, for a big file,
embedded) apart from the run, and join the run's pending writes only when the whole file is done. Each file
has a time budget (`file_time_budget_seconds`), looked at between those stages and between slices of its
embedding; a file over it is reported as failed and the run goes on.

An article is whole or invisible: its chunks are written first and its source record, the commit mark, after
them (assistant/storage/store.py). A run that is killed in between leaves chunks no source record names; readers ignore
them, and the next run deletes them before it writes (reported as `orphans_removed`, logged at WARNING).
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import logging
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, cast

import numpy as np
from tqdm import tqdm

from assistant.core.errors import InputError
from assistant.core.settings import Settings
from assistant.models.embedding import Embedder
from assistant.storage.store import ChunkStore, SourceRecord
from ingest.articles import Article
from ingest.chunking import Chunk, Chunker
from ingest.decoding import LoadError
from ingest.discover import Discovery, discover
from ingest.loaders import load_bytes
from ingest.summary import IngestSummary

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
FLUSH_CHUNKS = 512  # chunks embedded per wave: big batches keep the model busy
HOLDER_SCAN_FACTOR = 20  # read all source records once when the store holds at most this many per file being ingested
# a big file's chunks are embedded this many at a time (two ONNX batches), with a look at its time budget after each
EMBED_SLICE = 16
DEFAULT_FILE_TIME_BUDGET = cast(
    float, next(f.default for f in dataclasses.fields(Settings) if f.name == "file_time_budget_seconds")
)
# With a Chroma server another process may be between writing an article's chunks and its source record: chunks
# without a record are only deleted once they are this old. The embedded store is one process's alone: no wait there.
SERVER_ORPHAN_GRACE_SECONDS = 600.0


class OverBudget(LoadError):
    """A file took longer than its time budget; it is skipped and reported."""


class _Budget:
    """The time one file may take; `check` raises OverBudget once it is spent (0 seconds: no limit)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.perf_counter()

    def check(self, stage: str) -> None:
        if self.seconds and time.perf_counter() - self.started > self.seconds:
            raise OverBudget(f"took longer than the per-file time budget ({self.seconds:g} s; stopped while {stage}); "
                             "nothing of it was stored. Raise file_time_budget_seconds (0 = no limit) to ingest it")


@dataclass
class _Pending:
    article: Article
    file: str
    file_hash: str
    chunks: list[Chunk]
    vectors: np.ndarray | None = None  # embedded already (a big file, under its time budget), else at the next flush


@dataclass
class _FileWork:
    """What one file adds to the run, kept apart until the whole file is done."""

    file_source: str
    file_hash: str
    old: list[SourceRecord]
    pending: list[_Pending] = field(default_factory=list)
    aliases: list[tuple[Article, str, str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    undated: list[str] = field(default_factory=list)
    new_ids: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.old_by_source = {r.source: r for r in self.old}

    @property
    def chunk_count(self) -> int:
        return sum(len(item.chunks) for item in self.pending)


class Ingestor:
    """Writes articles into a ChunkStore with one embedder and chunker."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        chunker: Chunker,
        max_file_bytes: int,
        exclude: tuple[str, ...] = (),
        *,
        follow_symlinks: bool = False,
        file_time_budget_seconds: float = DEFAULT_FILE_TIME_BUDGET,
        orphan_grace_seconds: float = 0.0,
    ):
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.max_file_bytes = max_file_bytes
        self.exclude = exclude
        self.follow_symlinks = follow_symlinks
        self.file_time_budget_seconds = file_time_budget_seconds
        self.orphan_grace_seconds = orphan_grace_seconds

    @classmethod
    def from_settings(cls, store: ChunkStore, embedder: Embedder, chunker: Chunker, settings: Settings) -> "Ingestor":
        """An Ingestor with every ingest setting taken from `settings`."""
        return cls(store, embedder, chunker, settings.max_file_bytes, settings.exclude,
                   follow_symlinks=settings.follow_symlinks, file_time_budget_seconds=settings.file_time_budget_seconds,
                   orphan_grace_seconds=SERVER_ORPHAN_GRACE_SECONDS if settings.chroma_url else 0.0)

    def ingest(self, path: str | os.PathLike, sync: bool = False, progress: bool | Progress = False) -> IngestSummary:
        started = time.perf_counter()
        root = Path(path).expanduser()
        if not root.exists():
            raise InputError(f"{path} does not exist; give a folder of articles or an article file.")
        root = root.resolve()
        found = discover(root, self.exclude, self.follow_symlinks)
        base = root.parent if root.is_file() else root
        prefix = f"{base.name}/"
        summary = _summary(found, base, prefix)
        if not found.files and root.is_dir() and not sync:
            raise InputError(f"No article files (.txt, .md, .html, .json, .jsonl) under {root}{_why_none(summary)}.")
        records = self.store.source_records()
        self._remove_orphans(records, summary)
        by_file: dict[str, list[SourceRecord]] = {}
        for record in records.values():
            if record.file.startswith(prefix):
                by_file.setdefault(record.file, []).append(record)

        run = _Run(self, summary, expected_files=len(found.files))
        bar = tqdm(total=len(found.files), unit="file", desc="ingest", disable=progress is not True, leave=False)
        seen_files = set()
        # every store write moves its revision (readers' caches follow it), also when the run stops on an error
        for number, file_path in enumerate(found.files, start=1):
            file_source = prefix + file_path.relative_to(base).as_posix()
            seen_files.add(file_source)
            run.visit(file_path, file_source, by_file.get(file_source, []), is_link=file_path in found.links)
            bar.update(1)
            if callable(progress):
                progress(number, len(found.files), file_source)
        bar.close()
        run.flush()
        if sync and root.is_dir():
            kept = tuple(prefix + p.relative_to(base).as_posix() for p in found.unreadable)
            gone = [r for f, held in by_file.items() if f not in seen_files and not _under(f, kept) for r in held]
            run.remove(gone)
            summary.deleted.extend(sorted({r.file for r in gone}))
        summary.seconds = time.perf_counter() - started
        log.info("ingest of %s: %s", root, summary.describe().splitlines()[0])
        return summary


    def _remove_orphans(self, records: dict[str, SourceRecord], summary: IngestSummary) -> None:
        """Delete the chunks an unfinished write left (no source record names their article) before writing."""
        chunks, articles = self.store.remove_orphans(
            {r.article_id for r in records.values()}, self.orphan_grace_seconds
        )
        if chunks:
            summary.orphans_removed = chunks
            log.warning(
                "removed %d chunk(s) of %d article(s) that an interrupted ingest left without a source record "
                "(they were never answerable; their files are ingested again if they are still there)",
                chunks,
                articles,
            )


def _summary(found: Discovery, base: Path, prefix: str) -> IngestSummary:
    """A new summary with what discovery passed over (each logged: a skipped link is worth a look)."""
    summary = IngestSummary(skipped=[prefix + p.relative_to(base).as_posix() for p in found.unsupported])
    for path, reason in found.not_read:
        name = prefix + path.relative_to(base).as_posix() if path != base else prefix.rstrip("/")
        summary.not_read.append((name, reason))
        log.warning("not read: %s: %s", name, reason)
    return summary


def _why_none(summary: IngestSummary) -> str:
    if not summary.not_read:
        return ""
    shown = "; ".join(f"{path}: {reason}" for path, reason in summary.not_read[:3])
    return f" (not read: {shown})"


def _under(file_source: str, folders: tuple[str, ...]) -> bool:
    return any(file_source == folder or file_source.startswith(folder + "/") for folder in folders)


def read_file(path: Path, max_bytes: int, is_link: bool = False) -> bytes:
    """The bytes of a regular file, at most `max_bytes` of them, else LoadError (or OSError).

    Opened without blocking (a FIFO swapped in after discovery cannot hang the run), checked to be a regular
    file on the open descriptor, and, unless discovery found a link there, opened without following one (a
    file replaced by a link in the meantime is refused). Reading stops after max_bytes + 1 bytes whatever
    the size the file claims."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not is_link:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LoadError("became a symbolic link after the folder was listed; not followed") from None
        raise
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise LoadError("not a regular file (a FIFO, socket or device); not read")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise LoadError(f"file is larger than max_file_bytes ({max_bytes} bytes)")
    return data


class _Run:
    """State of one ingest run: pending articles waiting to be embedded, ids seen so far."""

    def __init__(self, ingestor: Ingestor, summary: IngestSummary, expected_files: int = 0) -> None:
        self.ingestor = ingestor
        self.expected_files = expected_files
        # article id -> its stored source records, read once
        self._holders: dict[str, list[SourceRecord]] | None = None
        self.store = ingestor.store
        self.summary = summary
        self.pending: list[_Pending] = []
        self.pending_chunks = 0
        self.new_ids: dict[str, str] = {}  # article id -> source that carries it, for articles written this run
        self.aliases: list[tuple[Article, str, str, str]] = []  # (article, file, file hash, canonical source)
        # (old record of a changed file, whether its source still exists)
        self.replaced: list[tuple[SourceRecord, bool]] = []

    def visit(self, path: Path, file_source: str, old: list[SourceRecord], is_link: bool = False) -> None:
        """Read, load, chunk (and for a big file embed) one file; it joins the run only if all of that worked."""
        budget = _Budget(self.ingestor.file_time_budget_seconds)
        try:
            data = read_file(path, self.ingestor.max_file_bytes, is_link)
            file_hash = hashlib.sha256(data).hexdigest()
            if old and all(r.file_hash == file_hash for r in old):
                self.summary.unchanged.append(file_source)
                return
            loaded = load_bytes(data, path.suffix, file_source)
            budget.check("parsing")
            work = _FileWork(file_source, file_hash, old, warnings=loaded.warnings)
            for article in loaded.articles:
                self._take(work, article, budget)
                budget.check("chunking")
            self._embed_big(work, budget)
        except (LoadError, OSError) as exc:
            reason = str(exc) if isinstance(exc, LoadError) else f"cannot read: {exc.strerror or exc}"
            self.summary.failed.append((file_source, reason))
            log.warning("skipped %s: %s", file_source, reason)
            return
        self._commit(work, loaded.articles)

    def _take(self, work: _FileWork, article: Article, budget: _Budget) -> None:
        """Sort one article of a file: a refreshed record, a duplicate of a stored one, or new chunks to write."""
        article_id = article.article_id
        old = work.old_by_source.get(article.source)
        if article.date is None and old is None:
            work.undated.append(article.source)
        if old is not None and old.article_id == article_id:
            # same text, new bytes: refresh the record
            work.aliases.append((article, work.file_source, work.file_hash, old.duplicate_of or ""))
            return
        canonical = work.new_ids.get(article_id) or self.new_ids.get(article_id) or self._stored_canonical(article_id)
        if canonical and canonical != article.source:
            work.aliases.append((article, work.file_source, work.file_hash, canonical))
            work.duplicates.append((article.source, canonical))
            return
        chunks = self.ingestor.chunker.chunk(article.text, check=lambda: budget.check("chunking"))
        if not chunks:
            work.warnings.append(f"{article.source} has no text to index; skipped")
            return
        work.new_ids[article_id] = article.source
        work.pending.append(_Pending(article, work.file_source, work.file_hash, chunks))

    def _embed_big(self, work: _FileWork, budget: _Budget) -> None:
        """A file with as many chunks as a whole wave is embedded now, in slices, under its time budget."""
        if work.chunk_count < FLUSH_CHUNKS:
            return
        for item in work.pending:
            parts = []
            for start in range(0, len(item.chunks), EMBED_SLICE):
                parts.append(
                    self.ingestor.embedder.embed(
                        [c.text for c in item.chunks[start : start + EMBED_SLICE]], cache=False
                    )
                )
                budget.check("embedding")
            item.vectors = np.vstack(parts)

    def _commit(self, work: _FileWork, articles: list[Article]) -> None:
        """The file is done: its articles join the run's pending writes and its outcome the summary."""
        (self.summary.updated if work.old else self.summary.added).append(work.file_source)
        self.summary.undated.extend(work.undated)
        self.summary.duplicates.extend(work.duplicates)
        self.summary.warnings.extend((work.file_source, message) for message in work.warnings)
        for message in work.warnings:
            log.warning("%s: %s", work.file_source, message)
        self.aliases.extend(work.aliases)
        self.new_ids.update(work.new_ids)
        self.pending.extend(work.pending)
        self.pending_chunks += work.chunk_count
        new_ids = {a.source: a.article_id for a in articles}
        self.replaced.extend((r, r.source in new_ids) for r in work.old if new_ids.get(r.source) != r.article_id)
        if self.pending_chunks >= FLUSH_CHUNKS:
            self.flush_chunks()

    def _stored_canonical(self, article_id: str) -> str | None:
        holders = self._stored_holders(article_id)
        for record in holders:
            if not record.duplicate_of:
                return record.source
        return holders[0].source if holders else None

    def _stored_holders(self, article_id: str) -> list[SourceRecord]:
        """Stored sources of an article. A big ingest reads the source records once (one scan instead of a
        query per article); a small ingest into a big store asks per article."""
        if self._holders is None and self.store.source_count() <= HOLDER_SCAN_FACTOR * max(1, self.expected_files):
            self._holders = {}
            for record in self.store.source_records().values():
                self._holders.setdefault(record.article_id, []).append(record)
        if self._holders is not None:
            return self._holders.get(article_id, [])
        return self.store.records_of_article(article_id)

    def flush_chunks(self) -> None:
        if not self.pending:
            return
        self._embed_waiting()
        texts = [chunk.text for item in self.pending for chunk in item.chunks]
        # every pending item has its vectors from here on (_embed_waiting)
        vectors = np.vstack([cast(np.ndarray, item.vectors) for item in self.pending])
        ids, metas, records = [], [], []
        for item in self.pending:
            article_id = item.article.article_id
            ids += [f"{article_id}:{c.index:04d}" for c in item.chunks]
            metas += [_chunk_meta(item, c) for c in item.chunks]
            records.append(_record(item.article, item.file, item.file_hash, None))
        self.store.add_chunks(ids, texts, vectors, metas)
        self.store.put_sources(records)  # the commit mark, after the chunks
        self.summary.chunks_added += len(ids)
        self.pending, self.pending_chunks = [], 0

    def _embed_waiting(self) -> None:
        """Embed, in one call, the chunks of every pending article not embedded yet (small files batch well)."""
        waiting = [item for item in self.pending if item.vectors is None]
        vectors = self.ingestor.embedder.embed([chunk.text for item in waiting for chunk in item.chunks])
        offset = 0
        for item in waiting:
            item.vectors = vectors[offset:offset + len(item.chunks)]
            offset += len(item.chunks)

    def flush(self) -> None:
        self.flush_chunks()
        if self.aliases:
            self.store.put_sources([_record(article, file_source, file_hash, canonical or None)
                                    for article, file_source, file_hash, canonical in self.aliases])
        # Only now, with the new versions stored, let go of what they replace.
        self.store.delete_sources(r.source for r, kept in self.replaced if not kept)
        self._release([r for r, _ in self.replaced])

    def remove(self, records: list[SourceRecord]) -> None:
        """Delete source records, then any article no source refers to; re-point articles whose cited copy went."""
        self.store.delete_sources(r.source for r in records)
        self._release(records)

    def _release(self, records: list[SourceRecord]) -> None:
        for article_id in {r.article_id for r in records}:
            remaining = self.store.records_of_article(article_id)
            if not remaining:
                self.store.delete_article(article_id)
                continue
            if any(not r.duplicate_of for r in remaining):
                continue
            self._promote(article_id, remaining)

    def _promote(self, article_id: str, remaining: list[SourceRecord]) -> None:
        """The stored copy was removed: the first remaining duplicate becomes the one cited."""
        new_canonical = remaining[0]
        promoted = [
            dataclasses.replace(r, duplicate_of=None if r.source == new_canonical.source else new_canonical.source)
            for r in remaining
        ]
        self.store.put_sources(promoted)
        self.store.repoint_article(article_id, new_canonical)


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
