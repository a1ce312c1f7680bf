"""Nothing half-written answers: an article's chunks count only once its source record (the commit mark) is written.

- A write stopped between an article's chunks and its source record (a killed process) leaves chunks that no
  retrieval path returns (dense, BM25, hybrid, the whole-article expansion), and the next ingest removes them.
- The bundled seeds go only into the default store; an empty store the user named is an error, never seeded.
- The slow test kills a real `assistant ingest` (SIGKILL) at ten points spread over its run (measured in the CPU
  time it uses, so a busy machine does not shift them) and checks the store after each kill, then that a
  re-ingest gives the same store as a clean run.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant import Assistant
from assistant.cli import main
from assistant.core.errors import EmptyStoreError
from assistant.core.settings import Settings
from assistant.retrieval.hybrid import HybridRetriever
from assistant.storage.store import ChunkStore

from conftest import LAVROV_Q, SEED_SOURCE

GOUDA = (
    "date 2022-03-01\n\nCheese festival in Gouda\n\nThe Gouda cheese festival drew 40,000 visitors on Saturday, "
    "organisers said. Stalls sold aged cheese from twelve farms.\n"
)
BRIDGE = (
    "date 2022-04-02\n\nBridge reopens\n\nThe Elm Street bridge in Haverford reopened after 18 months of repairs "
    "costing $2.4m, the city council said.\n"
)
DREDGING = (
    "date 2022-05-05\n\nHarbour dredging\n\nDredging of Nordport harbour will start in June and cost 3 million euros, "
    "the port authority said.\n"
)
BBC = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "bbc"


class _Killed(BaseException):
    """Stands for the process dying: nothing after it runs (a BaseException, so no `except Exception` catches it)."""


def _die(*args, **kwargs):
    raise _Killed()


def _folder(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (root / name).write_text(content, encoding="utf-8")
    return root


def _orphans(store: ChunkStore) -> list[str]:
    """Ids of chunks whose article no source record names."""
    committed = {r.article_id for r in store.source_records().values()}
    got = store.chunks.get(include=["metadatas"])
    return [i for i, meta in zip(got["ids"], got["metadatas"]) if meta.get("article_id") not in committed]


def _assert_only_committed(assistant: Assistant, questions: list[str], k: int = 8) -> int:
    """Every passage any retrieval mode returns belongs to an article with a committed source record, and cites
    that record; returns how many passages were checked."""
    records = assistant.store.source_records()
    committed = {r.article_id for r in records.values()}
    checked = 0
    for question in questions:
        for mode in ("hybrid", "dense", "bm25"):
            for passage in assistant.retrieve(question, k, mode=mode):
                assert passage.article_id in committed, (mode, question, passage.source)
                assert passage.source in records and records[passage.source].article_id == passage.article_id, (
                    mode,
                    passage.source,
                )
                checked += 1
    return checked


# ---- the commit mark ---------------------------------------------------------------------------------------


def test_a_write_stopped_before_its_source_records_is_never_retrieved_and_the_next_ingest_removes_it(
        tmp_path, make_assistant, monkeypatch, caplog):
    data = tmp_path / "data"
    with Assistant(data_dir=data) as first:
        first.ingest(_folder(tmp_path / "old", {"gouda.txt": GOUDA}))
        kept_chunks = first.store.count()
    new = _folder(tmp_path / "new", {"bridge.txt": BRIDGE, "dredging.txt": DREDGING})
    with Assistant(data_dir=data) as crashing, monkeypatch.context() as m:
        # the process dies after the chunks were stored, before any source record or the revision move
        m.setattr(ChunkStore, "put_sources", _die)
        m.setattr(ChunkStore, "touch", _die)
        with pytest.raises(_Killed):
            crashing.ingest(new)

    reader = make_assistant(data)
    orphans = _orphans(reader.store)
    assert orphans and reader.store.count() == kept_chunks + len(orphans)
    info = reader.info()
    assert (info["articles"], info["chunks"], info["unfinished_chunks"]) == (1, kept_chunks, len(orphans))
    orphan_texts = [c.text for c in reader.store.chunks_by_ids(orphans)]
    questions = ["Elm Street bridge Haverford repairs", "Nordport harbour dredging cost", *orphan_texts]
    assert _assert_only_committed(reader, questions) > 0
    assert reader.lexical.last_build["chunks"] == kept_chunks + len(orphans)  # BM25 indexed them, and hid them
    bridge = reader.retrieve("Elm Street bridge Haverford repairs", mode="dense")
    assert {p.source for p in bridge} == {"old/gouda.txt"}
    orphan_article = reader.store.get_chunks(orphans[:1])[orphans[0]].metadata["article_id"]
    whole = HybridRetriever(reader.store, reader.embedder, reader.lexical).whole_articles(
        [orphan_article, bridge[0].article_id]
    )
    assert whole and {p.source for p in whole} == {"old/gouda.txt"}  # the reader's expansion to whole articles too
    assert reader.ensure_collection() is None  # not empty: one article is committed

    caplog.set_level(logging.WARNING, logger="ingest.pipeline")
    summary = reader.ingest(new)
    assert summary.orphans_removed == len(orphans)
    assert f"removed {len(orphans)} chunk(s)" in summary.describe()
    assert any(
        r.levelno == logging.WARNING and f"removed {len(orphans)} chunk(s)" in r.getMessage() for r in caplog.records
    )
    assert sorted(summary.added) == ["new/bridge.txt", "new/dredging.txt"]
    assert _orphans(reader.store) == [] and reader.info()["unfinished_chunks"] == 0
    assert reader.retrieve("Elm Street bridge Haverford repairs", k=1)[0].source == "new/bridge.txt"
    again = reader.ingest(new)
    assert again.orphans_removed == 0 and again.unchanged == ["new/bridge.txt", "new/dredging.txt"]


def test_orphans_younger_than_the_grace_are_kept_for_a_writer_that_may_still_be_running(
    tmp_path, make_assistant, monkeypatch
):
    """With a Chroma server another process may be between its two writes: its fresh chunks are left alone."""
    data = tmp_path / "data"
    with Assistant(data_dir=data) as crashing, monkeypatch.context() as m:
        m.setattr(ChunkStore, "put_sources", _die)
        m.setattr(ChunkStore, "touch", _die)
        with pytest.raises(_Killed):
            crashing.ingest(_folder(tmp_path / "new", {"bridge.txt": BRIDGE}))
    store = make_assistant(data).store
    orphans = _orphans(store)
    assert orphans
    assert store.remove_orphans(min_age_seconds=600) == (0, 0)
    assert store.remove_orphans() == (len(orphans), 1)
    assert store.count() == 0


# ---- seeds only into the default store ----------------------------------------------------------------------


def test_an_empty_store_the_user_named_is_an_error_and_gets_no_seeds(tmp_path, make_assistant):
    named = make_assistant(tmp_path / "named")
    assert not named.settings.is_default_store()
    with pytest.raises(EmptyStoreError, match=r"assistant ingest PATH"):
        named.ensure_collection()
    assert named.store.count() == 0
    # ASSISTANT_DATA_DIR names a store too (conftest sets it for every test)
    assert os.environ["ASSISTANT_DATA_DIR"] and not Settings.load().is_default_store()


def test_cli_ask_on_an_empty_named_store_says_to_ingest_first(tmp_path):
    data = str(tmp_path / "named")
    result = CliRunner().invoke(main, ["--data-dir", data, "ask", LAVROV_Q])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: The store in {data} holds no articles yet.")
    assert "assistant ingest PATH" in result.stderr
    info = CliRunner().invoke(main, ["--data-dir", data, "info", "--json"])
    assert info.exit_code == 0 and '"articles": 0' in info.stdout


def test_the_default_store_gets_the_seeds_when_empty(tmp_path, monkeypatch, embedder):
    monkeypatch.delenv("ASSISTANT_DATA_DIR")  # nothing names a store: the default one, under XDG_DATA_HOME (conftest)
    with Assistant() as demo:
        assert demo.settings.is_default_store()
        assert demo.settings.data_dir == str(tmp_path / "xdg" / "news-assistant")
        summary = demo.ensure_collection()
        assert summary is not None and summary.added == [SEED_SOURCE]
        assert demo.ensure_collection() is None
    # the default path given by hand is still the default store; a Chroma server never is
    assert Settings.load(data_dir=str(tmp_path / "xdg" / "news-assistant")).is_default_store()
    assert not Settings.load(chroma_url="http://127.0.0.1:8000").is_default_store()


# ---- kill a real ingest -------------------------------------------------------------------------------------

KILLS = 10
FILES_PER_CATEGORY = 200
CATEGORIES = ("business", "sport")
QUESTIONS = [
    "oil prices and the economy",
    "shares fell after profits",
    "the football club manager",
    "injury before the match",
    "interest rates central bank",
    "Wales rugby Six Nations",
]


def _corpus(root: Path) -> Path:
    if not BBC.is_dir():
        pytest.skip(f"the BBC corpus is not at {BBC}")
    corpus = root / "bbc"
    for category in CATEGORIES:
        (corpus / category).mkdir(parents=True)
        for path in sorted((BBC / category).glob("*.txt"))[:FILES_PER_CATEGORY]:
            shutil.copyfile(path, corpus / category / path.name)
    return corpus


# The `assistant` command, with smaller write waves than its FLUSH_CHUNKS (512): each wave is one chunks-then-records
# write, so a run makes about 90 of them instead of 3 and a kill lands inside one far more often. Nothing else changes
# (chunk ids come from the text, so a clean run gives the same store whatever the wave size).
WAVE_CHUNKS = 16
# `assistant` first: it imports ingest.pipeline itself (importing ingest.pipeline first goes round a cycle)
_RUN_CLI = ("import sys; import assistant; import ingest.pipeline as pipeline; "
            "pipeline.FLUSH_CHUNKS = int(sys.argv.pop(1)); "
            "from assistant.cli import main; sys.argv[0] = 'assistant'; main()")


def _ingest_command(data: Path, corpus: Path) -> list[str]:
    return [sys.executable, "-c", _RUN_CLI, str(WAVE_CHUNKS), "--data-dir", str(data), "ingest", str(corpus)]


def _start(data: Path, corpus: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with open(log, "w") as handle:  # a file, not a pipe: nobody reads it while the process runs
        return subprocess.Popen(_ingest_command(data, corpus), env=env, stdout=handle, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=data.parent)


def _snapshot(store: ChunkStore) -> tuple[dict, dict]:
    """(source -> (file hash, article id, duplicate_of), article id -> sorted chunk ids)."""
    sources = {s: (r.file_hash, r.article_id, r.duplicate_of) for s, r in store.source_records().items()}
    chunks: dict[str, list[str]] = {}
    got = store.chunks.get(include=["metadatas"])
    for chunk_id, meta in zip(got["ids"], got["metadatas"]):
        chunks.setdefault(meta["article_id"], []).append(chunk_id)
    return sources, {a: sorted(ids) for a, ids in chunks.items()}


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _progress(process: subprocess.Popen, started: float) -> float:
    """How far a run has got, in seconds of the CPU time it used (user + system, from /proc), so that the kill points
    fall at the same share of the work however busy the machine is; wall time where there is no /proc."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return time.perf_counter() - started


