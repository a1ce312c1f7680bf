"""Answer backends: the Answerer protocol, the entry-point registry, and a backend from a separate package.

The package is tests/plugins/echo_backend, installed by `make setup` (not by a test); the `echo` backend it registers
answers with the first sentence of the top passage.
"""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint, PackageNotFoundError, distribution, entry_points

import pytest
from click.testing import CliRunner

from assistant.backends import BUILTIN_BACKENDS, ENTRY_POINT_GROUP, Answerer, backend_names, make_answerer, registered
from assistant.cli import main
from assistant.core.answer import Answer
from assistant.core.errors import BackendError, ConfigError

from conftest import LAVROV_Q, write_folder

PLUGIN = "news-assistant-echo-backend"
HARBOUR = ("date 2022-05-05\n\nHarbour dredging\n\nDredging of Nordport harbour will start in June and cost 3 million "
           "euros, the port authority said. Ships will use the east quay meanwhile.\n")
BRIDGE = ("date 2022-04-02\n\nBridge reopens\n\nThe Elm Street bridge in Haverford reopened after 18 months of repairs "
          "costing $2.4m, the city council said. Buses return to the route on Monday.\n")


@pytest.fixture(scope="module")
def echo_plugin():
    """The test plugin package, which `make setup` installs; missing is a failure that says so, never a skip."""
    try:
        distribution(PLUGIN)
    except PackageNotFoundError:
        pytest.fail(f"The test plugin {PLUGIN} (tests/plugins/echo_backend) is not installed: run `make setup`.")
    return PLUGIN


def _no_stream(assistant):
    class AnswersOnly:
        def answer(self, question, passages):
            return Answer.refusal(question)

    return AnswersOnly()


# ---- the registry --------------------------------------------------------------------------------------


def test_builtins_are_registered_as_entry_points_in_their_order():
    installed = {e.name: e.value for e in entry_points(group=ENTRY_POINT_GROUP) if e.dist.name == "news-assistant"}
    assert installed == BUILTIN_BACKENDS, "pyproject.toml and assistant/backends.py list different built-ins"
    found = registered()
    assert all(found[name].dist is not None and found[name].dist.name == "news-assistant" for name in BUILTIN_BACKENDS)
    assert backend_names()[:len(BUILTIN_BACKENDS)] == list(BUILTIN_BACKENDS) and backend_names()[0] == "verified"


def test_without_installed_entry_points_the_builtins_still_work(monkeypatch, seeded):
    """A checkout run without `pip install` has no entry points: the built-ins come from the table in code."""
    monkeypatch.setattr("assistant.backends.entry_points", lambda group: [])
    assert backend_names() == list(BUILTIN_BACKENDS)
    answer = make_answerer("overlap", seeded).answer(LAVROV_Q, seeded.retrieve(LAVROV_Q, 4))
    assert answer.backend == "overlap" and answer.citations


@pytest.mark.parametrize("name", list(BUILTIN_BACKENDS))
def test_every_builtin_is_an_answerer(name, seeded):
    assert isinstance(make_answerer(name, seeded), Answerer)


def test_a_backend_that_does_not_stream_yields_its_answer_alone(seeded):
    answerer = make_answerer("extractive", seeded)
    passages = seeded.retrieve(LAVROV_Q, 8)
    events = list(answerer.stream(LAVROV_Q, passages))
    assert len(events) == 1 and events[0] == answerer.answer(LAVROV_Q, passages)
    assert events[0].short_answer == "April 2021"


def test_unknown_and_broken_backends_are_clear_errors(monkeypatch, seeded):
    with pytest.raises(ConfigError,
                       match="Unknown answer backend 'gpt'; choose one of verified, extractive, reader, openai"):
        make_answerer("gpt", seeded)
    fake = [EntryPoint("half", f"{__name__}:_no_stream", ENTRY_POINT_GROUP),
            EntryPoint("gone", "no_such_module_here:make", ENTRY_POINT_GROUP),
            EntryPoint("extractive", "elsewhere:make", ENTRY_POINT_GROUP)]
    monkeypatch.setattr("assistant.backends.entry_points", lambda group: fake)
    assert backend_names() == [*BUILTIN_BACKENDS, "gone", "half"]  # a built-in name is not taken
    with pytest.raises(BackendError, match="'half'.*lacks answer\\(\\) or stream\\(\\)"):
        make_answerer("half", seeded)
    with pytest.raises(BackendError, match="'gone'.*cannot be loaded"):
        make_answerer("gone", seeded)


