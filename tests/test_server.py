"""Chroma server mode, with a real `chroma run` server: Python API, CLI, the UI and a CLI ingest at the same time,
the BM25 side following writes made by another client, the loopback rule, and embedded mode's one-process lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.core.errors import ConfigError
from assistant.storage.chroma_client import LOCK_WAIT_SECONDS

from conftest import LAVROV_Q, SEED_SOURCE, SEEDS, free_port, stop_process

pytestmark = [pytest.mark.server, pytest.mark.slow]

BIN = Path(sys.executable).parent
SERVER_START_SECONDS = 90
# How long a second process on a held embedded store may take to refuse. The refusal itself comes after
# LOCK_WAIT_SECONDS (3 s) of waiting for the lock; the rest is the command's start (imports, the embedding model),
# which a loaded machine can stretch well past 10 s. A process that waited for the holder instead would never finish:
# the holder keeps the lock until the test has the refusal.
REFUSAL_TIMEOUT_SECONDS = 180

LIBRARY_ARTICLE = """Title: Port Ellery opens a floating library on an old ferry
date 2022-03-10

The coastal town of Port Ellery opened a floating library on a converted car ferry on Saturday.

The library holds 12,000 books and was paid for by the town's fishing cooperative, mayor Ines Varga said.

Children from the island school will visit it every Friday, she added.
"""
LIBRARY_Q = "How many books does the Port Ellery floating library hold?"
LIBRARY_SOURCE = "extra/ellery.txt"


def heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real Chroma server on a free loopback port, with its store in a temp dir; stopped by pid at the end."""
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = root / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(BIN / "chroma"), "run", "--path", str(root / "db"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not heartbeat(url):
            if process.poll() is not None:
                pytest.fail(f"chroma run exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no heartbeat from {url} after {SERVER_START_SECONDS}s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        stop_process(process)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _wait_for_text(process: subprocess.Popen, log_path: Path, marker: str, timeout: float) -> None:
    """Wait until the process's log holds `marker`; fail with the log when it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in log_path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.5)
    pytest.fail(
        f"no {marker!r} from {process.args} (exit {process.poll()}):\n{log_path.read_text(errors='replace')[-4000:]}"
    )


# ---- the Python API and the CLI against the server -------------------------------------------------------


def test_ingest_and_ask_against_the_server(chroma_server, make_assistant, tmp_path):
    assistant = make_assistant(tmp_path / "data", chroma_url=chroma_server, collection="api-seeds")
    summary = assistant.ingest(SEEDS)
    assert summary.added == [SEED_SOURCE], summary.describe()
    answer = assistant.ask(LAVROV_Q)
    assert "April 2021" in answer.text
    assert answer.citations[0].source == SEED_SOURCE
    info = assistant.info()
    assert info["store"] == f"Chroma server {chroma_server}" and info["chunks"] > 0
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded was opened
    again = assistant.ingest(SEEDS)
    assert again.unchanged == [SEED_SOURCE] and again.chunks_added == 0


def test_cli_ingest_and_ask_with_chroma_url(chroma_server, tmp_path, monkeypatch, embedder):
    monkeypatch.setenv("ASSISTANT_COLLECTION", "cli-seeds")
    data = str(tmp_path / "data")
    runner = CliRunner()
    ingested = runner.invoke(main, ["--chroma-url", chroma_server, "--data-dir", data, "ingest", str(SEEDS), "--json"])
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)["added"] == [SEED_SOURCE]
    info = runner.invoke(main, ["--chroma-url", chroma_server, "--data-dir", data, "info", "--json"])
    assert info.exit_code == 0, info.output
    assert json.loads(info.stdout)["store"] == f"Chroma server {chroma_server}"
    asked = runner.invoke(main, ["--chroma-url", chroma_server, "--data-dir", data, "ask", LAVROV_Q, "--json"])
    assert asked.exit_code == 0, asked.output
    assert "April 2021" in json.loads(asked.stdout)["text"]


def test_bm25_follows_writes_made_by_another_client(chroma_server, make_assistant, tmp_path):
    """A reader's BM25 index is rebuilt when another client (here another Assistant, as a CLI would be) changes the
    store."""
    reader = make_assistant(tmp_path / "reader", chroma_url=chroma_server, collection="bm25-follow")
    writer = make_assistant(tmp_path / "writer", chroma_url=chroma_server, collection="bm25-follow")
    writer.ingest(SEEDS)
    assert reader.retrieve(LAVROV_Q, mode="bm25")
    builds = reader.lexical.builds
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "ellery.txt").write_text(LIBRARY_ARTICLE, encoding="utf-8")
    writer.ingest(extra)
    found = reader.retrieve("Port Ellery floating library books", mode="bm25")
    assert found and found[0].source == LIBRARY_SOURCE
    assert reader.lexical.builds == builds + 1
    assert reader.lexical.last_build["chunks"] == writer.store.count()
    assert reader.lexical.build_seconds > 0
    assert reader.retrieve(LAVROV_Q, mode="bm25")  # unchanged revision: no rebuild
    assert reader.lexical.builds == builds + 1


def test_ui_and_cli_ingest_at_the_same_time(chroma_server, tmp_path, make_assistant):
    """The UI serves questions while a CLI ingest writes to the same server; then it answers from the new article."""
    from gradio_client import Client

    # a store on a Chroma server is never the default one: the seeds go in by an ingest, not by the UI
    assert make_assistant(tmp_path / "seeding", chroma_url=chroma_server, collection="ui-live").ingest(SEEDS).added == [
        SEED_SOURCE
    ]
    env = _env(ASSISTANT_COLLECTION="ui-live", ASSISTANT_DATA_DIR=str(tmp_path / "ui-data"))
    port = free_port()
    ui_log = tmp_path / "ui.log"
    with open(ui_log, "w") as log:  # a file, not a pipe: an INFO log that nobody reads must not block the UI
        ui = subprocess.Popen(
            [str(BIN / "assistant"), "--chroma-url", chroma_server, "--log-level", "INFO", "ui", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    ingest = None
    try:
        _wait_for_text(ui, ui_log, "Chat at ", timeout=240)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        first = client.predict(LAVROV_Q, api_name="/ask")
        assert "April 2021" in first["text"]

        extra = tmp_path / "extra"
        extra.mkdir()
        (extra / "ellery.txt").write_text(LIBRARY_ARTICLE, encoding="utf-8")
        ingest_env = _env(ASSISTANT_COLLECTION="ui-live", ASSISTANT_DATA_DIR=str(tmp_path / "cli-data"))
        ingest = subprocess.Popen(
            [str(BIN / "assistant"), "--chroma-url", chroma_server, "ingest", str(extra), "--json"],
            cwd=tmp_path,
            env=ingest_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        during = 0
        while ingest.poll() is None:  # the UI keeps answering while the other process writes
            answer = client.predict(LAVROV_Q, api_name="/ask")
            assert "April 2021" in answer["text"]
            during += 1
        out, err = ingest.communicate(timeout=60)
        assert ingest.returncode == 0, err
        assert json.loads(out)["added"] == [LIBRARY_SOURCE]
        assert during >= 1

        answer = client.predict(LIBRARY_Q, api_name="/ask")
        assert "12,000" in answer["text"], answer["text"]
        assert answer["citations"][0]["source"] == LIBRARY_SOURCE
        lines = ui_log.read_text(errors="replace").splitlines()
        builds = [line for line in lines if "BM25 index over" in line and "built in" in line]
        assert len(builds) >= 2, "\n".join(lines)[-3000:]  # built for the seeds, rebuilt after the CLI's ingest
    finally:
        if ingest is not None:
            stop_process(ingest)
        stop_process(ui)


# ---- safety rules ----------------------------------------------------------------------------------------


def test_a_remote_chroma_url_is_refused_with_the_reason(make_assistant, tmp_path):
    # 192.0.2.0/24 is reserved for documentation: it is refused before any connection is tried.
    assistant = make_assistant(tmp_path / "data", chroma_url="http://192.0.2.10:8000")
    with pytest.raises(ConfigError) as refused:
        assistant.store  # noqa: B018 (opening the store is what raises)
    message = str(refused.value)
    assert "not on this machine" in message and "no authentication" in message and "allow_remote_chroma" in message
    result = CliRunner().invoke(main, ["--chroma-url", "http://192.0.2.10:8000", "info"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no authentication" in result.stderr


def test_a_second_process_on_the_embedded_store_gets_store_in_use_quickly(make_assistant, tmp_path):
    """While this process holds the embedded store, another one is refused after its short lock wait, with the way
    out (a Chroma server) and no traceback, rather than waiting for the store to be let go."""
    data = tmp_path / "data"
    holder = make_assistant(data)
    holder.store  # noqa: B018 (this process now holds the embedded store's lock)
    second = subprocess.Popen([str(BIN / "assistant"), "--data-dir", str(data), "ingest", str(SEEDS)], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    started = time.monotonic()
    try:
        out, err = second.communicate(timeout=REFUSAL_TIMEOUT_SECONDS)  # returns as soon as it exits
    except subprocess.TimeoutExpired:
        stop_process(second)
        out, err = second.communicate()
        pytest.fail(f"no refusal after {REFUSAL_TIMEOUT_SECONDS}s while the store was held: the second process waits "
                    f"for the lock instead of refusing.\nstdout: {out[-2000:]}\nstderr: {err[-2000:]}")
    elapsed = time.monotonic() - started
    assert second.returncode == 1, f"exit {second.returncode} after {elapsed:.1f}s\n{out}{err}"
    assert "in use by another process" in err and "Chroma server" in err, err
    assert "Traceback" not in err
    assert LOCK_WAIT_SECONDS <= 10  # what the refusal waits for; the rest of `elapsed` is the command's start
    holder.close()  # and once released, the same command works
    after = subprocess.run(
        [str(BIN / "assistant"), "--data-dir", str(data), "ingest", str(SEEDS), "--json"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert after.returncode == 0, after.stderr
