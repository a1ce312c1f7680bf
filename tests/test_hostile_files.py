"""Hostile files: ingest reads only what it was pointed at, stays linear on huge inputs, reads HTML as browsers
do, decodes damaged text sensibly, and reports every file or folder it passes over, with the reason.

Every case is generated here in tmp_path (nothing large is committed). Each test first stores a small good
article, then ingests the hostile files into the same store (a real Chroma, the real embedding model), and
checks the good article still answers afterwards.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.core.settings import Settings
from assistant.text.sentences import split_sentences
from assistant.text.tokens import count_tokens
from benchmarks.worst_cases import HARBOUR, nested_divs, news_prose
from ingest.chunking import Chunker
from ingest.html_text import visible_text

from conftest import write_folder as _folder

GOUDA = ("date 2022-03-01\n\nCheese festival in Gouda\n\nThe Gouda cheese festival drew 40,000 visitors on Saturday, "
         "organisers said. Stalls sold aged cheese from twelve farms.\n")
SECRET = "root:x:0:0:root:/root:/bin/bash\nThe vault code of the Haverford bank is 4417, the manager said.\n"
SECONDS_LIMIT = 30


@pytest.fixture
def assistant(tmp_path, make_assistant):
    """Assistant(data_dir=tmp_path / "data") holding one good article, good/gouda.txt."""
    good = tmp_path / "good"
    good.mkdir()
    (good / "gouda.txt").write_text(GOUDA, encoding="utf-8")
    made = make_assistant()
    assert made.ingest(good).added == ["good/gouda.txt"]
    return made


def _good_article_still_answers(assistant) -> None:
    passages = assistant.retrieve("How many visitors did the Gouda cheese festival draw?", k=1)
    assert passages and passages[0].source == "good/gouda.txt", passages
    assert "40,000 visitors" in passages[0].text


def _ingest(assistant, path: Path, **settings):
    """Ingest with some settings changed: a second Assistant on the same store (they share it) and model."""
    with Assistant(settings=assistant.settings, **settings) as other:
        return other.ingest(path)


def _stored_text(assistant) -> str:
    return "\n".join(chunk.text for chunk in assistant.store.all_chunks())


def _within_budget_or_reported(summary, source: str) -> None:
    """The file was stored, or skipped by the time budget with that reason; nothing in between."""
    reasons = dict(summary.failed)
    if source in reasons:
        assert "time budget" in reasons[source], reasons[source]
        assert source not in summary.added
    else:
        assert source in summary.added, summary.describe()


# ---- symbolic links: only what ingest was pointed at -----------------------------------------------------


def test_symlinked_file_outside_the_root_is_not_read(tmp_path, assistant):
    outside = _folder(tmp_path / "elsewhere", {"passwd": SECRET})  # stands in for /etc/passwd
    news = _folder(tmp_path / "news", {"harbour.txt": HARBOUR})
    (news / "passwd.txt").symlink_to(outside / "passwd")
    summary = assistant.ingest(news)
    assert summary.added == ["news/harbour.txt"]
    reasons = dict(summary.not_read)
    assert (
        "outside the ingested folder" in reasons["news/passwd.txt"] and "follow_symlinks" in reasons["news/passwd.txt"]
    )
    assert "news/passwd.txt" in summary.describe()
    assert "vault code" not in _stored_text(assistant) and "root:x:0:0" not in _stored_text(assistant)
    _good_article_still_answers(assistant)


def test_symlinked_folder_outside_the_root_is_not_read(tmp_path, assistant):
    outside = _folder(tmp_path / "elsewhere", {"vault.txt": SECRET, "deeper/more.txt": SECRET})
    news = _folder(tmp_path / "news", {"harbour.txt": HARBOUR})
    (news / "archive").symlink_to(outside, target_is_directory=True)
    summary = assistant.ingest(news)
    assert summary.added == ["news/harbour.txt"]
    assert [path for path, _ in summary.not_read] == ["news/archive"]
    assert "symbolic link to a folder outside the ingested folder" in summary.not_read[0][1]
    assert "vault code" not in _stored_text(assistant)
    _good_article_still_answers(assistant)


def test_links_inside_the_root_and_broken_links(tmp_path, assistant):
    news = _folder(tmp_path / "news", {"harbour.txt": HARBOUR, "sub/bridge.txt": "The Elm Street bridge reopened."})
    (news / "latest.txt").symlink_to(news / "harbour.txt")  # inside the root: read (and stored once, as a duplicate)
    (news / "again").symlink_to(news / "sub", target_is_directory=True)  # inside: read where it is, not twice
    (news / "gone.txt").symlink_to(tmp_path / "missing.txt")
    (news / "loop").symlink_to(news, target_is_directory=True)
    summary = assistant.ingest(news)
    assert summary.added == ["news/harbour.txt", "news/latest.txt", "news/sub/bridge.txt"]
    assert summary.duplicates == [("news/latest.txt", "news/harbour.txt")]
    reasons = dict(summary.not_read)
    assert sorted(reasons) == ["news/again", "news/gone.txt", "news/loop"]
    assert "broken symbolic link" in reasons["news/gone.txt"]
    assert "read where they are" in reasons["news/again"]
    _good_article_still_answers(assistant)


def test_follow_symlinks_is_an_opt_in(tmp_path, assistant):
    outside = _folder(tmp_path / "elsewhere", {"passwd": SECRET, "dir/vault.txt": "The Nordby vault opened at dawn."})
    news = _folder(tmp_path / "news", {"harbour.txt": HARBOUR})
    (news / "passwd.txt").symlink_to(outside / "passwd")
    (news / "archive").symlink_to(outside / "dir", target_is_directory=True)
    (outside / "dir" / "back").symlink_to(news, target_is_directory=True)  # a loop back into the root
    summary = _ingest(assistant, news, follow_symlinks=True)
    assert summary.added == ["news/archive/vault.txt", "news/harbour.txt", "news/passwd.txt"]
    assert [path for path, _ in summary.not_read] == ["news/archive/back"]
    assert "already read" in summary.not_read[0][1]
    assert "vault code of the Haverford bank" in _stored_text(assistant)
    _good_article_still_answers(assistant)


def test_follow_symlinks_setting_and_flag_are_documented():
    help_text = dict((name, text) for name, _, text in Settings.documentation())
    assert Settings().follow_symlinks is False and "outside" in help_text["follow_symlinks"]
    assert Settings().file_time_budget_seconds > 0 and "skipped" in help_text["file_time_budget_seconds"]
    assert Settings.load(follow_symlinks="yes").follow_symlinks is True
    from click.testing import CliRunner

    from assistant.cli import main

    assert "--follow-symlinks" in CliRunner().invoke(main, ["ingest", "--help"]).output


def test_cli_follow_symlinks_flag_reads_the_link(tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    outside = _folder(tmp_path / "elsewhere", {"passwd": SECRET})
    news = _folder(tmp_path / "news", {"harbour.txt": HARBOUR})
    (news / "passwd.txt").symlink_to(outside / "passwd")
    result = CliRunner().invoke(
        main, ["--data-dir", str(tmp_path / "data"), "ingest", str(news), "--follow-symlinks", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "news/passwd.txt" in json.loads(result.stdout)["added"]


def test_special_files_are_reported_not_read(tmp_path, assistant):
    news = _folder(tmp_path / "news", {"harbour.txt": HARBOUR})
    os.mkfifo(news / "pipe.txt")  # reading a FIFO would block the run for ever
    summary = assistant.ingest(news)
    assert summary.added == ["news/harbour.txt"]
    assert dict(summary.not_read)["news/pipe.txt"].startswith("not a regular file")
    _good_article_still_answers(assistant)


def test_unreadable_folder_is_reported_and_its_stored_articles_kept(tmp_path, assistant, monkeypatch):
    news = _folder(
        tmp_path / "news", {"harbour.txt": HARBOUR, "locked/bridge.txt": "The Elm Street bridge in Haverford reopened."}
    )
    assert assistant.ingest(news).added == ["news/harbour.txt", "news/locked/bridge.txt"]
    locked = news / "locked"
    locked.chmod(0)
    try:
        if os.geteuid() == 0:
            # Tests run as root here, and root lists a chmod 000 folder anyway: simulate the refusal by making
            # os.scandir raise, as it does for anyone else, for this one folder only.
            import ingest.discover

            real_scandir = os.scandir

            def scandir(path="."):
                if Path(path) == locked:
                    raise PermissionError(13, "Permission denied", str(path))
                return real_scandir(path)

            monkeypatch.setattr(ingest.discover.os, "scandir", scandir)
        summary = assistant.ingest(news, sync=True)
    finally:
        locked.chmod(0o755)
    assert dict(summary.not_read) == {
        "news/locked": "cannot list this folder: Permission denied; its files were not read"
    }
    assert summary.deleted == []  # a folder that cannot be listed is not a folder whose files are gone
    assert {r.source for r in assistant.store.source_records().values()} >= {"news/locked/bridge.txt"}
    _good_article_still_answers(assistant)


# ---- size: linear time, and a time budget per file -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name, size, paragraphs", [("prose.txt", 2_000_000, True), ("one-line.txt", 4_900_000, False)])
def test_huge_file_ingests_or_is_skipped_by_its_budget_within_30s(tmp_path, assistant, name, size, paragraphs):
    text = news_prose(size, seed=size, paragraphs=paragraphs)
    assert paragraphs or "\n" not in text
    news = _folder(tmp_path / "news", {name: "Huge report\n\n" + text, "zz-small.txt": HARBOUR})
    started = time.perf_counter()
    summary = _ingest(assistant, news, file_time_budget_seconds=15)
    elapsed = time.perf_counter() - started
    assert elapsed < SECONDS_LIMIT, f"{elapsed:.1f} s: {summary.describe()}"
    _within_budget_or_reported(summary, f"news/{name}")
    assert "news/zz-small.txt" in summary.added  # the run went on after the big file
    _good_article_still_answers(assistant)


@pytest.mark.slow
def test_splitting_and_chunking_are_linear_on_odd_shapes(embedder):
    """Shapes that made the splitter or chunker quadratic: a long run of punctuation, one word, tiny sentences."""
    chunker = Chunker(count_tokens, embedder.count_tokens, embedder.max_tokens)
    for text in ("!" * 100_000, "x" * 300_000, "Yes. " * 30_000):
        started = time.perf_counter()
        chunks = chunker.chunk(text)
        assert time.perf_counter() - started < SECONDS_LIMIT
        assert chunks[-1].end == len(text.rstrip())
    started = time.perf_counter()
    assert len(split_sentences("." * 2_000_000 + "x")) == 1  # one run of punctuation: tried once, not at every dot
    assert time.perf_counter() - started < 5


def test_over_budget_file_is_reported_and_the_run_goes_on(tmp_path, assistant, monkeypatch):
    import ingest.pipeline

    news = _folder(
        tmp_path / "news", {"a-slow.txt": "A slow article.\n\nIt takes too long to read.", "b-fine.txt": HARBOUR}
    )
    real_load = ingest.pipeline.load_bytes

    def slow_load(data, suffix, source):  # a stand-in for a file that takes long to parse
        if source.endswith("a-slow.txt"):
            time.sleep(1.2)
        return real_load(data, suffix, source)

    monkeypatch.setattr(ingest.pipeline, "load_bytes", slow_load)
    summary = _ingest(assistant, news, file_time_budget_seconds=1)
    assert summary.added == ["news/b-fine.txt"]
    [(source, reason)] = summary.failed
    assert (
        source == "news/a-slow.txt" and "per-file time budget (1 s" in reason and "file_time_budget_seconds" in reason
    )
    assert "A slow article" not in _stored_text(assistant)
    _good_article_still_answers(assistant)


# ---- HTML as browsers read it ------------------------------------------------------------------------------


@pytest.mark.slow
def test_hundred_thousand_nested_divs_finish_within_30s(tmp_path, assistant):
    depth = 100_000
    html = nested_divs(depth)
    assert 1_000_000 < len(html) < 1_300_000
    news = _folder(tmp_path / "news", {"nested.html": html})
    started = time.perf_counter()
    summary = assistant.ingest(news)
    assert time.perf_counter() - started < SECONDS_LIMIT
    _within_budget_or_reported(summary, "news/nested.html")
    if summary.added:
        assert HARBOUR in _stored_text(assistant)
    _good_article_still_answers(assistant)


def test_html5_without_head_end_tag_keeps_its_body(tmp_path, assistant):
    html = ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Harbour news</title>"
            "<meta property='article:published_time' content='2022-05-05'>"
            f"<body><h1>Harbour dredging</h1><p>{HARBOUR}<p>Work will take two years.</body></html>")
    page = visible_text(html)
    assert page.text == f"Harbour dredging\n\n{HARBOUR}\n\nWork will take two years."
    assert (page.title, page.date) == ("Harbour dredging", "2022-05-05")
    news = _folder(tmp_path / "news", {"harbour.html": html})
    assert assistant.ingest(news).added == ["news/harbour.html"]
    [passage] = assistant.retrieve("When will dredging of Nordport harbour start?", k=1)
    assert passage.source == "news/harbour.html" and "start in June" in passage.text
    _good_article_still_answers(assistant)


def test_doctype_internal_subset_leaves_no_debris(tmp_path, assistant):
    html = ('<!DOCTYPE html [\n  <!ENTITY brand "Nord]>port">\n  <!ELEMENT x ANY>\n]>\n'
            f"<html><head><title>Harbour</title></head><body><p>{HARBOUR}</p></body></html>")
    assert visible_text(html).text == HARBOUR
    news = _folder(tmp_path / "news", {"subset.html": html})
    assert assistant.ingest(news).added == ["news/subset.html"]
    stored = [c.text for c in assistant.store.all_chunks() if c.metadata["source"] == "news/subset.html"]
    assert stored == [HARBOUR]
    _good_article_still_answers(assistant)


# ---- damaged text ----------------------------------------------------------------------------------------


def test_mostly_utf8_file_keeps_its_accents_and_counts_bad_bytes(tmp_path, assistant):
    data = ("Café reopens\n\nThe café in Zürich reopened on Monday after a fire, its owner said. ".encode("utf-8")
            + b"Repairs cost \xff40,000 francs. "
            + "Guests praised the new terrace.".encode("utf-8") + b" \xfe\n")
    news = _folder(tmp_path / "news", {"cafe.txt": data})
    summary = assistant.ingest(news)
    assert summary.added == ["news/cafe.txt"]
    [(source, warning)] = summary.warnings
    assert source == "news/cafe.txt" and warning.startswith("2 invalid UTF-8 byte sequence(s) replaced")
    [passage] = assistant.retrieve("When did the café in Zürich reopen?", k=1)
    assert passage.source == "news/cafe.txt"
    assert "The café in Zürich reopened on Monday" in passage.text and "cafĂ©" not in passage.text
    assert "warning" in summary.describe()
    _good_article_still_answers(assistant)


def test_nul_bytes_make_a_file_binary_and_reported(tmp_path, assistant):
    """Decision: a NUL byte anywhere (not only near the start) means binary: the file is refused and reported."""
    text = "Harbour dredging\n\n" + HARBOUR + " " + "More text follows. " * 2000
    news = _folder(
        tmp_path / "news", {"late-nul.txt": text.encode() + b"\x00tail", "good.txt": "The Elm Street bridge reopened."}
    )
    summary = assistant.ingest(news)
    assert summary.added == ["news/good.txt"]
    reasons = dict(summary.failed)
    assert reasons["news/late-nul.txt"].startswith(f"binary file (a NUL byte at byte {len(text.encode())})")
    assert "Nordport" not in _stored_text(assistant)
    _good_article_still_answers(assistant)


def test_jsonl_keeps_good_lines_and_names_the_bad_one(tmp_path, assistant):
    lines = [json.dumps({"title": "Harbour", "date": "2022-05-05", "text": HARBOUR}),
             '{"title": "Broken", "text": "cut off',
             json.dumps({"title": "Bridge", "text": "The Elm Street bridge in Haverford reopened after 18 months."})]
    news = _folder(tmp_path / "news", {"feed.jsonl": "\n".join(lines) + "\n"})
    summary = assistant.ingest(news)
    assert summary.added == ["news/feed.jsonl"] and summary.failed == []
    [(source, warning)] = summary.warnings
    assert source == "news/feed.jsonl" and "line 2" in warning and "skipped" in warning
    stored = {r.source for r in assistant.store.source_records().values()}
    assert {"news/feed.jsonl#1", "news/feed.jsonl#3"} <= stored and "news/feed.jsonl#2" not in stored
    [passage] = assistant.retrieve("How long was the Elm Street bridge closed?", k=1)
    assert passage.source == "news/feed.jsonl#3"
    _good_article_still_answers(assistant)