@pytest.mark.slow
def test_ingest_killed_at_ten_points_never_answers_from_a_half_written_file(tmp_path, embedder):
    corpus = _corpus(tmp_path)
    files = sum(1 for _ in corpus.rglob("*.txt"))

    # a clean run: the reference store, and the run's length (to spread the kills over)
    clean_dir = tmp_path / "clean"
    started = time.perf_counter()
    clean = _start(clean_dir, corpus, tmp_path / "clean.log")
    duration = startup = 0.0  # startup: until the store is opened (imports and model loaded), when writing can begin
    while clean.poll() is None:
        duration = _progress(clean, started)
        if not startup and (clean_dir / "chroma" / "chroma.sqlite3").exists():
            startup = duration
        time.sleep(0.02)
    assert clean.returncode == 0, (tmp_path / "clean.log").read_text()[-3000:]
    wall = time.perf_counter() - started
    with Assistant(data_dir=clean_dir) as reference:
        clean_sources, clean_chunks = _snapshot(reference.store)
    assert len(clean_sources) == files and not any(s.startswith("seeds/") for s in clean_sources)

    # ten kill points, one in each tenth of the run (seeded); every other round goes on from the store the last
    # kill left (its ingest first removes the orphans, then writes, and is killed too, at the same share of the
    # work that was left)
    rng = random.Random(20240607)
    points = [(tenth + rng.random()) / KILLS for tenth in range(KILLS)]
    rng.shuffle(points)
    crash_dir = tmp_path / "crash"
    rounds = []
    for number, point in enumerate(points):
        fresh = number % 2 == 0
        if fresh:
            shutil.rmtree(crash_dir, ignore_errors=True)
            kill_at = point * duration
        else:
            left = 1.0 - rounds[-1]["sources"] / files  # the share of the work the last kill left undone
            kill_at = startup + point * (duration - startup) * left
        log = tmp_path / f"round-{number}.log"
        started = time.perf_counter()
        process = _start(crash_dir, corpus, log)
        while process.poll() is None:
            if _progress(process, started) >= kill_at:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
        returncode = process.wait(timeout=60)

        with Assistant(data_dir=crash_dir) as reader:
            store = reader.store
            sources, chunks = _snapshot(store)
            orphans = _orphans(store)
            committed = {article for _, article, _ in sources.values()}
            # whole: every committed article has all the chunks a clean run gives it; and nothing from the seeds
            for article in committed:
                assert chunks.get(article) == clean_chunks[article], f"round {number}: article {article} is not whole"
            assert not any(s.startswith("seeds/") for s in sources)
            # invisible: no retrieval path returns a chunk without a committed source record, even asked
            # with its own text
            questions = QUESTIONS + [c.text for c in store.chunks_by_ids(orphans[:4])]
            passages = _assert_only_committed(reader, questions) if committed else 0
            if not committed:
                assert all(not reader.retrieve(q, mode=mode) for q in questions for mode in ("hybrid", "dense", "bm25"))
            removed_line = next((line for line in log.read_text(errors="replace").splitlines() if "removed " in line
                                 and "chunk(s)" in line), "")
        rounds.append(
            {
                "round": number,
                "fresh": fresh,
                "kill_at": round(kill_at, 1),
                "killed": returncode == -signal.SIGKILL,
                "sources": len(sources),
                "chunks": sum(len(c) for c in chunks.values()),
                "orphans": len(orphans),
                "passages_checked": passages,
                "cleanup_logged": removed_line.strip()[:120],
            }
        )

    # the last kill's store, ingested again to the end, equals the clean run's (and the orphans went first)
    with Assistant(data_dir=crash_dir) as final:
        summary = final.ingest(corpus)
        assert summary.orphans_removed == rounds[-1]["orphans"]
        assert not summary.failed, summary.describe()
        assert _snapshot(final.store) == (clean_sources, clean_chunks)
        assert _orphans(final.store) == []
        assert final.ensure_collection() is None  # a named store that holds articles: no seeds come in
        assert not any(s.startswith("seeds/") for s in final.store.source_records())

    report = "\n".join(str(r) for r in rounds)
    print(
        f"\nclean run: {files} files, {duration:.1f}s of CPU (store open after {startup:.1f}s), {wall:.1f}s "
        f"wall\n{report}"
    )
    assert sum(r["killed"] for r in rounds) >= KILLS // 2, report  # most points fell inside a run
    assert any(0 < r["sources"] < files for r in rounds), report  # some kill landed mid-ingest
