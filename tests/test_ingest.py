"""Ingestion into a real Chroma store in a temp dir: idempotence, updates, sync, duplicates, failures, store checks."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.core.errors import InputError, StoreMismatchError

from conftest import write_folder as _folder

GOUDA = (
    "date 2022-03-01\n\nCheese festival in Gouda\n\nThe Gouda cheese festival drew 40,000 visitors on Saturday, "
    "organisers said. Stalls sold aged cheese from twelve farms.\n"
)
BRIDGE = (
    "date 2022-04-02\n\nBridge reopens\n\nThe Elm Street bridge in Haverford reopened after 18 months of repairs "
    "costing $2.4m, the city council said.\n"
)
BRIDGE_OTHER_HEADLINE = (
    "date 2022-04-02\n\nHaverford celebrates its bridge\n\nThe Elm Street bridge in Haverford reopened after 18 months "
    "of repairs costing $2.4m, the city council said.\n"
)
# no date
LIGHTHOUSE = "Keeper retires\n\nA lighthouse keeper in Nordby retired after 41 years of service at the Skagen light.\n"
DREDGING = (
    "date 2022-05-05\n\nHarbour dredging\n\nDredging of Nordport harbour will start in June and cost 3 million euros, "
    "the port authority said.\n"
)
ZEBRA = (
    "date 2022-06-06\n\nZebra crossing painted\n\nWorkers in Tilburg painted a new zebra crossing near the Oakwood "
    "school on Monday.\n"
)


def _chunk_texts(assistant: Assistant) -> list[str]:
    return [c.text for c in assistant.store.all_chunks()]


def _chunk_sources(assistant: Assistant) -> set[str]:
    return {c.metadata["source"] for c in assistant.store.all_chunks()}


# ---- add, re-ingest, update, sync ------------------------------------------------------------------------


def test_ingest_mixed_folder_summary(tmp_path, make_assistant):
    news = _folder(
        tmp_path / "news",
        {
            "a.txt": GOUDA,
            "b.md": "---\ntitle: Bridge reopens\ndate: 2022-04-02\n---\nThe Elm Street bridge in Haverford reopened "
                    "after 18 months of repairs.\n",
            "sub/c.html": "<html><head><meta property='article:published_time' "
                          "content='2022-05-05'></head><body><h1>Harbour dredging</h1>"
            "<p>Dredging of Nordport harbour will start in June.</p></body></html>",
            "feed.jsonl": json.dumps(
                {"title": "Zebra", "date": "2022-06-06", "text": "Workers in Tilburg painted a zebra crossing."}
            )
            + "\n"
            + json.dumps({"title": "Lighthouse", "text": "A lighthouse keeper in Nordby retired."})
            + "\n",
            "notes.csv": "a,b\n1,2\n",
            "README.md": "Not an article.\n",
            ".hidden.txt": GOUDA,
        },
    )
    assistant = make_assistant()
    summary = assistant.ingest(news)
    assert summary.added == ["news/a.txt", "news/b.md", "news/feed.jsonl", "news/sub/c.html"]
    assert summary.failed == [] and summary.duplicates == [] and summary.updated == [] and summary.unchanged == []
    assert summary.skipped == ["news/notes.csv"]
    assert summary.undated == ["news/feed.jsonl#2"]
    assert summary.chunks_added == 5  # one short article each
    assert assistant.store.count() == 5
    info = assistant.info()
    assert (info["articles"], info["sources"], info["duplicates"], info["chunks"]) == (5, 5, 0, 5)
    assert (info["first_date"], info["last_date"]) == ("2022-03-01", "2022-06-06")
    assert info["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2" and info["embedding_dimension"] == 384
    assert {r.source for r in assistant.store.source_records().values()} == {
        "news/a.txt", "news/b.md", "news/sub/c.html", "news/feed.jsonl#1", "news/feed.jsonl#2"}
    # chunk metadata carries the citation fields and exact spans
    gouda = next(c for c in assistant.store.all_chunks() if c.metadata["source"] == "news/a.txt")
    assert gouda.metadata["title"] == "Cheese festival in Gouda"
    assert gouda.metadata["date"] == "2022-03-01" and gouda.metadata["date_ord"] == 20220301
    assert gouda.text == GOUDA.split("\n", 1)[1].strip()[gouda.metadata["start"]:gouda.metadata["end"]]


def test_reingest_unchanged_writes_nothing(tmp_path, make_assistant):
    news = _folder(tmp_path / "news", {"a.txt": GOUDA, "b.txt": BRIDGE, "c.txt": LIGHTHOUSE})
    assistant = make_assistant()
    first = assistant.ingest(news)
    assert first.chunks_added == 3
    count, revision = assistant.store.count(), assistant.store.revision
    again = assistant.ingest(news)
    assert sorted(again.unchanged) == ["news/a.txt", "news/b.txt", "news/c.txt"]
    assert again.added == [] and again.updated == [] and again.deleted == [] and again.duplicates == []
    assert again.chunks_added == 0
    assert not again.changed_anything
    assert assistant.store.count() == count
    assert assistant.store.revision == revision  # the BM25 index need not rebuild


def test_changed_file_replaces_its_chunks(tmp_path, make_assistant):
    news = _folder(tmp_path / "news", {"a.txt": GOUDA, "b.txt": BRIDGE})
    assistant = make_assistant()
    assistant.ingest(news)
    assert any("Gouda" in t for t in _chunk_texts(assistant))
    (news / "a.txt").write_text(DREDGING, encoding="utf-8")
    summary = assistant.ingest(news)
    assert summary.updated == ["news/a.txt"] and summary.unchanged == ["news/b.txt"]
    assert summary.chunks_added == 1
    texts = _chunk_texts(assistant)
    assert not any("Gouda" in t for t in texts)
    assert any("Nordport" in t for t in texts)
    assert assistant.store.count() == 2
    assert assistant.info()["articles"] == 2
    for mode in ("bm25", "hybrid"):
        passages = assistant.retrieve("Gouda cheese festival visitors", k=5, mode=mode)
        assert not any("Gouda" in p.text for p in passages), mode
    [passage] = [p for p in assistant.retrieve("Nordport harbour dredging", k=1)]
    assert passage.source == "news/a.txt" and passage.title == "Harbour dredging" and passage.date == "2022-05-05"


def test_sync_deletes_removed_files(tmp_path, make_assistant):
    news = _folder(tmp_path / "news", {"a.txt": GOUDA, "b.txt": BRIDGE, "c.txt": LIGHTHOUSE})
    assistant = make_assistant()
    assistant.ingest(news)
    (news / "b.txt").unlink()
    without_sync = assistant.ingest(news)
    assert without_sync.deleted == [] and assistant.store.count() == 3
    summary = assistant.ingest(news, sync=True)
    assert summary.deleted == ["news/b.txt"]
    assert assistant.store.count() == 2
    assert "news/b.txt" not in _chunk_sources(assistant)
    assert "news/b.txt" not in {r.source for r in assistant.store.source_records().values()}
    assert not any("Elm Street" in p.text for p in assistant.retrieve("Elm Street bridge repairs", k=5))


def test_single_file_ingest_uses_parent_folder_as_prefix(tmp_path, make_assistant):
    news = _folder(tmp_path / "news", {"a.txt": GOUDA, "b.txt": BRIDGE})
    assistant = make_assistant()
    summary = assistant.ingest(news / "b.txt")
    assert summary.added == ["news/b.txt"]
    assert assistant.store.count() == 1


def test_missing_or_empty_path_is_an_input_error(tmp_path, make_assistant):
    assistant = make_assistant()
    with pytest.raises(InputError, match="does not exist"):
        assistant.ingest(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="No article files"):
        assistant.ingest(tmp_path / "empty")


# ---- duplicates ------------------------------------------------------------------------------------------


def _duplicates_folder(tmp_path: Path) -> Path:
    return _folder(
        tmp_path / "news", {"a.txt": GOUDA, "b.txt": BRIDGE, "c.txt": BRIDGE, "d.txt": BRIDGE_OTHER_HEADLINE}
    )


def test_duplicates_are_stored_once(tmp_path, make_assistant):
    news = _duplicates_folder(tmp_path)
    assistant = make_assistant()
    summary = assistant.ingest(news)
    assert summary.added == ["news/a.txt", "news/b.txt", "news/c.txt", "news/d.txt"]
    assert sorted(summary.duplicates) == [("news/c.txt", "news/b.txt"), ("news/d.txt", "news/b.txt")]
    assert summary.chunks_added == 2
    assert assistant.store.count() == 2
    info = assistant.info()
    assert (info["articles"], info["sources"], info["duplicates"]) == (2, 4, 2)
    records = assistant.store.source_records()
    assert records["news/d.txt"].title == "Haverford celebrates its bridge"
    assert records["news/d.txt"].duplicate_of == "news/b.txt"
    assert records["news/c.txt"].article_id == records["news/b.txt"].article_id == records["news/d.txt"].article_id


def test_deleting_canonical_copy_keeps_duplicate_answerable(tmp_path, make_assistant):
    news = _duplicates_folder(tmp_path)
    assistant = make_assistant()
    assistant.ingest(news)
    (news / "b.txt").unlink()
    summary = assistant.ingest(news, sync=True)
    assert summary.deleted == ["news/b.txt"]
    assert assistant.store.count() == 2
    bridge_chunks = [c for c in assistant.store.all_chunks() if "Elm Street" in c.text]
    assert len(bridge_chunks) == 1
    assert bridge_chunks[0].metadata["source"] == "news/c.txt"  # re-pointed to the first remaining copy
    answer = assistant.ask("How long did the repairs of the Elm Street bridge take?")
    assert not answer.refused, answer.text
    assert "18 months" in answer.text
    assert answer.citations[0].source == "news/c.txt"
    # removing the last copies removes the article
    (news / "c.txt").unlink()
    (news / "d.txt").unlink()
    summary = assistant.ingest(news, sync=True)
    assert sorted(summary.deleted) == ["news/c.txt", "news/d.txt"]
    assert assistant.store.count() == 1
    assert not any("Elm Street" in t for t in _chunk_texts(assistant))


def test_info_counts_after_canonical_copy_is_deleted(tmp_path, make_assistant):
    news = _duplicates_folder(tmp_path)
    assistant = make_assistant()
    assistant.ingest(news)
    (news / "b.txt").unlink()
    assistant.ingest(news, sync=True)
    records = assistant.store.source_records()
    assert records["news/c.txt"].duplicate_of is None
    info = assistant.info()
    assert (info["articles"], info["sources"], info["duplicates"]) == (2, 3, 1)
    assert info["last_date"] == "2022-04-02"


def test_duplicate_edited_into_new_article_is_its_own_article(tmp_path, make_assistant):
    news = _duplicates_folder(tmp_path)
    assistant = make_assistant()
    assistant.ingest(news)
    (news / "c.txt").write_text(DREDGING, encoding="utf-8")
    summary = assistant.ingest(news)
    assert summary.updated == ["news/c.txt"]
    assert assistant.store.source_records()["news/c.txt"].duplicate_of is None
    assert assistant.info()["articles"] == 3
    assert [p.source for p in assistant.retrieve("Nordport harbour dredging", k=2, source="news/c.txt")] == [
        "news/c.txt"
    ]


def test_changed_file_that_loses_its_date_is_undated(tmp_path, make_assistant):
    news = _folder(tmp_path / "news", {"a.txt": GOUDA, "b.txt": BRIDGE})
    assistant = make_assistant()
    assistant.ingest(news)
    (news / "a.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    assistant.ingest(news)
    assert assistant.store.source_records()["news/a.txt"].date is None
    assert assistant.info()["first_date"] == "2022-04-02"


# ---- failures --------------------------------------------------------------------------------------------


def test_bad_files_are_reported_and_the_rest_ingest(tmp_path, make_assistant):
    import random

    rng = random.Random(7)
    news = _folder(tmp_path / "news", {
        "good.txt": "Short one\n\nA fox crossed the A1 road near Kiel.\n",
        "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        "empty.txt": "",
        "large.txt": "Too big\n\n" + "The council met again. " * 20,
        "noise.txt": bytes(rng.randrange(1, 256) for _ in range(150)),
        "broken.json": '{"title": "x", "text": ',
    })
    assistant = make_assistant(max_file_bytes=300)
    summary = assistant.ingest(news)
    assert summary.added == ["news/good.txt"]
    reasons = dict(summary.failed)
    assert sorted(reasons) == [
        "news/binary.txt",
        "news/broken.json",
        "news/empty.txt",
        "news/large.txt",
        "news/noise.txt",
    ]
    assert "binary" in reasons["news/binary.txt"]
    assert reasons["news/empty.txt"] == "empty file"
    assert "larger than max_file_bytes (300 bytes)" in reasons["news/large.txt"]
    assert "cannot decode" in reasons["news/noise.txt"]
    assert "invalid JSON" in reasons["news/broken.json"]
    assert assistant.store.count() == 1
    assert "failed and were skipped" in summary.describe()


def test_truncated_utf16_file_is_reported_not_fatal(tmp_path, make_assistant):
    news = _folder(tmp_path / "news", {"good.txt": GOUDA, "odd.txt": b"\xff\xfeA\x00B"})
    summary = make_assistant().ingest(news)
    assert summary.added == ["news/good.txt"]
    assert [source for source, _ in summary.failed] == ["news/odd.txt"]


def test_file_corrupted_after_good_ingest_keeps_its_chunks(tmp_path, make_assistant):
    news = _folder(tmp_path / "news", {"a.txt": GOUDA, "b.txt": BRIDGE})
    assistant = make_assistant()
    assistant.ingest(news)
    (news / "a.txt").write_bytes(b"\x00\x01\x02 corrupted \x00")
    summary = assistant.ingest(news, sync=True)
    assert [source for source, _ in summary.failed] == ["news/a.txt"]
    assert summary.deleted == [] and summary.updated == []
    assert assistant.store.count() == 2
    [passage] = assistant.retrieve("Gouda cheese festival", k=1)
    assert passage.source == "news/a.txt" and "40,000 visitors" in passage.text


def test_undated_file_is_listed(tmp_path, make_assistant):
    news = _folder(tmp_path / "news", {"a.txt": GOUDA, "keeper.txt": LIGHTHOUSE})
    assistant = make_assistant()
    summary = assistant.ingest(news)
    assert summary.undated == ["news/keeper.txt"]
    assert "have no publication date" in summary.describe()
    record = assistant.store.source_records()["news/keeper.txt"]
    assert record.date is None and record.title == "Keeper retires"


# ---- store checks ----------------------------------------------------------------------------------------


def test_different_chunker_settings_is_a_mismatch(tmp_path, make_assistant):
    news = _folder(tmp_path / "news", {"a.txt": GOUDA})
    data = tmp_path / "data"
    first = make_assistant(data)
    first.ingest(news)
    first.close()
    other = make_assistant(data, chunk_tokens=100)
    with pytest.raises(StoreMismatchError) as caught:
        other.store  # noqa: B018 (opening the store is what raises)
    message = str(caught.value)
    assert "--rebuild" in message and "chunk=160" in message and "chunk=100" in message
    # the failed open released the store: the original settings open it again
    again = make_assistant(data)
    assert again.store.count() == 1


def test_rebuild_after_changing_chunker_settings(tmp_path, make_assistant, monkeypatch):
    # the bug shows as a lock timeout: fail fast
    monkeypatch.setattr("assistant.storage.chroma_client.LOCK_WAIT_SECONDS", 0.5)
    news = _folder(tmp_path / "news", {"a.txt": GOUDA})
    data = tmp_path / "data"
    first = make_assistant(data)
    first.ingest(news)
    first.close()
    rebuilt = make_assistant(data, chunk_tokens=100)
    summary = rebuilt.ingest(news, rebuild=True)
    assert summary.added == ["news/a.txt"]
    assert "chunk=100" in rebuilt.info()["chunker"]


def test_two_assistants_of_one_process_share_the_store(tmp_path, make_assistant):
    """Within one process the store is shared (another process is refused: tests/test_server.py)."""
    data = tmp_path / "data"
    first = make_assistant(data)
    assert first.store.count() == 0
    second = make_assistant(data)
    first.ingest(_folder(tmp_path / "news", {"a.txt": GOUDA}))
    assert second.store.count() == first.store.count() > 0
    first.close()
    assert second.store.count() > 0  # still open for the second after the first closes


def test_store_access_is_thread_safe_within_one_assistant(tmp_path, make_assistant):
    news = _folder(tmp_path / "news", {"a.txt": GOUDA, "b.txt": BRIDGE})
    assistant = make_assistant()
    assistant.ingest(news)
    results, errors = [], []

    def ask():
        try:
            results.append(assistant.retrieve("Elm Street bridge", k=1)[0].source)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == ["news/b.txt"] * 4
