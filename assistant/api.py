"""The Python API: `Assistant` ties settings, store, retrieval and the answer chain together."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

from assistant.backends import make_answerer
from assistant.core.answer import Answer, Passage
from assistant.core.errors import ConfigError, EmptyStoreError, InputError
from assistant.core.settings import Settings
from assistant.history import FILE_NAME, History
from assistant.models.embedding import Embedder
from assistant.retrieval.hybrid import Filters, HybridRetriever
from assistant.retrieval.lexical import LexicalIndex
from assistant.storage.chroma_client import ChromaHandle, open_chroma
from assistant.storage.collections import (
    CollectionInfo,
    create_collection,
    delete_collection,
    list_collections,
    rename_collection,
)
from assistant.storage.store import ChunkStore
from assistant.text.question import check_question
from assistant.text.timeframe import day_or_none, parse_day, question_window
from assistant.text.tokens import count_tokens
from ingest.chunking import Chunker
from ingest.pipeline import Ingestor
from ingest.summary import IngestSummary

log = logging.getLogger(__name__)

CHUNKER_VERSION = 2
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


class Assistant:
    """Ask questions of a news-article collection.

    >>> a = Assistant(data_dir="/tmp/news")
    >>> a.ingest("seeds")            # doctest: +SKIP
    >>> a.ask("When did Lavrov visit Pakistan?").text   # doctest: +SKIP
    >>> Assistant(data_dir="/tmp/news", collection="sport")  # doctest: +SKIP  (a named collection; see collections())

    Heavy parts (the embedding model, Chroma, the BM25 index) are opened on first use.
    """

    def __init__(
        self, data_dir: str | os.PathLike | None = None, settings: Settings | None = None, **overrides: Any
    ) -> None:
        base = settings or Settings.load()
        values = {**base.__dict__, **{k: v for k, v in overrides.items() if v is not None}}
        if data_dir:
            values["data_dir"] = os.fspath(data_dir)
        self.settings = Settings.from_mapping(values)  # unknown names and bad values raise ConfigError
        if os.path.isfile(self.settings.data_dir):
            raise ConfigError(f"The data directory {self.settings.data_dir} is a file: pass a folder (it is created "
                              "when missing).")
        self._lock = threading.RLock()
        self._handle: ChromaHandle | None = None
        self._store: ChunkStore | None = None
        self._lexical: LexicalIndex | None = None
        self._chains: dict[tuple[str, str], Any] = {}
        self._answerers: dict[str, Any] = {}
        self._catalogues: dict[str, list[tuple[str, date | None]]] = {}

    # ---- lifecycle --------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the store (and, in embedded mode, its lock for other processes)."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
            self._handle = self._store = None
            self._chains.clear()
            self._answerers.clear()

    def __enter__(self) -> "Assistant":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def embedder(self):
        return Embedder.shared(self.settings.embed_batch_size)

    @property
    def store(self) -> ChunkStore:
        with self._lock:
            if self._store is None:
                self._handle = self._handle or open_chroma(self.settings)
                try:
                    self._store = ChunkStore(self._handle.client, self.settings.collection, self.signature())
                except Exception:
                    self._handle.close()
                    self._handle = None
                    raise
            return self._store

    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            self._lexical = LexicalIndex(self._lexical_dir(self.settings.collection))
        return self._lexical

    def _lexical_dir(self, collection: str) -> str:
        """Where the BM25 index of `collection` (of this store) is kept, beside Chroma."""
        where = self.settings.chroma_url or self.settings.data_dir
        key = hashlib.sha256(f"{where}|{collection}".encode()).hexdigest()[:12]
        return os.path.join(self.settings.data_dir, "bm25", f"{collection}-{key}")

    def signature(self) -> dict[str, Any]:
        """What the store must have been built with: model, dimension, chunker settings."""
        embedder = self.embedder
        chunker = (
            f"v{CHUNKER_VERSION} cl100k chunk={self.settings.chunk_tokens} "
            f"overlap={self.settings.chunk_overlap_tokens} max_model_tokens={embedder.max_tokens}"
        )
        return {"embedding_model": embedder.model_id, "embedding_dimension": embedder.dimension, "chunker": chunker}

    # ---- ingest -----------------------------------------------------------------------------------

    def ingest(
        self,
        path: str | os.PathLike,
        sync: bool = False,
        progress: bool | Callable[[int, int, str], None] = False,
        rebuild: bool = False,
    ) -> IngestSummary:
        """Ingest a folder or file of articles; returns what was added, updated, skipped and why.

        sync: also delete articles whose files are gone from the folder.
        rebuild: drop the whole collection first (needed after changing model or chunker settings).
        """
        with self._lock:
            if rebuild:
                self._drop_store()
            ingestor = Ingestor.from_settings(self.store, self.embedder, self.chunker, self.settings)
            summary = ingestor.ingest(path, sync=sync, progress=progress)
            self._chains.clear()
            self._answerers.clear()
            return summary

    @property
    def chunker(self):
        """Splits article text on sentences into chunks of the settings' size, counted in the embedder's word pieces."""
        embedder = self.embedder
        return Chunker(count_tokens, embedder.count_tokens, embedder.max_tokens, self.settings.chunk_tokens,
                       self.settings.chunk_overlap_tokens)

    def _drop_store(self) -> None:
        handle = open_chroma(self.settings) if self._handle is None else self._handle
        self._handle = handle
        ChunkStore.drop_collections(handle.client, self.settings.collection)
        self._store = None

    def ensure_collection(self) -> IngestSummary | None:
        """Make sure there is something to ask: the default store (no data_dir, ASSISTANT_DATA_DIR, --data-dir or
        chroma_url given) gets the bundled seeds/ collection when it is empty; any other empty store is an
        EmptyStoreError saying to run `assistant ingest PATH` first. A store counts as empty when no source record
        is committed (chunks an interrupted ingest left behind do not count)."""
        if not self.store.is_empty():
            return None
        if not self.settings.is_default_store():
            raise EmptyStoreError(self._empty_store_message())
        log.info("the default store is empty: ingesting the bundled collection %s", SEEDS_DIR)
        return self.ingest(SEEDS_DIR)

    def _empty_store_message(self) -> str:
        where = (f"The collection {self.settings.collection!r} on the Chroma server {self.settings.chroma_url}"
                 if self.settings.chroma_url else f"The store in {self.settings.data_dir}")
        return (f"{where} holds no articles yet. Add some first with `assistant ingest PATH` (a folder or file of "
                "articles), with the same data_dir/chroma_url; the bundled seed articles go only into the default "
                "store, used when no data_dir or chroma_url is set.")

    # ---- questions --------------------------------------------------------------------------------

    def retrieve(self, question: str, k: int | None = None, *, date_from: date | str | None = None,
                 date_to: date | str | None = None, source: str | None = None, mode: str = "hybrid",
                 as_of: date | str | None = None) -> list[Passage]:
        """The k passages most relevant to `question` (hybrid dense + BM25 by default)."""
        question = check_question(question)
        _check_k(k)
        retriever = HybridRetriever(self.store, self.embedder, self.lexical, mode)
        return retriever.retrieve_first(question, k or self.settings.k,
                                        self.filter_plan(question, date_from, date_to, source, as_of))

    def ask(self, question: str, k: int | None = None, *, date_from: date | str | None = None,
            date_to: date | str | None = None, source: str | None = None, mode: str = "hybrid",
            backend: str | None = None, as_of: date | str | None = None) -> Answer:
        """Answer `question` from the collection, with numbered citations, or refuse when the articles don't say.

        `as_of` is the date of asking: nothing published after it is used, and "this week", "recently" or "this
        month" in the question are read against it (without it: against the newest article in the collection)."""
        inputs = self._chain_inputs(question, k, date_from, date_to, source, as_of)
        if isinstance(inputs, Answer):
            return inputs
        return self.chain(mode=mode, backend=backend).invoke(inputs)

    def ask_stream(self, question: str, k: int | None = None, *, date_from: date | str | None = None,
                   date_to: date | str | None = None, source: str | None = None, mode: str = "hybrid",
                   backend: str | None = None, as_of: date | str | None = None) -> Iterator[str | Answer]:
        """Like `ask`, streamed: yields text pieces as an LLM backend writes them, then the checked Answer (always
        last).

        The pieces are the model's draft; the Answer is what its citations support. A backend that
        does not stream (extractive) yields the Answer alone.
        """
        inputs = self._chain_inputs(question, k, date_from, date_to, source, as_of)
        if isinstance(inputs, Answer):
            yield inputs
            return
        yield from self.chain(mode=mode, backend=backend).stream(inputs)

    def _chain_inputs(self, question: str, k: int | None, date_from: date | str | None, date_to: date | str | None,
                      source: str | None, as_of: date | str | None) -> dict[str, Any] | Answer:
        """What `ask` and `ask_stream` give the chain: the checked question (InputError when it or k is not
        acceptable), k and the filter plan; or, when no article can pass the filters, the refusal that says why."""
        question = check_question(question)
        _check_k(k)
        empty = self.why_nothing_matches(date_from, date_to, source, as_of)
        if empty:
            return Answer.refusal(question, reason=empty)
        plan = self.filter_plan(question, date_from, date_to, source, as_of)
        return {"question": question, "k": k or self.settings.k, "filters": plan[-1], "filter_plan": plan}

    def as_retriever(self, k: int | None = None, *, date_from: date | str | None = None,
                     date_to: date | str | None = None, source: str | None = None, as_of: date | str | None = None,
                     mode: str = "hybrid"):
        """A LangChain BaseRetriever over the collection, for your own chains: each Document is a passage found as
        `retrieve` finds it, with chunk_id, article_id, title, date and source in its metadata
        (assistant/retrieval/retriever.py)."""
        from assistant.retrieval.retriever import AssistantRetriever  # langchain_core's retriever: 1-2 s to import

        _check_k(k)
        return AssistantRetriever(assistant=self, k=k, date_from=parse_day(date_from, "start date"),
                                  date_to=parse_day(date_to, "end date"), source=source,
                                  as_of=parse_day(as_of, "as-of date"), mode=mode)

    def filter_plan(self, question: str, date_from: date | str | None, date_to: date | str | None,
                    source: str | None, as_of: date | str | None) -> list[Filters]:
        """The filters to try in order: the window the question's time words point at (when it says "this week"
        and the like), then the plain filters. Nothing after `as_of` is ever used."""
        date_from, date_to, as_of = self._dates(date_from, date_to, as_of)
        plain = Filters(date_from, date_to, source)
        reference = as_of or self.newest_date()
        window = question_window(question, reference) if reference else None
        if window is None:
            return [plain]
        start = max(filter(None, [window.date_from, date_from]), default=None)
        end = min(window.date_to, date_to) if date_to else window.date_to
        if start and start > end:
            return [plain]
        return [Filters(start, end, source), plain]

    def _dates(self, date_from: date | str | None, date_to: date | str | None,
               as_of: date | str | None) -> tuple[date | None, date | None, date | None]:
        """(date_from, date_to, as_of) parsed (InputError naming the bad one), date_to capped at `as_of`: nothing
        published after the date of asking is used (an undated collection has nothing to cap)."""
        date_from = parse_day(date_from, "start date")
        date_to = parse_day(date_to, "end date")
        as_of = parse_day(as_of, "as-of date")
        if as_of is not None and self.newest_date() is not None:
            date_to = min(date_to, as_of) if date_to else as_of
        return date_from, date_to, as_of

    def newest_date(self) -> date | None:
        """The newest article date in the collection (cached until the store changes)."""
        dates = [d for _, d in self._catalogue() if d]
        return max(dates) if dates else None

    def _catalogue(self) -> list[tuple[str, date | None]]:
        """(source, date) of every stored article, read once per store revision."""
        revision = self.store.revision
        if revision not in self._catalogues:
            records = self.store.source_records().values()
            self._catalogues = {revision: [(r.source, day_or_none(r.date)) for r in records if not r.duplicate_of]}
        return self._catalogues[revision]

    def why_nothing_matches(self, date_from: date | str | None = None, date_to: date | str | None = None,
                            source: str | None = None, as_of: date | str | None = None) -> str | None:
        """Why no article can pass these filters, in words; None when some article does."""
        date_from, date_to, _ = self._dates(date_from, date_to, as_of)
        catalogue = self._catalogue()
        if source:
            prefix = source.strip("/")
            matching = [(s, d) for s, d in catalogue if s == prefix or s.startswith(prefix + "/")]
            if not matching:
                example = sorted({s.rsplit("/", 1)[0] if "/" in s else s for s, _ in catalogue})[:3]
                looks = f" — sources look like {', '.join(repr(e) for e in example)}" if example else ""
                return f"No source matches {source!r}{looks}."
            catalogue = matching
        if date_from is None and date_to is None:
            return None
        dated = [d for _, d in catalogue if d]
        if not dated:
            return "This collection has no article dates, so a date range matches nothing."
        if any((date_from is None or d >= date_from) and (date_to is None or d <= date_to) for d in dated):
            return None
        wanted = f"{date_from or 'any date'} to {date_to or 'any date'}"
        return (f"No article in this collection is dated {wanted}; its articles run from {min(dated)} to "
                f"{max(dated)}.")

    def answerer(self, backend: str | None = None):
        """The answerer of `backend` (default: setting backend), made once per Assistant."""
        backend = backend or self.settings.backend
        with self._lock:
            if backend not in self._answerers:
                self._answerers[backend] = make_answerer(backend, self)
            return self._answerers[backend]

    def chain(self, mode: str = "hybrid", backend: str | None = None):
        """The LangChain runnable behind `ask`: {"question", "k", "filters"} -> Answer."""
        from assistant.chain import build_chain  # langchain_core's runnables, imported on the first question

        backend = backend or self.settings.backend
        with self._lock:
            key = (mode, backend)
            if key not in self._chains:
                self._chains[key] = build_chain(self, mode=mode, backend=backend)
            return self._chains[key]

    def info(self) -> dict[str, Any]:
        """Articles, chunks, date range and model of the collection."""
        stats = self.store.stats()
        stats["store"] = self._handle.description if self._handle else ""
        return stats

    # ---- named collections ------------------------------------------------------------------------

    def collections(self) -> list[CollectionInfo]:
        """Every collection of this store, with its articles, chunks, date range and embedding model."""
        return list_collections(self._client())

    def create_collection(self, name: str) -> CollectionInfo:
        """A new, empty collection called `name`; `Assistant(collection=name).ingest(PATH)` fills it."""
        return create_collection(self._client(), name, {})  # the model and chunker are recorded by its first ingest

    def rename_collection(self, old: str, new: str) -> None:
        """Rename collection `old` to `new`, keeping its articles, its BM25 index and the history's record of it.
        An assistant using `old` uses `new` afterwards."""
        with self._lock:
            rename_collection(self._client(), old, new)
            self._move_lexical(old, new)
            self._rename_in_history(old, new)
            if self.settings.collection == old:
                self.settings.collection = new
                self._forget_collection()

    def delete_collection(self, name: str) -> None:
        """Delete collection `name`: its chunks, source records and BM25 index (saved conversations stay)."""
        with self._lock:
            delete_collection(self._client(), name)
            shutil.rmtree(self._lexical_dir(name), ignore_errors=True)
            if self.settings.collection == name:
                self._forget_collection()

    def _client(self):
        """The Chroma client, opened without opening (or creating) this assistant's own collection."""
        with self._lock:
            self._handle = self._handle or open_chroma(self.settings)
            return self._handle.client

    def _forget_collection(self) -> None:
        self._store = self._lexical = None
        self._chains.clear()
        self._answerers.clear()
        self._catalogues.clear()

    def _move_lexical(self, old: str, new: str) -> None:
        source, target = self._lexical_dir(old), self._lexical_dir(new)
        if not os.path.isdir(source):
            return
        shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(source, target)
        except OSError as exc:  # it is rebuilt from Chroma when missing
            log.warning("could not move the BM25 index of %s (%s); it is rebuilt on first use", old, exc)
            shutil.rmtree(source, ignore_errors=True)

    def _rename_in_history(self, old: str, new: str) -> None:
        if os.path.isfile(os.path.join(self.settings.data_dir, FILE_NAME)):
            History.in_data_dir(self.settings.data_dir).rename_collection(old, new)


def _check_k(k: int | None) -> None:
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
        raise InputError(f"k is the number of passages to retrieve: a whole number of at least 1, not {k!r}.")
