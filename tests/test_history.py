"""Saved conversations and feedback (assistant/history.py), confidence in words, and the page's per-answer HTML:
no model, no store, no browser (those are in tests/test_ui_daily.py)."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from assistant.cli_eval import feedback_question_set, write_question_set
from assistant.conversation import Conversation, Turn
from assistant.core.answer import Answer, Citation
from assistant.core.errors import InputError
from assistant.evaluation.questions import load_questions
from assistant.history import History, conversation_markdown
from assistant.ranker.confidence import bins_from_rows, describe, for_answer
from ui import render

PASSAGE = ("Russian Foreign Minister Sergey Lavrov visited Islamabad in April this year. "
           "Pakistan's foreign and defense ministers visited Russia last year.")
SOURCE = "seeds/000_9e654aac1be06df7.txt"


def citation(number: int, quote: str, passage: str = PASSAGE, source: str = SOURCE, start: int = 100) -> Citation:
    at = passage.index(quote)
    return Citation(number=number, article_id="a1", source=source, title="Khan and Putin", date="2021-09-14", url=None,
                    quote=quote, quote_start=start + at, quote_end=start + at + len(quote), passage=passage,
                    passage_start=start, passage_end=start + len(passage))


def lavrov_answer() -> Answer:
    quote = "Russian Foreign Minister Sergey Lavrov visited Islamabad in April this year."
    return Answer(
        question="When did Lavrov visit Pakistan?",
        text=f"April 2021. {quote} [1]",
        short_answer="April 2021",
        citations=[citation(1, quote)],
        confidence=0.93,
        kind="when",
    )


def test_an_answer_survives_json_and_reads_as_plain_text():
    answer = lavrov_answer()
    again = Answer.from_dict(json.loads(json.dumps(answer.to_dict())))
    assert again == answer
    assert Answer.from_dict({**answer.to_dict(), "added_later": 1}) == answer  # unknown keys are ignored
    plain = answer.to_text()
    assert plain.startswith("April 2021. Russian") and f"[1] Khan and Putin (2021-09-14) — {SOURCE}" in plain
    assert "    “Russian Foreign Minister Sergey Lavrov visited Islamabad in April this year.”" in plain


def test_conversations_are_saved_listed_renamed_and_deleted_per_owner(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    first = history.start("browser-a", "When did Lavrov visit Pakistan?")
    turn_id = history.add_turn(first, Turn("When did Lavrov visit Pakistan?", "When did Lavrov visit Pakistan?",
                                           lavrov_answer()), {"as_of": "2021-09-20", "source": ""})
    history.add_turn(first, Turn("How long did his trip last?", "How long did his trip last? (Lavrov visit Pakistan)",
                                 Answer.refusal("q")))
    other = history.start("browser-b", "x" * 200)
    assert [c.id for c in history.conversations("browser-a")] == [first]
    listed = history.conversations("browser-b")[0]
    assert len(listed.title) <= 80 and listed.title.endswith("…") and listed.turns == 0

    reopened = History(tmp_path / "h.sqlite3").load(first, "browser-a")  # a new process: same file
    assert [t.turn.question for t in reopened.turns] == [
        "When did Lavrov visit Pakistan?",
        "How long did his trip last?",
    ]
    assert reopened.turns[0].id == turn_id and reopened.turns[0].turn.answer == lavrov_answer()
    assert reopened.turns[0].options == {"as_of": "2021-09-20"}  # empty filters are not stored
    assert history.load(first, "browser-b") is None  # another browser cannot read it …
    assert not history.rename(first, "browser-b", "mine") and not history.delete(first, "browser-b")  # … nor change it
    assert history.rename(first, "browser-a", "  Lavrov's   trip ")
    assert history.conversations("browser-a")[0].title == "Lavrov's trip"
    with pytest.raises(InputError, match="empty"):
        history.rename(first, "browser-a", "   ")
    history.rate(turn_id, 1)
    assert history.delete(first, "browser-a") and history.conversations("browser-a") == []
    with sqlite3.connect(tmp_path / "h.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM turns WHERE conversation_id = ?", (first,)).fetchone() == (0,)
    assert [f.turn_id for f in history.feedback()] == [None]  # the feedback outlives its conversation
    assert history.load(other, "browser-b").turns == []
    assert history.secret() == History(tmp_path / "h.sqlite3").secret()  # one secret, kept


def test_a_conversation_exports_as_markdown_with_its_citations(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    cid = history.start("b", "When did Lavrov visit Pakistan?")
    history.add_turn(cid, Turn("When did Lavrov visit Pakistan?", "When did Lavrov visit Pakistan?", lavrov_answer()),
                     {"date_from": "2021-01-01"})
    history.add_turn(cid, Turn("And his trip?", "And his trip? (Lavrov)", Answer.refusal("And his trip? (Lavrov)")))
    markdown = conversation_markdown(history.load(cid, "b"))
    assert markdown.startswith("# When did Lavrov visit Pakistan?\n")
    assert "## 1. When did Lavrov visit Pakistan?" in markdown and "*Filters: date from 2021-01-01*" in markdown
    assert f"[1] Khan and Putin (2021-09-14) — `{SOURCE}`" in markdown
    assert "> Russian Foreign Minister Sergey Lavrov visited Islamabad in April this year." in markdown
    assert "## 2. And his trip?" in markdown and "*Read as: And his trip? (Lavrov)*" in markdown


def test_feedback_becomes_a_question_set_that_loads(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    cid = history.start("b", "q")
    up = history.add_turn(
        cid,
        Turn("When did Lavrov visit Pakistan?", "When did Lavrov visit Pakistan?", lavrov_answer()),
        {"as_of": "2021-09-20"},
    )
    refused = history.add_turn(
        cid, Turn("Who won the 2030 World Cup?", "Who won the 2030 World Cup?", Answer.refusal("q"))
    )
    corrected = history.add_turn(
        cid,
        Turn(
            "Which year did the ministers visit Russia?", "Which year did the ministers visit Russia?", lavrov_answer()
        ),
    )
    needs_search = history.add_turn(cid, Turn("Who called whom?", "Who called whom?", Answer.refusal("q")))
    no_correction = history.add_turn(cid, Turn("Where?", "Where?", lavrov_answer()))
    history.rate(up, 1)
    history.rate(refused, 1)
    history.rate(corrected, -1, "last year")
    history.rate(needs_search, -1)
    assert history.correct(needs_search, "Imran Khan") and not history.correct(999, "x")
    history.rate(no_correction, 1)
    history.rate(no_correction, -1)  # a second rating replaces the first
    with pytest.raises(InputError):
        history.rate(up, 0)

    asked = []
    entries, skipped = feedback_question_set(
        history.feedback(), lambda q, a, o: asked.append((q, a)) or ["other/calls.txt"]
    )
    by_question = {e["question"]: e for e in entries}
    assert by_question["When did Lavrov visit Pakistan?"] == {
        "id": "feedback-1", "question": "When did Lavrov visit Pakistan?", "answers": ["April 2021"], "gold": [SOURCE],
        "as_of": "2021-09-20", "rating": "up"}
    assert (
        by_question["Who won the 2030 World Cup?"]["answers"] == []
        and by_question["Who won the 2030 World Cup?"]["gold"] == []
    )
    assert by_question["Which year did the ministers visit Russia?"]["gold"] == [SOURCE]  # the cited passage says it
    assert by_question["Who called whom?"]["gold"] == ["other/calls.txt"] and asked == [
        ("Who called whom?", "Imran Khan")
    ]
    assert len(skipped) == 1 and "thumbs down without a correct answer" in skipped[0]

    path = write_question_set(entries, tmp_path / "out" / "feedback.jsonl")
    questions = load_questions(path)
    assert [q.answerable for q in questions] == [True, False, True, True]
    assert questions[0].as_of == "2021-09-20" and questions[0].gold == (SOURCE,)


def test_confidence_in_words_says_what_validation_showed():
    bins = [{"from": 0.5, "answers": 40, "right": 0.5}, {"from": 0.7, "answers": 100, "right": 0.78},
            {"from": 0.9, "answers": 300, "right": 0.92}]
    high = describe(0.95, bins)
    assert (
        high.word == "high"
        and "about 9 in 10 were right (300 answers)" in high.meaning
        and "0.9 or more" in high.meaning
    )
    assert describe(0.75, bins).word == "medium" and "about 8 in 10" in describe(0.75, bins).meaning
    low = describe(0.55, bins)
    assert low.word == "low" and "about 5 in 10" in low.meaning and "below 0.7" in low.meaning
    assert "no measured answers were this sure" in describe(0.95, []).meaning
    assert "not measured against right answers" in describe(0.95, None, backend="openai").meaning
    rows = [{"refused": False, "confidence": 0.95, "answerable": True, "correct": c} for c in (True, True, False)]
    rows += [{"refused": True, "confidence": 0.1, "answerable": False, "correct": True},
             {"refused": False, "confidence": 0.75, "answerable": False, "correct": False}]
    assert bins_from_rows(rows) == [
        {"from": 0.7, "answers": 1, "right": 0.0},
        {"from": 0.9, "answers": 3, "right": 0.667},
    ]


def test_each_answerer_has_its_measured_meaning():
    answer = lavrov_answer()
    default = for_answer(answer, "extractive")  # the sentence ranker: measured on the BBC test questions
    assert (
        default.word == "high"
        and "on the BBC test questions" in default.meaning
        and "in 10 were right" in default.meaning
    )
    reader = for_answer(answer, "reader")  # the span reader: its own validation bins
    assert "validation paragraphs" in reader.meaning or "no measured answers" in reader.meaning
    llm = for_answer(Answer(question="q", text="t", confidence=0.95, backend="openai"), "openai")
    assert "not measured" in llm.meaning


def test_an_answer_message_carries_its_actions_and_confidence_words():
    answer = lavrov_answer()
    html = render.answer_html(answer, asked=answer.question, index=3, confidence=describe(0.93, []),
                              options={"date_from": "2021-01-01"})
    assert html.startswith('<div class="answer final msg-3"><strong>April 2021</strong>')
    assert (
        '<sup class="cite-ref">[1]</sup>' in html
        and "high confidence" in html
        and "0.93" not in html.split("title=")[0]
    )
    assert 'class="show-sources"' in html and 'class="copy-answer"' in html and "from 2021-01-01" in html
    plain = re.search(r'<pre class="answer-plain" hidden>(.*?)</pre>', html, re.S).group(1)
    assert "[1] Khan and Putin (2021-09-14)" in plain
    assert "msg-" not in render.answer_html(answer, partial="April")  # a streaming update has no actions yet


def test_a_passage_quoted_twice_is_shown_once_with_both_quotes_marked():
    first, second = "Sergey Lavrov visited Islamabad", "visited Russia last year"
    answer = Answer(
        question="q",
        text="x [1] y [2]",
        citations=[
            citation(1, first),
            citation(2, second),
            citation(3, "visited Russia", passage="Other: visited Russia.", start=900),
        ],
    )
    html = render.sources_html(answer, index=5, asked="q")
    assert html.count('<div class="source ') == 2
    assert '<div class="source cite-1 cite-2" data-numbers="1 2">' in html
    assert f'<mark class="cite-1">{first}</mark>' in html and f'<mark class="cite-2">{second}</mark>' in html
    assert html.startswith('<div class="sources-of msg-5">')
    overlapping = Answer(question="q", text="x", citations=[citation(1, "Lavrov visited Islamabad"),
                                                           citation(2, "visited Islamabad in April")])
    assert '<mark class="cite-1 cite-2">Lavrov visited Islamabad in April</mark>' in render.sources_html(overlapping)


def test_filter_chips_mark_a_date_that_is_not_one():
    html = render.filter_chips({"date_from": "2021-13-01", "source": "bbc/<b>"}, {"date_from": "not a date"})
    assert 'class="chip invalid" title="not a date"' in html and "bbc/&lt;b&gt;" in html
    assert render.filter_chips({}) == '<div class="filter-chips empty"></div>'


def test_a_restored_turn_keeps_its_follow_up_context():
    turn = Turn(
        "How long did his trip last?", "How long did his trip last? (Lavrov visit Pakistan)", Answer.refusal("q")
    )
    conversation = Conversation(turns=[Turn.from_dict(json.loads(json.dumps(turn.to_dict())))])
    assert conversation.standalone("And why?").endswith("Lavrov visit Pakistan)")


def test_eval_from_feedback_needs_feedback_and_eval_needs_a_question_set(tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    empty = CliRunner().invoke(
        main, ["--data-dir", str(tmp_path / "data"), "eval", "--from-feedback", str(tmp_path / "o.jsonl")]
    )
    assert empty.exit_code == 1 and "No feedback is stored" in empty.output and not (tmp_path / "o.jsonl").exists()
    bare = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), "eval"])
    assert bare.exit_code == 2 and "--from-feedback" in bare.output

    history = History.in_data_dir(tmp_path / "data")  # only a thumbs down without a correct answer: nothing to write
    turn = history.add_turn(history.start("b", "q"), Turn("Where?", "Where?", lavrov_answer()))
    history.rate(turn, -1)
    useless = CliRunner().invoke(
        main, ["--data-dir", str(tmp_path / "data"), "eval", "--from-feedback", str(tmp_path / "o.jsonl")]
    )
    assert useless.exit_code == 1 and "thumbs down without a correct answer" in useless.output
    assert "nothing written" in useless.output