# ---- a backend from another package, through the command line --------------------------------------------


@pytest.fixture(scope="module")
def plugin_store(tmp_path_factory, embedder):
    """A real store (Chroma in a temp dir, the real model) of two short articles, filled by `assistant ingest`."""
    root = tmp_path_factory.mktemp("plugin")
    news = write_folder(root / "news", {"harbour.txt": HARBOUR, "bridge.txt": BRIDGE})
    data = str(root / "data")
    result = CliRunner().invoke(main, ["--data-dir", data, "ingest", str(news)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return data


def test_the_plugin_backend_is_registered_by_its_package(echo_plugin):
    entry = registered()["echo"]
    assert entry.dist.name == echo_plugin and entry.value == "news_assistant_echo:make_answerer"
    assert backend_names()[-1] == "echo"  # after the built-ins


def test_the_plugin_backend_answers_through_the_cli(echo_plugin, plugin_store):
    result = CliRunner().invoke(main, ["--data-dir", plugin_store, "ask", "When will the harbour dredging start?",
                                       "--backend", "echo", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["backend"] == "echo" and not answer["refused"]
    assert answer["text"] == ("Dredging of Nordport harbour will start in June and cost 3 million euros, the port "
                              "authority said. [1]")
    citation = answer["citations"][0]
    assert (citation["source"], citation["title"], citation["date"]) == ("news/harbour.txt", "Harbour dredging",
                                                                         "2022-05-05")
    assert citation["passage"][citation["quote_start"] - citation["passage_start"]:][:len(citation["quote"])] \
        == citation["quote"]


def test_the_plugin_backend_streams_through_the_cli(echo_plugin, plugin_store):
    result = CliRunner().invoke(main, ["--data-dir", plugin_store, "ask", "Which bridge reopened?", "--backend", "echo",
                                       "--stream"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("The Elm Street bridge in Haverford reopened after 18 months of repairs costing "
                                    "$2.4m, the city council said. [1]")
    assert "[1] Bridge reopens (2022-04-02) — news/bridge.txt" in result.stdout


def test_the_plugin_backend_is_also_a_python_backend(echo_plugin, make_assistant, plugin_store):
    assistant = make_assistant(data_dir=plugin_store)
    answer = assistant.ask("When will the harbour dredging start?", backend="echo")
    assert isinstance(answer, Answer) and answer.backend == "echo"
    assert isinstance(assistant.answerer("echo"), Answerer)
    empty = assistant.answerer("echo").answer("Anything?", [])
    assert empty.refused and empty.citations == []


def test_a_plugin_that_streams_streams_through_the_chain_and_the_conversation(echo_plugin, make_assistant,
                                                                              plugin_store):
    """ask_stream runs the same chain as ask; the conversation records the streamed turn (the page's path)."""
    from assistant.conversation import Conversation, Turn

    assistant = make_assistant(data_dir=plugin_store, backend="echo")
    events = list(assistant.ask_stream("Which bridge reopened?"))
    pieces, final = events[:-1], events[-1]
    assert len(pieces) > 5 and all(isinstance(p, str) for p in pieces)
    assert isinstance(final, Answer) and "".join(pieces) == final.text == assistant.ask("Which bridge reopened?").text

    conversation = Conversation()
    streamed = list(conversation.ask_stream(assistant, "Which bridge reopened?"))
    turn = streamed[-1]
    assert isinstance(turn, Turn) and turn.answer.text == final.text and "".join(streamed[:-1]) == final.text
    assert conversation.turns == [turn]
