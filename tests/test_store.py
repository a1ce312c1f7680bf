"""The storage seam: ingest uses only the store's public methods, and every write moves one write counter.

- No module of ingest/ imports a private name of the store or reaches into its Chroma collections.
- Each write method of ChunkStore moves the revision (`state()[0]`) once it is done, without the caller asking;
  the rows epoch (`state()[1]`) moves only with a write that changed stored chunks in place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from assistant.storage.store import SourceRecord, write_count

from conftest import write_folder

ROOT = Path(__file__).resolve().parents[1]
GOUDA = (
    "date 2022-03-01\n\nCheese festival in Gouda\n\nThe Gouda cheese festival drew 40,000 visitors on Saturday, "
    "organisers said. Stalls sold aged cheese from twelve farms.\n"
)
STORE_INSIDES = {"chunks", "sources", "client", "catalogue"}  # the store's parts, not its interface


def test_ingest_uses_only_the_public_methods_of_the_store():
    wrong = []
    for path in sorted((ROOT / "ingest").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("assistant"):
                wrong += [f"{where} imports {a.name}" for a in node.names if a.name.startswith("_")]
            if isinstance(node, ast.Attribute) and _names_store(node.value):
                if node.attr.startswith("_") or node.attr in STORE_INSIDES:
                    wrong.append(f"{where} uses store.{node.attr}")
    assert wrong == []


def _names_store(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "store") or (
        isinstance(node, ast.Attribute) and node.attr == "store"
    )


def test_every_write_moves_the_write_counter(tmp_path, make_assistant):
    assistant = make_assistant()
    assistant.ingest(write_folder(tmp_path / "news", {"gouda.txt": GOUDA}))
    store = assistant.store
    record = next(iter(store.source_records().values()))
    chunk = next(store.all_chunks())
    vector = np.zeros((1, assistant.embedder.dimension), dtype=np.float32)
    vector[0, 0] = 1.0

    def moved(write, rows_changed: bool) -> None:
        revision, epoch = store.state()
        write()
        new_revision, new_epoch = store.state()
        assert write_count(new_revision) == write_count(revision) + 1, write
        assert (new_epoch != epoch) is rows_changed, write
        if rows_changed:
            assert new_epoch == new_revision

    copy = SourceRecord(**{**record.__dict__, "source": "news/copy.txt", "file": "news/copy.txt",
                           "duplicate_of": record.source})
    moved(lambda: store.put_sources([copy]), rows_changed=False)
    moved(lambda: store.delete_sources(["news/copy.txt"]), rows_changed=False)
    moved(lambda: store.add_chunks(["other:0000"], ["Another text."], vector, [{"article_id": "other"}]),
          rows_changed=False)
    moved(lambda: store.add_chunks([chunk.id], [chunk.text], vector, [chunk.metadata]), rows_changed=True)
    moved(lambda: store.repoint_article(record.article_id, record), rows_changed=True)
    moved(lambda: store.remove_orphans(), rows_changed=True)  # "other" has no source record
    moved(lambda: store.delete_article(record.article_id), rows_changed=False)
    moved(store.touch, rows_changed=False)

    revision = store.state()
    store.delete_sources([])
    store.put_sources([])
    assert store.remove_orphans() == (0, 0)
    assert store.state() == revision  # nothing written, nothing moved


def test_a_revision_written_before_the_count_was_kept_counts_as_zero():
    assert write_count("4f0c2d9ab1e34c7f8a2b6d1e0f9c8b7a") == 0
    assert write_count("12-4f0c2d9ab1e34c7f") == 12
    assert write_count("") == 0


# ---- the catalogue in SQLite, and stores written before it ---------------------------------------------------------

DUPLICATE = GOUDA  # the same article in another file
BRIDGE = (
    "date 2022-04-02\n\nBridge reopens\n\nThe Elm Street bridge in Haverford reopened after 18 months of repairs "
    "costing $2.4m, the city council said.\n"
)
QUESTIONS = ["How many visitors did the Gouda cheese festival draw?", "What did the Haverford bridge repairs cost?"]


def _old_format(data: Path, collection: str) -> None:
    """Turn an embedded store into the layout the versions before the SQLite catalogue wrote: the source records in
    the Chroma collection `<collection>__sources` (cosine HNSW, each with its article's mean chunk vector and the
    record's fields as metadata, empty ones left out), no catalogue file."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.storage.catalogue import CATALOGUE_FILE, SqliteCatalogue

    path = str(data / CATALOGUE_FILE)
    records = list(SqliteCatalogue(path, collection).records())
    from assistant.storage.catalogue import close_catalogues

    close_catalogues(path)
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    client = chromadb.PersistentClient(path=str(data / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    try:
        chunks = client.get_collection(collection, embedding_function=None)
        sources = client.create_collection(f"{collection}__sources", configuration={"hnsw": {"space": "cosine"}},
                                           embedding_function=None)
        for record in records:
            got = chunks.get(where={"article_id": record.article_id}, include=["embeddings"])
            mean = np.asarray(got["embeddings"], dtype=np.float32).mean(axis=0)
            meta = {"file": record.file, "file_hash": record.file_hash, "article_id": record.article_id,
                    "title": record.title}
            meta.update({k: getattr(record, k) for k in ("date", "url", "duplicate_of") if getattr(record, k)})
            sources.add(ids=[record.source], embeddings=[(mean / np.linalg.norm(mean)).tolist()], metadatas=[meta])
    finally:
        client.close()


def _answers(assistant) -> list:
    return [[(p.chunk_id, p.source, round(p.score, 6)) for p in assistant.retrieve(q, 4)] for q in QUESTIONS]


def test_a_store_written_before_the_sqlite_catalogue_opens_and_answers_unchanged(tmp_path, make_assistant):
    from assistant import Assistant
    from assistant.storage.catalogue import CATALOGUE_FILE
    from assistant.storage.collections import collection_names

    data = tmp_path / "data"
    news = write_folder(tmp_path / "news", {"gouda.txt": GOUDA, "copy.txt": DUPLICATE, "bridge.txt": BRIDGE})
    with Assistant(data_dir=data) as first:
        first.ingest(news)
        collection = first.settings.collection
        records, stats, answers = first.store.source_records(), first.info(), _answers(first)
    assert any(r.duplicate_of for r in records.values())
    _old_format(data, collection)
    assert not (data / CATALOGUE_FILE).exists()

    reader = make_assistant(data)
    assert reader.store.source_records() == records  # same records, same order
    assert reader.info() == stats
    assert _answers(reader) == answers
    assert (data / CATALOGUE_FILE).exists()
    client = reader._client()
    names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    assert f"{collection}__sources" not in names  # moved, then dropped
    assert collection_names(client) == [collection]
    again = reader.ingest(news)
    assert sorted(again.unchanged) == ["news/bridge.txt", "news/copy.txt", "news/gouda.txt"]
    assert again.orphans_removed == 0


def test_an_old_collection_not_yet_opened_is_listed_renamed_and_deleted(tmp_path, make_assistant):
    from assistant import Assistant

    data = tmp_path / "data"
    with Assistant(data_dir=data, collection="sport") as first:
        first.ingest(write_folder(tmp_path / "news", {"gouda.txt": GOUDA}))
    _old_format(data, "sport")
    assistant = make_assistant(data)  # the default collection: "sport" is not opened as a store
    listed = {info.name: info for info in assistant.collections()}
    assert listed["sport"].articles == 1 and listed["sport"].chunks >= 1
    assistant.rename_collection("sport", "sports")
    assert {info.name for info in assistant.collections()} >= {"sports"}
    assert "sport" not in {info.name for info in assistant.collections()}
    assistant.delete_collection("sports")
    assert "sports" not in {info.name for info in assistant.collections()}
