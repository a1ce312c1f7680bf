"""Shared fixtures: real parts only (real Chroma in a temp dir, the real embedding model), nothing in the user's home.

- Every test gets ASSISTANT_DATA_DIR (and XDG_DATA_HOME) pointed at its own temp dir, and no other
  ASSISTANT_* variable from the developer's shell leaks in.
- `embedder` is the real all-MiniLM-L6-v2, loaded once per process (Embedder.shared caches it).
- `seeded` is one Assistant per session with the bundled seeds/ article ingested; tests that only
  read from the store share it.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

# Nothing may reach for the network: the model ships inside a package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CHROMIUM = "/usr/bin/chromium"  # Debian's Chromium (a Playwright browser download does not work here)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get install -y chromium`.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def write_folder(root: Path, files: dict[str, str | bytes]) -> Path:
    """A folder of articles for a test: {relative name: text or bytes}."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop one process a test started, by its pid: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
SEEDS = REPO / "seeds"
SEED_FILE = SEEDS / "000_9e654aac1be06df7.txt"
SEED_SOURCE = "seeds/000_9e654aac1be06df7.txt"
SEED_QUESTIONS = SEEDS / "questions.jsonl"
LAVROV_Q = "When did Lavrov visit Pakistan?"


def _scrub_assistant_env(mp: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            mp.delenv(key, raising=False)


@pytest.fixture(scope="session", autouse=True)
def _session_env(tmp_path_factory):
    """Session-wide: no ASSISTANT_* from the shell, data dirs under pytest's temp root (for session fixtures)."""
    mp = pytest.MonkeyPatch()
    _scrub_assistant_env(mp)
    home = tmp_path_factory.mktemp("session-home")
    mp.setenv("ASSISTANT_DATA_DIR", str(home / "data"))
    mp.setenv("XDG_DATA_HOME", str(home / "xdg"))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _test_env(monkeypatch, tmp_path):
    """Per test: ASSISTANT_DATA_DIR and XDG_DATA_HOME inside this test's tmp_path."""
    _scrub_assistant_env(monkeypatch)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "default-data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    yield


@pytest.fixture(scope="session")
def embedder():
    from assistant.models.embedding import Embedder

    return Embedder.shared()


@pytest.fixture(scope="session")
def seed_article_text() -> str:
    """The seed article's text as the loader should produce it: the file minus its `date` line, stripped."""
    raw = SEED_FILE.read_text(encoding="utf-8")
    first, rest = raw.split("\n", 1)
    assert first.strip() == "date 2021-09-14"
    return rest.strip()


@pytest.fixture(scope="session")
def seeded(tmp_path_factory, embedder):
    """One Assistant with the seed article ingested, shared by read-only tests."""
    from assistant import Assistant

    assistant = Assistant(data_dir=tmp_path_factory.mktemp("seeded"))
    summary = assistant.ingest(SEEDS)
    assert summary.added == [SEED_SOURCE], summary.describe()
    yield assistant
    assistant.close()


@pytest.fixture
def make_assistant(tmp_path):
    """Factory for fresh Assistants on a data dir in tmp_path; all are closed at teardown."""
    from assistant import Assistant

    made = []

    def make(data_dir: Path | None = None, **overrides):
        assistant = Assistant(data_dir=data_dir or tmp_path / "data", **overrides)
        made.append(assistant)
        return assistant

    yield make
    for assistant in made:
        assistant.close()


# ---- `slow` follows measured time --------------------------------------------------------------------------------
# `make test-fast` leaves out tests marked slow, so a mark must match what a test costs. At the end of a run, tests
# that took longer than SLOW_SECONDS (set-up included: a module's shared store or browser is paid by its first test)
# without the mark, and tests marked slow on their own that took under QUICK_SECONDS, are listed to be re-marked.
# A quick test that uses a costly shared fixture (a page server, a module's store) keeps its mark: without it,
# `make test-fast` would pay for the fixture.
SLOW_SECONDS = 5.0
QUICK_SECONDS = 0.5
_seconds: dict[str, float] = {}
_marked_slow: dict[str, bool] = {}  # nodeid -> marked slow on the test itself (not by its module's pytestmark)


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("slow"):
            _marked_slow[item.nodeid] = any(mark.name == "slow" for mark in getattr(item.function, "pytestmark", []))


def pytest_runtest_logreport(report):
    _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration


def slow_mark_mismatches(seconds: dict[str, float], marked_slow: dict[str, bool]) -> tuple[list[str], list[str]]:
    """(tests to mark slow, tests whose own slow mark is not earned), each as 'nodeid (N.N s)', slowest first."""
    unmarked = sorted((s, n) for n, s in seconds.items() if s >= SLOW_SECONDS and n not in marked_slow)
    unearned = sorted((s, n) for n, s in seconds.items() if s < QUICK_SECONDS and marked_slow.get(n))
    return ([f"{n} ({s:.1f} s)" for s, n in reversed(unmarked)], [f"{n} ({s:.1f} s)" for s, n in unearned])


def pytest_terminal_summary(terminalreporter):
    unmarked, unearned = slow_mark_mismatches(_seconds, _marked_slow)
    if unmarked or unearned:
        terminalreporter.section("slow marks to change (measured in this run)")
        for line in unmarked:
            terminalreporter.write_line(f"mark slow: {line}")
        for line in unearned:
            terminalreporter.write_line(f"not slow:  {line}")
