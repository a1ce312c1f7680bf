"""Optional parts fail with the extra to install: the chat page (gradio), the eval report's charts (matplotlib).

(The LLM backends' extras: tests/test_llm.py::test_a_missing_optional_package_names_the_extra.)
"""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.core.errors import BackendError

from conftest import free_port


def test_the_page_without_gradio_names_the_ui_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "gradio", None)  # what an install without the extra looks like to import
    monkeypatch.delenv("ASSISTANT_UI_AUTH", raising=False)
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "ui", "--port", str(free_port())])
    assert result.exit_code == 1, result.output
    assert "pip install 'news-assistant[ui]'" in result.output and "gradio" in result.output
    assert "Traceback" not in result.output
    assert not data_dir.exists()  # refused before opening anything


def test_the_report_charts_without_matplotlib_name_the_plots_extra(monkeypatch, tmp_path):
    from assistant.evaluation.report import pyplot

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(BackendError, match=r"pip install 'news-assistant\[plots\]'"):
        pyplot()
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"id": "q1", "question": "When?", "answers": ["2021"]}\n')
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(
        main, ["--data-dir", str(data_dir), "eval", str(questions), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 1, result.output
    assert "news-assistant[plots]" in result.output and "Traceback" not in result.output
    assert not data_dir.exists()  # said before the run, not after it


def test_the_library_answers_without_the_page_or_the_charts():
    """The core never imports gradio or matplotlib: the Python API and `assistant ask` work without those extras."""
    import subprocess

    code = ("import sys; sys.modules['gradio'] = None; sys.modules['matplotlib'] = None\n"
            "import assistant, assistant.api, assistant.cli, assistant.evaluation, ingest.pipeline\n"
            "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
