"""Time in questions and articles: date-of-asking windows, filters that match nothing, header dates, resolution."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.core.errors import InputError
from assistant.text.dates import find_time_expressions
from assistant.text.timeframe import asks_for_latest, parse_day, question_window
from ingest.loaders import load_text

DAY = date(2023, 12, 5)  # a Tuesday


@pytest.mark.parametrize("question, days", [
    ("Which automaker recalled trucks this week?", 8),
    ("Who recently became prime minister?", 8),
    ("What did the council decide this month?", 31),
])
def test_recent_words_open_a_window_before_the_date_of_asking(question, days):
    window = question_window(question, DAY)
    assert window is not None and window.date_to == DAY and (DAY - window.date_from).days == days


def test_this_year_and_no_time_words():
    assert question_window("How many homes were sold this year?", DAY).date_from == date(2023, 1, 1)
    assert question_window("Who founded Air Deccan?", DAY) is None
    assert asks_for_latest("What is the latest estimate of the cost?")
    assert not asks_for_latest("What did the first estimate say?")


def test_dates_must_be_iso():
    assert parse_day("2021-09-14") == date(2021, 9, 14)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        parse_day("14/09/2021")


@pytest.mark.parametrize("sentence, resolved", [
    ("Work began on Monday.", "4 December 2023"),
    ("The talks will resume on Monday.", "11 December 2023"),
    ("The ferry stops at the end of April.", "the end of April 2024"),
    ("Repairs start at the beginning of March.", "the start of March 2024"),
    ("Lavrov visited Islamabad in April this year.", "April 2023"),
    ("Prices rose last week.", "the week of 27 November 2023"),
    ("The plant will open by the end of next year.", "the end of 2024"),
    ("It will launch next spring.", "spring 2024"),
    ("Sales grew in the third quarter.", "Q3 2023"),
    ("He left three years ago.", "2020"),
    ("The deal was signed on 2023-11-02.", "2 November 2023"),
    # each expression takes the tense of its own clause, not the sentence's
    ("The mayor said on Monday that the market won't reopen.", "4 December 2023"),
    ("Officials announced on Tuesday that the pool will close.", "5 December 2023"),
    ("The pier was shut on Friday.", "1 December 2023"),
    ("The museum is due to reopen on Friday.", "8 December 2023"),
    ("The swimming pool in the town centre reopened on Monday after repairs.", "4 December 2023"),  # tagged VBN
    ("Fireworks on Friday.", "8 December 2023"),  # no verb: the sentence's tense (present: a plan)
    ("Recalling their meeting on 20 November, the ministers agreed to talk again.", "20 November 2023"),  # participle
])
def test_time_expressions_resolve_day_exact_and_by_tense(sentence, resolved):
    assert [e.resolved for e in find_time_expressions(sentence, DAY)] == [resolved]


def test_two_clauses_two_tenses():
    sentence = "The bridge closed in June and will reopen in April."
    assert [e.resolved for e in find_time_expressions(sentence, DAY)] == ["June 2023", "April 2024"]


def test_a_date_line_under_the_headline_is_the_article_date_not_body_text():
    text = (
        "Long Covid risk extends two years after infection. Here's how to ...\n date 2022-08-18 \n\n(CNN) Getting sick."
    )
    [article] = load_text(text, "corpus/0001.txt")
    assert article.date == date(2022, 8, 18) or str(article.date) == "2022-08-18"
    assert article.title.startswith("Long Covid risk")
    assert "date 2022" not in article.text and article.text.startswith("(CNN)")


def test_a_first_line_without_a_header_after_it_stays_body_text():
    [article] = load_text("Ad sales boost Time Warner profit\n\nQuarterly profits jumped 76%.", "bbc/001.txt")
    assert article.date is None and article.text.startswith("Ad sales boost")


def test_filters_that_match_nothing_say_why(seeded):
    assert "no source matches 'sport'" in seeded.why_nothing_matches(source="sport").lower()
    said = seeded.why_nothing_matches(date_from="2019-01-01", date_to="2019-12-31")
    assert "2019-01-01 to 2019-12-31" in said and "2021-09-14" in said
    assert seeded.why_nothing_matches(date_from="2021-01-01") is None
    answer = seeded.ask("When did Lavrov visit Pakistan?", date_to="2020-01-01")
    assert answer.refused and "run from 2021-09-14" in answer.text


def test_as_of_before_every_article_leaves_nothing_and_says_so(seeded):
    answer = seeded.ask("When did Lavrov visit Pakistan?", as_of="2020-06-01")
    assert answer.refused and "No article" in answer.text


def test_this_week_reads_against_the_newest_article_without_as_of(seeded):
    plan = seeded.filter_plan("What did Putin say this week?", None, None, None, None)
    assert plan[0].date_to == date(2021, 9, 14) and plan[0].date_from == date(2021, 9, 6)
    assert plan[-1].date_from is None


@pytest.mark.parametrize("resolved, day", [
    ("14 September 2021", date(2021, 9, 14)), ("April 2021", date(2021, 4, 1)), ("2020", date(2020, 1, 1)),
    ("the week of 6 September 2021", date(2021, 9, 6)), ("Q3 2023", date(2023, 7, 1)),
    ("spring 2024", date(2024, 3, 1)), ("the end of 2024", date(2024, 12, 31)), ("1990s", date(1990, 1, 1)),
])
def test_timeline_periods_sort_on_their_first_day(resolved, day):
    from assistant.timeline import period_start

    assert period_start(resolved) == day


def test_timeline_of_a_topic_is_dated_ordered_cited_and_exports(seeded):
    from assistant.timeline import build_timeline

    timeline = build_timeline(seeded, "Pakistan Russia visits")
    assert [e.when for e in timeline.events][:1] == ["April 2021"]
    assert [e.day for e in timeline.events] == sorted(e.day for e in timeline.events)
    assert all(e.citations and e.citations[0].source.startswith("seeds/") for e in timeline.events)
    assert "**April 2021**" in timeline.to_markdown() and '"April 2021"' in timeline.to_json()
    assert build_timeline(seeded, "Pakistan Russia visits", date_from="2021-05-01").events[0].day >= date(2021, 5, 1)
