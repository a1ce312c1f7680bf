"""Answers from the seeded store (one shared Assistant): cited, short, grounded in exact spans; refusals; filters;
dates."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date

import pytest

from assistant import Answer, Citation, Passage
from assistant.core.answer import MAX_ANSWER_WORDS
from assistant.core.errors import InputError
from assistant.text.dates import at_granularity, find_time_expressions
from assistant.text.question import analyse

from conftest import LAVROV_Q, SEED_SOURCE

MINISTERS_Q = "In which year did Pakistan's foreign and defense ministers visit Russia?"
UNANSWERABLE_Q = "Who won the 2021 Pakistani general election?"
PUBLISHED = date(2021, 9, 14)  # a Tuesday


@pytest.fixture(scope="module")
def lavrov(seeded) -> Answer:
    return seeded.ask(LAVROV_Q)


@pytest.mark.slow  # 16 s measured: its fixture ingests and answers
def test_lavrov_answer(lavrov):
    assert not lavrov.refused
    assert "April 2021" in lavrov.text
    assert lavrov.short_answer == "April 2021"
    assert lavrov.kind == "when"
    assert lavrov.backend == "extractive"
    assert 0.35 <= lavrov.confidence <= 1.0
    assert len(lavrov.text.split()) <= 60
    assert "[1]" in lavrov.text
    assert len(lavrov.citations) >= 1


def test_lavrov_citation(lavrov, seed_article_text):
    citation = lavrov.citations[0]
    assert citation.number == 1
    assert citation.source == SEED_SOURCE
    assert citation.date == "2021-09-14"
    assert citation.title.startswith("Prime Minister Imran Khan")
    assert "Lavrov visited Islamabad" in citation.quote
    assert citation.quote in citation.passage
    # spans point into the article text (the file minus its date line)
    assert seed_article_text[citation.quote_start:citation.quote_end] == citation.quote
    assert seed_article_text[citation.passage_start:citation.passage_end] == citation.passage
    assert citation.passage_start <= citation.quote_start < citation.quote_end <= citation.passage_end
    assert citation.quote == ("Russian Foreign Minister Sergey Lavrov visited Islamabad in April this year, "
                              "and Pakistan’s foreign and defense ministers visited Russia last year.")


def test_relative_year_resolved(seeded):
    # The sentence ranker resolves "last year"; the default backend's check by the span reader is left out: the
    # reader's best span here is the same "last year" at a margin of about 0, which passes its threshold on a CPU with
    # AVX-512 and not on one with AVX2 only (int8 kernels differ). The seeds eval measures the default on it.
    answer = seeded.ask(MINISTERS_Q, backend="extractive")
    assert not answer.refused
    assert "2020" in answer.text
    assert answer.short_answer == "2020"
    assert answer.citations[0].source == SEED_SOURCE
    assert "last year" in answer.citations[0].quote


def test_unanswerable_question_is_refused(seeded):
    answer = seeded.ask(UNANSWERABLE_Q)
    assert answer.refused
    assert answer.citations == []
    assert answer.short_answer is None
    assert answer.text.startswith("The articles don't answer this question.")
    from assistant.backends import SENTENCE_RANKER_THRESHOLD

    assert answer.confidence < SENTENCE_RANKER_THRESHOLD


def test_answer_to_dict_is_json(lavrov):
    data = json.loads(json.dumps(lavrov.to_dict()))
    assert set(data) == {f.name for f in fields(Answer)}
    assert data["text"] == lavrov.text and data["refused"] is False
    [citation] = data["citations"][:1]
    assert set(citation) == {f.name for f in fields(Citation)}
    assert citation["source"] == SEED_SOURCE
    assert citation["date"] == "2021-09-14"
    assert citation["title"] == lavrov.citations[0].title
    assert "Lavrov visited Islamabad" in citation["quote"]
    assert citation["quote"] in citation["passage"]


def test_retrieve_returns_at_most_k_passages_with_exact_spans(seeded, seed_article_text):
    passages = seeded.retrieve(LAVROV_Q, k=3)
    assert 1 <= len(passages) <= 3
    assert all(isinstance(p, Passage) for p in passages)
    assert any("Lavrov visited Islamabad" in p.text for p in passages[:2])
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
    for p in passages:
        assert p.source == SEED_SOURCE and p.date == "2021-09-14"
        assert seed_article_text[p.start:p.end] == p.text
        assert p.dense_rank is not None or p.lexical_rank is not None
    assert len(seeded.retrieve(LAVROV_Q, k=1)) == 1


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_retrieval_modes(seeded, mode):
    passages = seeded.retrieve("Arabian Monsoon maritime exercise", k=2, mode=mode)
    assert passages and "Arabian Monsoon" in passages[0].text
    if mode == "dense":
        assert all(p.lexical_rank is None for p in passages)
    if mode == "bm25":
        assert all(p.dense_rank is None for p in passages)


def test_unknown_mode_is_an_input_error(seeded):
    with pytest.raises(InputError, match="Unknown retrieval mode"):
        seeded.retrieve(LAVROV_Q, mode="sparse")


@pytest.mark.parametrize("kwargs, found", [
    ({"date_from": date(2022, 1, 1)}, False),
    ({"date_to": date(2021, 9, 13)}, False),
    ({"date_from": date(2021, 9, 14), "date_to": date(2021, 9, 14)}, True),
    ({"date_from": date(2021, 1, 1)}, True),
    ({"source": "seeds"}, True),
    ({"source": "seeds/"}, True),
    ({"source": SEED_SOURCE}, True),
    ({"source": "bbc/sport"}, False),
    ({"source": "seed"}, False),  # a prefix is a folder, not part of a name
])
@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
def test_retrieval_filters(seeded, kwargs, found, mode):
    passages = seeded.retrieve(LAVROV_Q, k=3, mode=mode, **kwargs)
    assert bool(passages) is found
    assert all(p.source == SEED_SOURCE for p in passages)


def test_filtered_ask_refuses_when_nothing_matches(seeded):
    answer = seeded.ask(LAVROV_Q, date_from=date(2022, 1, 1))
    assert answer.refused and answer.citations == []


@pytest.mark.parametrize("question", ["", "   ", "\n\t", None, "x" * 2001])
def test_bad_question_is_an_input_error(seeded, question):
    with pytest.raises(InputError):
        seeded.ask(question)
    with pytest.raises(InputError):
        seeded.retrieve(question)


def test_question_whitespace_is_folded(seeded):
    answer = seeded.ask("  When did\nLavrov   visit Pakistan?  ")
    assert answer.question == LAVROV_Q
    assert answer.short_answer == "April 2021"


# ---- time expressions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence, text, resolved", [
    ("Lavrov visited Islamabad in April this year.", "April this year", "April 2021"),
    ("Ministers visited Russia last year.", "last year", "2020"),
    ("The two leaders spoke on Tuesday.", "on Tuesday", "14 September 2021"),
    ("The two leaders spoke on Monday.", "on Monday", "13 September 2021"),
    ("He came in April.", "April", "April 2021"),
    ("The plant opened two years ago.", "two years ago", "2019"),
    ("They met last Tuesday.", "last Tuesday", "7 September 2021"),
    ("They meet next Monday.", "next Monday", "20 September 2021"),
    ("He said so yesterday.", "yesterday", "13 September 2021"),
    ("Their previous call was on August 25.", "August 25", "25 August 2021"),
    ("The deal was signed on 25 August 2019.", "25 August 2019", "25 August 2019"),
    ("Talks began in October.", "October", "October 2020"),  # a bare month is the latest one not after publication
    ("Prices fell three months ago.", "three months ago", "June 2021"),
    ("Sales rose last month.", "last month", "August 2021"),
    ("Elections were held in May.", "May", "May 2021"),
    ("It was popular in the 1990s.", "the 1990s", "1990s"),
    ("The first visit since 2012.", "2012", "2012"),
])
def test_find_time_expressions(sentence, text, resolved):
    found = find_time_expressions(sentence, PUBLISHED)
    assert [(e.text, e.resolved) for e in found] == [(text, resolved)]
    expression = found[0]
    assert sentence[expression.start:expression.end].strip() == text


def test_may_the_verb_is_not_a_date():
    assert find_time_expressions("Officials may resign over the affair.", PUBLISHED) == []


def test_relative_dates_without_publication_date_stay_unresolved():
    [expression] = find_time_expressions("Ministers visited Russia last year.", None)
    assert expression.text == "last year" and expression.resolved is None


def test_several_expressions_in_one_sentence():
    sentence = (
        "Russian Foreign Minister Sergey Lavrov visited Islamabad in April this year, and Pakistan’s foreign and "
        "defense ministers visited Russia last year."
    )
    assert [e.resolved for e in find_time_expressions(sentence, PUBLISHED)] == ["April 2021", "2020"]


def test_at_granularity():
    [day] = find_time_expressions("They spoke on Tuesday.", PUBLISHED)
    assert at_granularity(day, "year") == "2021"
    assert at_granularity(day, "month") == "September 2021"
    assert at_granularity(day, None) == "14 September 2021"


# ---- question analysis -----------------------------------------------------------------------------------


@pytest.mark.parametrize("question, kind, answer_type", [
    ("When did Lavrov visit Pakistan?", "when", "date"),
    (MINISTERS_Q, "when", "date"),
    ("On what date did Khan and Putin speak?", "when", "date"),
    ("How long did Sergey Lavrov's trip to Pakistan last?", "how_much", "duration"),
    ("How many people attended the festival?", "how_much", "number"),
    ("How much did the pipeline cost?", "how_much", "money"),
    ("What percentage of voters backed the plan?", "how_much", "percent"),
    (UNANSWERABLE_Q, "who", "person"),
    ("Which leader initiated the latest phone call?", "who", "person"),
    ("Where did Lavrov go?", "where", "place"),
    ("Why did the talks fail?", "why", "reason"),
    ("Did Putin visit Pakistan?", "yes_no", "yesno"),
    ("What is the name of the spokesman?", "what", "name"),
    ("Which joint naval drill did Lavrov cite?", "what", "name"),
    # the head noun says what is asked for, even with a verb of paying later in the question
    ("On what date did the council say the bridge would cost £3m?", "when", "date"),
    ("In what year did the house sell for £1m?", "when", "date"),
    ("Which striker was sold for £20m?", "who", "person"),
    ("What did the painting sell for?", "how_much", "money"),
    ("What does a season ticket cost?", "how_much", "money"),
])
def test_analyse_kinds(question, kind, answer_type):
    analysis = analyse(question)
    assert (analysis.kind, analysis.answer_type) == (kind, answer_type)


def test_analyse_granularity_and_anchors():
    assert analyse(MINISTERS_Q).granularity == "year"
    assert analyse("In what month were there reports?").granularity == "month"
    assert analyse("On what date did they talk?").granularity == "day"
    assert analyse(LAVROV_Q).granularity is None
    assert analyse(LAVROV_Q).anchors == ("lavrov", "pakistan")
    assert analyse(UNANSWERABLE_Q).anchors == ("2021", "pakistani")


def test_analyse_adjective_before_place_noun():
    analysis = analyse("Which Pakistani city did Sergey Lavrov visit?")
    assert (analysis.kind, analysis.answer_type) == ("where", "place")


def test_analyse_unit_of_how_many():
    assert analyse("How many people attended the festival?").unit == "peopl"


@pytest.mark.parametrize("question, answer_type", [
    # the head noun after "which"/"what" decides, not a list of question words (made-up questions, not from any set)
    ("Which Norwegian judge dismissed the appeal?", "person"),
    ("Which film producer is backing the remake?", "person"),
    ("Which Leeds United striker scored twice?", "person"),
    ("Which Morgan Stanley strategist predicted the rally?", "person"),
    ("Which Tory MP's amendment was defeated?", "person"),
    ("In which hotel did the band stay?", "place"),
    ("What fee did the club pay for the winger?", "money"),
    ("What is the new cap on foreign ownership of airlines?", "number"),
    ("What was the runner's winning time in Oslo?", "number"),
    ("Which Japanese car company holds a majority stake in the venture?", "name"),
    ("Which court ruled on the merger?", "name"),
    ("What is the budget airline's new route called?", "name"),
    ("What did the painting sell for at auction?", "money"),
    ("According to the report, when did the minister change his mind?", "date"),
])
def test_analyse_head_noun(question, answer_type):
    assert analyse(question).answer_type == answer_type


def test_analyse_head_stems():
    assert analyse("Which film producer is backing the remake?").head == ("film", "produc")
    assert analyse("Who is the chief executive of the airline?").head == ("chief", "execut")
    assert analyse("Who founded the airline?").head == ()


def test_places_before_based():
    from assistant.ranker.spans import places

    assert [p.text for p in places("Shares in Bracknell-based Exel rose.")] == ["Bracknell"]


REVISED_ARTICLES = {
    "wall-1.txt": "Harbour wall repair to cost £1.2m\nDate: 4 March 2022\n\nRepairing the harbour wall at Elsby will "
                  "cost £1.2 million, Elsby Town Council said on Thursday. Work is due to start in May. The wall was "
                  "damaged in storms last winter.\n",
    "wall-2.txt": "Harbour wall repair bill rises\nDate: 15 September 2022\n\nThe bill for repairing the harbour wall "
                  "at Elsby has gone up to £1.9 million, the town council said. Contractors found that the "
                  "foundations were weaker than surveys had shown. Fishermen have been asked to use the north quay "
                  "until the work is finished.\n",
    "library.txt": "New library opens in Elsby\nDate: 1 May 2022\n\nElsby's new library opened on Saturday after a "
                   "£600,000 refit of the old corn store. It has room for 20,000 books and a café.\n",
}


def test_the_default_answerer_leads_with_a_revised_value_and_names_the_earlier_one(make_assistant, tmp_path):
    from conftest import write_folder

    assistant = make_assistant()
    assistant.ingest(write_folder(tmp_path / "articles", REVISED_ARTICLES))
    answer = assistant.ask("How much will the repair of the Elsby harbour wall cost?")
    assert answer.short_answer == "£1.9 million"
    assert answer.text.index("£1.9 million") < answer.text.index("Earlier: £1.2 million (2022-03-04)")
    assert [c.date for c in answer.citations] == ["2022-09-15", "2022-03-04"]
    assert len(answer.text.split()) <= MAX_ANSWER_WORDS
    # asked as of a date before the revision, the earlier figure is the answer, with nothing newer named
    before = assistant.ask("How much will the repair of the Elsby harbour wall cost?", as_of="2022-06-01")
    assert before.short_answer == "£1.2 million" and "Earlier" not in before.text


def test_a_trimmed_sentence_keeps_to_its_budget_with_the_cut_marks():
    from assistant.ranker.extractive import _trim

    sentence = " ".join(f"word{i}" for i in range(80)) + " harbour wall cost " + " ".join(f"w{i}" for i in range(40))
    for budget in (10, 30, 56):
        trimmed = _trim(sentence, budget, analyse("How much did the harbour wall cost?"))
        assert len(trimmed.split()) <= budget and "…" in trimmed and "harbour" in trimmed


@pytest.mark.slow
def test_the_verified_backend_answers_when_both_models_find_the_answer_and_refuses_near_misses(make_assistant,
                                                                                                tmp_path):
    from conftest import write_folder

    assistant = make_assistant()
    assistant.ingest(write_folder(tmp_path / "articles", REVISED_ARTICLES))
    both = assistant.ask("How much will the repair of the Elsby harbour wall cost?", backend="verified")
    assert both.short_answer == "£1.9 million" and not both.refused
    # near misses: the articles name the quay and the fishermen but give neither figure; the sentence ranker
    # answers them with the wall's cost, the span reader finds no answer, so the verified backend refuses
    for question in ("How much did the north quay cost to build?", "How many fishermen use the Elsby harbour?"):
        assert not assistant.ask(question, backend="extractive").refused
        assert assistant.ask(question).refused  # verified is the default
