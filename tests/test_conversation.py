"""Follow-up questions: condense() unit tests, and a conversation over the real seeds with a distractor article."""

from __future__ import annotations

import pytest

from assistant.api import SEEDS_DIR
from assistant.conversation import Conversation, condense, needs_context, topic_words
from assistant.core.errors import InputError
from assistant.text.question import MAX_QUESTION_CHARS

LAVROV = "When did Lavrov visit Pakistan?"

# Another "his trip" in the collection: without the conversation, "How long did his trip last?" finds this one.
DISTRACTOR = """Title: Adams wins the Highland Open after a week in Scotland
date 2021-08-02

Golfer Rory Adams won the Highland Open in Scotland on Sunday.

Adams said his trip lasted five days. The trip lasted five days in all, and he spent two of them practising on the \
links at Nairn.

He will fly home to Dublin on Monday before the next tournament in Germany.
"""


# ---- condense: one function, no store ------------------------------------------------------------


def test_without_history_the_question_is_unchanged():
    assert condense("How long did his trip last?", []) == "How long did his trip last?"


def test_a_pronoun_follow_up_gets_the_previous_names():
    condensed = condense("How long did his trip last?", [LAVROV])
    assert condensed.startswith("How long did his trip last?")
    assert "Lavrov" in condensed and "Pakistan" in condensed


def test_a_question_with_its_own_names_stands_alone():
    for question in (
        "Who won the 2021 Pakistani general election?",
        "How long did Sergey Lavrov's trip to Pakistan last?",
        "Putin met whom at the summit?",
    ):
        assert condense(question, [LAVROV]) == question


def test_a_definite_reference_without_names_is_a_follow_up():
    assert "Lavrov" in condense("When was it announced?", [LAVROV])
    assert "Lavrov" in condense("Who won the election?", [LAVROV])


def test_a_bare_question_word_is_a_follow_up():
    assert condense("Why?", [LAVROV]) == "Why? (Lavrov visit Pakistan)"


def test_question_form_words_and_words_already_there_are_not_carried():
    condensed = condense("Which city did he visit?", [LAVROV])
    assert condensed == "Which city did he visit? (Lavrov Pakistan)"
    assert topic_words("When did Lavrov visit Pakistan?") == ["Lavrov", "visit", "Pakistan"]


def test_the_last_standalone_question_carries_the_chain():
    second = condense("Which city did he visit?", [LAVROV])
    third = condense("What did he say there?", [LAVROV, second])
    assert "Lavrov" in third and "city" in third


def test_needs_context():
    assert needs_context("What did they agree?")
    assert not needs_context("What did Russia and Pakistan agree?")
    assert needs_context("How long did his trip to Pakistan last?")  # the pronoun comes before any name
    assert not needs_context("Which energy project did Imran Khan say his government was determined to finish quickly?")


def test_whitespace_is_normalised():
    assert condense("  How long   did his trip last? ", [LAVROV]).startswith("How long did his trip last? (")


# ---- Conversation: input checks happen before anything is asked ----------------------------------


class _Refuses:
    """Stands in for the Assistant in the input-check tests: asking it is a failure."""

    def ask(self, question, **options):
        raise AssertionError(f"asked {question!r}")


def test_an_over_long_message_is_refused_with_a_clear_message():
    with pytest.raises(InputError, match=f"limited to {MAX_QUESTION_CHARS} characters"):
        Conversation().ask(_Refuses(), "x" * (MAX_QUESTION_CHARS + 1))


def test_an_empty_message_is_refused():
    with pytest.raises(InputError, match="empty"):
        Conversation().ask(_Refuses(), "   ")


# ---- the real assistant over the seeds plus a distractor -----------------------------------------


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    from assistant import Assistant

    root = tmp_path_factory.mktemp("conversation")
    extra = root / "extra"
    extra.mkdir()
    (extra / "golf.txt").write_text(DISTRACTOR, encoding="utf-8")
    with Assistant(data_dir=root / "data") as a:
        a.ingest(SEEDS_DIR)
        a.ingest(extra)
        yield a


@pytest.mark.slow
def test_a_follow_up_is_answered_from_the_previous_topic(assistant):
    bare = assistant.ask("How long did his trip last?")
    assert "five days" in bare.text, "the distractor no longer catches the bare question; the test below proves less"

    conversation = Conversation()
    first = conversation.ask(assistant, LAVROV)
    assert "April 2021" in first.answer.text
    second = conversation.ask(assistant, "How long did his trip last?")
    assert "Lavrov" in second.standalone
    assert "two-day" in second.answer.text or "two days" in second.answer.text
    assert second.answer.citations and second.answer.citations[0].source.startswith("seeds/")
    assert [t.question for t in conversation.turns] == [LAVROV, "How long did his trip last?"]


@pytest.mark.slow
def test_turns_are_capped(assistant):
    conversation = Conversation(max_turns=2)
    for question in (LAVROV, "How long did his trip last?", "Which city did he visit?"):
        conversation.ask(assistant, question)
    assert [t.question for t in conversation.turns] == ["How long did his trip last?", "Which city did he visit?"]


def test_a_follow_up_name_replaces_the_one_it_shares_a_word_with():
    from assistant.conversation import condense

    question = condense("And who did he beat in the US Open final?",
                        ["Who did Roger Federer beat in the Australian Open final?"])
    assert "Roger Federer" in question and "Australian" not in question
