"""The page under concurrent sessions: benchmarks/sessions.py on a small scale, real server and real gradio_client.

5 sessions for 10 s against `assistant ui` on a loopback port: no errors, no conversation leaking into another, the
server stopped at the end, and the leak checks shown to fire on a real leak (two clients sharing one session).
The full run (20 sessions, 60 s) and its figures are in benchmarks/README.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO

BBC = REPO.parent / "shared" / "corpora" / "bbc"  # ../shared beside the checkout; the seeds stand in without it


@pytest.mark.slow
def test_concurrent_sessions_get_their_own_answers_and_no_errors(tmp_path):
    corpus = "bbc" if BBC.is_dir() else "seeds"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")} | {
        "BENCH_WORK": str(tmp_path / "work")
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.sessions",
            "--sessions",
            "5",
            "--seconds",
            "10",
            "--corpus",
            corpus,
            "--timeout",
            "240",
            "--note",
            "test",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads((tmp_path / "work" / "sessions.json").read_text())
    assert result["errors"] == 0, result["error_messages"]
    assert result["leaks"] == 0, result["leak_messages"]
    assert result["sessions_stuck"] == 0
    # every session got its topic question and its follow-up answered
    assert result["questions_per_session"]["min"] >= 2
    assert result["follow_ups"] >= 5 and result["latency"]["p95_ms"] > 0
    # the server was stopped by its PID (SIGTERM), not left running
    assert result["server_exit_code"] is not None
    # the checks are not blind: two clients on one session hash are caught
    detector = result["leak_detector_check"]
    assert detector["error"] is None and detector["history_check_fired"]
    if detector["follow_up_source_check_applies"]:
        assert detector["follow_up_source_check_fired"]
