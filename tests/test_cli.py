"""The `assistant` command, in process with CliRunner and once as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant import Answer, Citation
from assistant.cli import main

from conftest import LAVROV_Q, SEED_SOURCE, stop_process


def _run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory):
    """XDG_DATA_HOME of the CLI tests: the default store (no --data-dir, no ASSISTANT_DATA_DIR) lives under it."""
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def cli_data(cli_home):
    """The default store's data dir; the first `ask` fills it with the bundled seeds (later tests name it)."""
    return str(cli_home / "news-assistant")


@pytest.fixture(scope="module")
def first_ask(cli_home, embedder):
    """`ask` with no store named: the default store, empty, gets the seeds first."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ASSISTANT_DATA_DIR", raising=False)
        mp.setenv("XDG_DATA_HOME", str(cli_home))
        return _run("ask", LAVROV_Q)


def test_ask_on_empty_default_store_ingests_seeds_and_answers(first_ask, cli_data):
    assert first_ask.exit_code == 0, first_ask.output
    out = first_ask.stdout
    assert out.startswith("April 2021.")
    assert "Lavrov visited Islamabad" in out
    assert f"— {SEED_SOURCE}" in out
    assert "(2021-09-14)" in out
    assert "[1]" in out
    assert os.path.isdir(os.path.join(cli_data, "chroma"))


def test_ask_json_matches_answer_fields(first_ask, cli_data, seeded):
    result = _run("--data-dir", cli_data, "ask", LAVROV_Q, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {f.name for f in fields(Answer)}
    assert data["refused"] is False and data["short_answer"] == "April 2021"
    assert set(data["citations"][0]) == {f.name for f in fields(Citation)}
    expected = seeded.ask(LAVROV_Q).to_dict()  # same seeds, same model: the API gives the same answer
    assert data["confidence"] == pytest.approx(expected.pop("confidence"), abs=1e-3)
    data.pop("confidence")
    assert data == expected


def test_ask_refusal_and_filters(first_ask, cli_data):
    refused = _run("--data-dir", cli_data, "ask", "Who won the 2021 Pakistani general election?", "--json")
    assert refused.exit_code == 0
    data = json.loads(refused.stdout)
    assert data["refused"] is True and data["citations"] == []
    filtered = _run("--data-dir", cli_data, "ask", LAVROV_Q, "--from", "2022-01-01", "--json")
    assert json.loads(filtered.stdout)["refused"] is True
    bad_date = _run("--data-dir", cli_data, "ask", LAVROV_Q, "--from", "yesterday")
    assert bad_date.exit_code == 2
    assert "YYYY-MM-DD" in bad_date.output


def test_info(first_ask, cli_data):
    result = _run("--data-dir", cli_data, "info")
    assert result.exit_code == 0, result.output
    assert "articles:  1 (0 duplicate files stored once)" in result.stdout
    assert "dates:     2021-09-14 to 2021-09-14" in result.stdout
    assert "sentence-transformers/all-MiniLM-L6-v2 (384 dimensions)" in result.stdout
    stats = json.loads(_run("--data-dir", cli_data, "info", "--json").stdout)
    assert stats["articles"] == 1 and stats["chunks"] >= 3
    assert stats["store"].startswith("embedded store ") and stats["store"].endswith(os.path.join(cli_data, "chroma"))


def test_ingest_then_again_is_unchanged(tmp_path, embedder):
    news = tmp_path / "news"
    news.mkdir()
    (news / "a.txt").write_text(
        "date 2022-03-01\n\nCheese festival\n\nThe Gouda cheese festival drew 40,000 visitors.\n"
    )
    data = str(tmp_path / "data")
    first = _run("--data-dir", data, "ingest", str(news))
    assert first.exit_code == 0, first.output
    assert "added 1, updated 0, unchanged 0" in first.stdout
    again = _run("--data-dir", data, "ingest", str(news), "--json")
    assert again.exit_code == 0
    summary = json.loads(again.stdout)
    assert summary["unchanged"] == ["news/a.txt"] and summary["chunks_added"] == 0
    text = _run("--data-dir", data, "ingest", str(news))
    assert "unchanged 1" in text.stdout and "0 chunks written" in text.stdout


def test_ingest_missing_path_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), "ingest", "/nonexistent"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("Error: /nonexistent does not exist")
    assert result.stdout == ""


def test_store_in_use_is_an_error_not_a_traceback(tmp_path, monkeypatch):
    """Another process holds the store (Assistants of one process share it): one line, no traceback."""
    import sys

    monkeypatch.setattr("assistant.storage.chroma_client.LOCK_WAIT_SECONDS", 0.2)
    data = tmp_path / "data"
    data.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from filelock import FileLock; "
            "lock = FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True); time.sleep(60)",
            str(data / "store.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(main, ["--data-dir", str(data), "info"])
    finally:
        stop_process(holder)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: The store in ")


def test_bad_config_is_a_one_line_error(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[assistant]\nk = 'many'\n")
    result = CliRunner().invoke(main, ["--config", str(config), "info"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.strip().startswith("Error: Setting k has an invalid value 'many'")


def test_settings_lists_every_setting():
    result = _run("settings")
    assert result.exit_code == 0
    assert "data_dir (env ASSISTANT_DATA_DIR" in result.stdout
    assert "chunk_tokens (env ASSISTANT_CHUNK_TOKENS, default 160)" in result.stdout
    assert "k (env ASSISTANT_K, default 8)" in result.stdout


def test_version_and_help():
    assert _run("--version").exit_code == 0
    help_text = _run("--help").stdout
    for command in ("ask", "ingest", "info", "eval", "settings"):
        assert command in help_text


@pytest.mark.slow
def test_installed_command_in_a_subprocess(tmp_path):
    exe = Path(sys.executable).parent / "assistant"  # the command installed beside the interpreter running the tests
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "XDG_DATA_HOME": str(tmp_path / "xdg")}
    env.pop("ASSISTANT_DATA_DIR", None)  # no store named: the default one, which gets the seeds (as `make ask` does)
    result = subprocess.run(
        [str(exe), "ask", LAVROV_Q], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "April 2021" in result.stdout
    assert "000_9e654aac1be06df7.txt" in result.stdout
    assert "Traceback" not in result.stderr
    assert "DEBUG" not in result.stderr  # libraries that set their own loggers to DEBUG stay at the configured level


def test_global_options_are_accepted_after_the_command(tmp_path):
    from assistant.cli import hoist_global_options

    commands = {"ui", "ask", "info"}
    assert hoist_global_options(["ui", "--data-dir", "D", "--port", "1"], commands) == [
        "--data-dir",
        "D",
        "ui",
        "--port",
        "1",
    ]
    assert hoist_global_options(["ask", "Q", "--debug", "--data-dir=D"], commands) == [
        "--debug",
        "--data-dir=D",
        "ask",
        "Q",
    ]
    assert hoist_global_options(["ask", "--", "--data-dir"], commands) == ["ask", "--", "--data-dir"]
    result = CliRunner().invoke(main, ["info", "--data-dir", str(tmp_path / "d"), "--json"])
    assert result.exit_code == 0, result.output
    assert '"articles": 0' in result.output
