"""Prompt files: loaded by name, strict variables, and the only place prompt text lives."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import prompts
from assistant.core.errors import ConfigError
from prompts import PromptError

REPO = Path(__file__).resolve().parent.parent


def test_the_bundled_prompts_and_their_variables():
    assert {"system", "answer", "passage", "condense"} <= set(prompts.names())
    assert prompts.load("system").variables == {"refusal"}
    assert prompts.load("answer").variables == {"fence", "passages", "question"}
    assert prompts.load("passage").variables == {"number", "date", "text"}
    assert prompts.load("condense").variables == {"history", "question"}


def test_a_missing_variable_is_an_error_that_names_it():
    with pytest.raises(PromptError, match=r"needs variable\(s\): fence, passages") as caught:
        prompts.load("answer").render(question="When?")
    assert isinstance(caught.value, ValueError) and not isinstance(caught.value, ConfigError)  # no project imports


def test_an_unexpected_variable_is_an_error_unless_allowed():
    passage = prompts.load("passage")
    with pytest.raises(PromptError, match="does not use variable.*title"):
        passage.render(number=1, date="2021-09-14", text="x", title="T")
    assert passage.fill({"number": 1, "date": "2021-09-14", "text": "x", "title": "T"}, allow_unused=True).startswith(
        "[1]"
    )


def test_values_are_inserted_verbatim(tmp_path):
    (tmp_path / "greet.txt").write_text("Hello {name}, {{literal}} braces.", encoding="utf-8")
    template = prompts.load("greet", tmp_path)
    assert template.render(name="{question} {0.__class__}") == "Hello {question} {0.__class__}, {literal} braces."


@pytest.mark.parametrize("body, message", [
    ("Hi {user.name}", "invalid field"),
    ("Hi {0}", "invalid field"),
    ("Hi {name!r}", "invalid field"),
    ("Hi {name:>10}", "invalid field"),
    ("Hi {name", "malformed"),
])
def test_malformed_templates_are_refused_when_loaded(tmp_path, body, message):
    (tmp_path / "bad.txt").write_text(body, encoding="utf-8")
    with pytest.raises(PromptError, match=message):
        prompts.load("bad", tmp_path)


def test_unknown_and_unsafe_names(tmp_path):
    with pytest.raises(PromptError, match="no prompt named 'nope'.*available: answer, condense, passage, system"):
        prompts.load("nope")
    with pytest.raises(PromptError, match="invalid prompt name"):
        prompts.load("../pyproject")


def test_a_prompts_dir_setting_replaces_the_bundled_files(tmp_path, make_assistant):
    from assistant.llm.prompting import PromptBuilder

    for name in ("answer", "passage"):
        (tmp_path / f"{name}.txt").write_text(
            (prompts.PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8"), encoding="utf-8"
        )
    (tmp_path / "system.txt").write_text("Custom rules. Refuse with {refusal}.", encoding="utf-8")
    builder = PromptBuilder(2048, 256, prompts_dir=str(tmp_path))
    prompt = builder.build("When?", [])
    assert prompt.messages[0] == ("system", "Custom rules. Refuse with NO_ANSWER.")


def test_a_bad_prompt_file_is_a_config_error_for_the_library(tmp_path):
    """The library raises prompts' own PromptError on as a ConfigError: the command line shows it as a user error."""
    from assistant.llm.prompting import PromptBuilder

    for name in ("answer", "passage"):
        (tmp_path / f"{name}.txt").write_text(
            (prompts.PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8"), encoding="utf-8"
        )
    with pytest.raises(ConfigError, match="no prompt named 'system'") as caught:
        PromptBuilder(2048, 256, prompts_dir=str(tmp_path))
    assert isinstance(caught.value.__cause__, PromptError)
    (tmp_path / "system.txt").write_text("Custom rules, no refusal word.", encoding="utf-8")
    with pytest.raises(ConfigError, match="does not use variable.*refusal"):
        PromptBuilder(2048, 256, prompts_dir=str(tmp_path)).build("When?", [])


def test_no_prompt_text_in_the_llm_code():
    """Prompts live in prompts/*.txt: no long sentence-like string literal in assistant/llm/ reads as an instruction to
    a model."""
    suspicious = []
    for path in (REPO / "assistant" / "llm").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                lowered = node.value.lower()
                if any(
                    cue in lowered for cue in ("you are", "you answer", "answer the question", "use only", "passages:")
                ):
                    suspicious.append(f"{path.name}: {node.value[:60]!r}")
    assert not suspicious
