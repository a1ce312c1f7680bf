"""Named collections (assistant.storage.collections, Assistant.collections/create/rename/delete,
`assistant collections`), uploads staged from files and zips (ingest.uploads: traversal, links, bombs), and the "store
in use" message.

Real Chroma in a temp dir and the real embedding model; each collection holds a made-up article or two.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.conversation import Turn
from assistant.core.errors import ConfigError, InputError, StoreInUseError
from assistant.core.naming import NAME_RULE, name_problem
from assistant.history import History
from ingest.uploads import extract_zip, ingest_uploads, stage

from conftest import write_folder

BRIDGE = """Title: Tamsin Bridge opens in Norvale
date 2021-03-04

The Tamsin Bridge in Norvale opened to traffic on 3 March 2021, mayor Ellen Quist said.

The bridge cost 40 million euros and carries four lanes over the river Mell.
"""
ORCHARD = """Title: Calder orchard harvest
date 2020-10-12

The Calder orchard picked 12,000 apples this autumn, farmer Ruth Ambler said.

Ambler said the harvest was the largest since the orchard was planted in 1987.
"""
COMET = """Title: Comet seen over Lusk
date 2022-01-20

Astronomers in Lusk saw the comet Varda on 18 January 2022, the observatory said.
"""


@pytest.fixture
def two(make_assistant, tmp_path):
    """A store with collections `bridges` (one article) and `orchards` (two), each its own Assistant."""
    data = tmp_path / "data"
    bridges = make_assistant(data, collection="bridges")
    bridges.ingest(write_folder(tmp_path / "b", {"bridge.txt": BRIDGE}))
    orchards = make_assistant(data, collection="orchards")
    orchards.ingest(write_folder(tmp_path / "o", {"orchard.txt": ORCHARD, "comet.txt": COMET}))
    return bridges, orchards


# ---- names --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "  ", "ab", "a b", "news!", "-news", "news-", "a..b", "x" * 55, "192.168.0.1",
                                 "news__sources", "../news", "ünï"])
def test_a_bad_name_gets_one_line_saying_what_is_allowed(bad):
    problem = name_problem(bad)
    assert problem and "\n" not in problem and NAME_RULE in problem


@pytest.mark.parametrize("good", ["articles", "sport-2021", "bbc.news", "from_env", "A1b", "x" * 54])
def test_good_names_pass(good):
    assert name_problem(good) is None


def test_a_bad_collection_setting_is_a_config_error(tmp_path):
    from assistant import Assistant

    with pytest.raises(ConfigError, match="letters, digits"):
        Assistant(data_dir=tmp_path / "d", collection="my news")
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "d"), "--collection", "my news", "info"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "'my news' cannot name a collection" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# ---- the Python API -----------------------------------------------------------------------------------------


def test_collections_are_listed_with_what_they_hold(two):
    bridges, orchards = two
    listed = {info.name: info for info in bridges.collections()}
    assert set(listed) == {"bridges", "orchards"}
    assert (listed["bridges"].articles, listed["bridges"].first_date, listed["bridges"].last_date) == (
        1,
        "2021-03-04",
        "2021-03-04",
    )
    assert (listed["orchards"].articles, listed["orchards"].first_date, listed["orchards"].last_date) == (
        2,
        "2020-10-12",
        "2022-01-20",
    )
    assert listed["orchards"].chunks >= 2 and listed["bridges"].embedding_model.endswith("all-MiniLM-L6-v2")
    assert "orchards · 2 articles" in listed["orchards"].label()


def test_each_collection_answers_from_its_own_articles(two):
    bridges, orchards = two
    assert {p.source for p in bridges.retrieve("When did the Tamsin Bridge open?")} == {"b/bridge.txt"}
    assert {p.source for p in orchards.retrieve("When did the Tamsin Bridge open?")} <= {"o/orchard.txt", "o/comet.txt"}


def test_rename_keeps_articles_index_and_history(two, tmp_path):
    bridges, orchards = two
    data = Path(bridges.settings.data_dir)
    before = {p.source for p in orchards.retrieve("How many apples did the Calder orchard pick?", mode="bm25")}
    old_index = orchards._lexical_dir("orchards")
    assert os.path.isdir(old_index)
    history = History.in_data_dir(data)
    conversation = history.start("me", "apples")
    answer = orchards.ask("How many apples did the Calder orchard pick?")
    history.add_turn(conversation, Turn(answer.question, answer.question, answer), {"collection": "orchards"})
    history.add_turn(conversation, Turn(answer.question, answer.question, answer), {"collection": "bridges"})

    orchards.rename_collection("orchards", "fruit")
    assert orchards.settings.collection == "fruit"  # the assistant follows its collection
    assert [i.name for i in bridges.collections()] == ["bridges", "fruit"]
    assert {i.name: i.articles for i in bridges.collections()}["fruit"] == 2
    assert not os.path.exists(old_index) and os.path.isdir(orchards._lexical_dir("fruit"))
    assert {p.source for p in orchards.retrieve("How many apples did the Calder orchard pick?", mode="bm25")} == before
    assert [t.options["collection"] for t in history.load(conversation, "me").turns] == ["fruit", "bridges"]
    from assistant import Assistant

    with Assistant(data_dir=data, collection="fruit") as reopened:  # a new assistant finds it under the new name
        assert reopened.info()["articles"] == 2


def test_rename_and_delete_refuse_what_would_lose_data(two):
    bridges, _ = two
    with pytest.raises(InputError, match="exists already"):
        bridges.rename_collection("orchards", "bridges")
    with pytest.raises(InputError, match="no collection named 'nothing'.*bridges, orchards"):
        bridges.delete_collection("nothing")
    with pytest.raises(InputError, match="cannot name a collection"):
        bridges.rename_collection("orchards", "bad name")
    with pytest.raises(InputError, match="exists already"):
        bridges.create_collection("orchards")
    assert {i.name: i.articles for i in bridges.collections()} == {"bridges": 1, "orchards": 2}


def test_create_then_delete(two):
    bridges, _ = two
    created = bridges.create_collection("empty-one")
    assert (created.articles, created.chunks, created.embedding_model) == (0, 0, "(none yet)")
    index = bridges._lexical_dir("orchards")
    bridges.delete_collection("orchards")
    assert [i.name for i in bridges.collections()] == ["bridges", "empty-one"]
    assert not os.path.exists(index)


# ---- the command line ---------------------------------------------------------------------------------------


def test_collections_commands(tmp_path, embedder):
    data = str(tmp_path / "data")
    run = CliRunner().invoke
    folder = write_folder(tmp_path / "b", {"bridge.txt": BRIDGE})
    added = run(main, ["ingest", str(folder), "--collection", "bridges", "--data-dir", data])  # global options after
    assert added.exit_code == 0, added.output
    assert run(main, ["--data-dir", data, "collections", "create", "fresh"]).exit_code == 0

    listed = run(main, ["--data-dir", data, "--collection", "bridges", "collections"])
    assert listed.exit_code == 0, listed.output
    rows = {line.split()[1] if line.startswith("*") else line.split()[0]: line for line in listed.output.splitlines()}
    assert (
        "1" in rows["bridges"].split()
        and "2021-03-04 to 2021-03-04" in rows["bridges"]
        and rows["bridges"].startswith("*")
    )
    assert "all-MiniLM-L6-v2" in rows["bridges"] and "(none yet)" in rows["fresh"]
    as_json = json.loads(run(main, ["--data-dir", data, "collections", "list", "--json"]).output)
    assert [(c["name"], c["articles"]) for c in as_json] == [("bridges", 1), ("fresh", 0)]

    renamed = run(main, ["--data-dir", data, "collections", "rename", "bridges", "spans"])
    assert renamed.exit_code == 0 and "renamed collection bridges to spans" in renamed.output
    info = run(main, ["--data-dir", data, "--collection", "spans", "info", "--json"])
    assert json.loads(info.output)["articles"] == 1

    kept = run(main, ["--data-dir", data, "collections", "delete", "spans"], input="n\n")
    assert kept.exit_code == 1 and "Delete collection spans (1 articles" in kept.output
    assert "spans" in run(main, ["--data-dir", data, "collections"]).output
    gone = run(main, ["--data-dir", data, "collections", "delete", "spans", "--yes"])
    assert gone.exit_code == 0 and "deleted collection spans" in gone.output
    missing = run(main, ["--data-dir", data, "collections", "delete", "spans", "--yes"])
    assert (
        missing.exit_code == 1 and "no collection named 'spans'" in missing.stderr and "Traceback" not in missing.output
    )
    bad = run(main, ["--data-dir", data, "collections", "create", "a/b"])
    assert bad.exit_code == 1 and "letters, digits" in bad.stderr


# ---- uploads: files and zips ----------------------------------------------------------------------------------


def _zip(path: Path, entries: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in entries.items():
            zipped.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zipped.writestr(info, target)
    return path


def test_a_zip_cannot_write_outside_its_folder(tmp_path):
    archive = _zip(tmp_path / "news.zip", {
        "news/good.txt": BRIDGE.encode(),
        "news/../../evil.txt": b"escaped",
        "/abs/evil.txt": b"absolute",
        "news/inner.zip": b"PK\x05\x06" + b"\x00" * 18,
        "news/tool.exe": b"MZ",
        "news/bomb.txt": b"0" * 300_000,  # unpacks past max_file_bytes below, from a few hundred bytes
    }, links={"news/link.txt": "/etc/passwd"})
    dest = tmp_path / "staged" / "uploads"
    dest.mkdir(parents=True)
    rejected = dict(extract_zip(archive, dest, max_file_bytes=100_000))
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["news.zip", "staged/uploads/news/good.txt"], files  # one folder: it unpacks as that folder
    assert "climbs out" in rejected["news.zip: news/../../evil.txt"]
    assert "absolute path" in rejected["news.zip: /abs/evil.txt"]
    assert "symbolic link" in rejected["news.zip: news/link.txt"]
    assert "inside the archive" in rejected["news.zip: news/inner.zip"]
    assert "not an article file" in rejected["news.zip: news/tool.exe"]
    assert "max_file_bytes" in rejected["news.zip: news/bomb.txt"]


def test_a_zip_lying_about_sizes_and_counts_is_bounded(tmp_path):
    archive = _zip(tmp_path / "many.zip", {f"n{i}.txt": b"x" * 50 for i in range(12)})
    dest = tmp_path / "out"
    dest.mkdir()
    assert "at most 10" in extract_zip(archive, dest, 1000, max_entries=10)[0][1]
    assert not any(dest.iterdir())
    rejected = extract_zip(archive, dest, 1000, max_total=200)  # loose files: unpacked into a folder named after it
    assert len(list((dest / "many").iterdir())) == 4 and len(rejected) == 8
    assert all("size limit" in why or "more than 200 bytes" in why for _, why in rejected)

    lying = tmp_path / "lying.zip"  # the header claims 10 bytes; the data is 5,000
    _zip(lying, {"big.txt": b"y" * 5000})
    raw = bytearray(lying.read_bytes())
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 24:central + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    lying.write_bytes(bytes(raw))
    out = tmp_path / "lied"
    out.mkdir()
    rejected = extract_zip(lying, out, max_file_bytes=1000)
    assert rejected and not any(p.is_file() for p in out.rglob("*")), rejected


def test_not_a_zip_and_loose_files(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    loose = write_folder(tmp_path / "loose", {"a.txt": BRIDGE, "b.pdf": "%PDF", "sub/a.txt": ORCHARD})
    dest = tmp_path / "uploads"
    dest.mkdir()
    rejected = dict(stage([broken, loose / "a.txt", loose / "b.pdf", loose / "sub" / "a.txt"], dest, 100_000))
    assert "not a readable .zip" in rejected["broken.zip"] and "not an article file" in rejected["b.pdf"]
    assert sorted(p.name for p in dest.iterdir()) == ["a-2.txt", "a.txt"]  # two uploads of one name both kept


def test_uploads_are_ingested_and_reported(make_assistant, tmp_path, monkeypatch):
    import tempfile

    staging = tmp_path / "tmp"
    staging.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(staging))
    assistant = make_assistant(tmp_path / "data", collection="uploads-test")
    archive = _zip(tmp_path / "folder.zip", {"folder/orchard.txt": ORCHARD.encode(), "folder/comet.txt": COMET.encode(),
                                             "folder/bad.json": b"{not json", "../evil.txt": b"x"})
    loose = write_folder(tmp_path / "loose", {"bridge.txt": BRIDGE})
    seen = []
    summary = ingest_uploads(assistant, [archive, loose / "bridge.txt"], progress=lambda n, total, s: seen.append(s))
    assert sorted(summary.added) == ["uploads/bridge.txt", "uploads/folder/comet.txt", "uploads/folder/orchard.txt"]
    assert [s for s, _ in summary.failed] == ["uploads/folder/bad.json"]
    assert [s for s, _ in summary.not_read] == ["folder.zip: ../evil.txt"]
    assert len(seen) == 4 and assistant.info()["articles"] == 3
    assert not list(staging.glob("assistant-upload-*"))  # the staging folder is gone

    again = ingest_uploads(assistant, [loose / "bridge.txt"])
    assert again.unchanged == ["uploads/bridge.txt"] and not again.added


# ---- the embedded store held by another process ------------------------------------------------------------


def test_store_in_use_says_how_to_add_files(tmp_path):
    from filelock import FileLock

    from assistant import Assistant

    data = tmp_path / "data"
    data.mkdir()
    holder = FileLock(str(data / "store.lock"))  # flock on its own descriptor: as another process would hold it
    holder.acquire()
    try:
        with pytest.raises(StoreInUseError) as busy:
            Assistant(data_dir=data).collections()
    finally:
        holder.release()
    message = str(busy.value)
    assert "upload them in the page" in message and "--chroma-url" in message and "chroma run --path" in message
