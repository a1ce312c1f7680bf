"""Unit tests of the reading stages on made-up sentences, and the real span reader on the seed article."""

from __future__ import annotations

import random

import numpy as np
import pytest

from assistant.core.answer import Answer, Passage
from assistant.reading.analyse import analyse_question
from assistant.reading.candidates import passages_to_read
from assistant.reading.compose import compose, sentence_around, short_answer, trim_words
from assistant.reading.read import Span, SpanReader
from assistant.reading.refuse import Calibration, fit_span_calibration, rank_prior
from assistant.text.revisions import SAME_FACT, Statement, same_fact

from conftest import SEED_FILE


def _passage(text: str, date: str | None = "2021-09-14", article: str = "a1", chunk: str = "c1") -> Passage:
    return Passage(chunk_id=chunk, article_id=article, source=f"{article}.txt", title="T", date=date, url=None,
                   text=text, start=100, end=100 + len(text))


def _span(text: str, sentence: str, passage: int = 0, margin: float = 3.0) -> Span:
    start = sentence.index(text)
    return Span(passage, start, start + len(text), text, margin, 0.0)


def test_relative_month_resolved_against_the_article_date():
    sentence = "Lavrov visited Islamabad in April this year."
    assert short_answer(_span("April this year", sentence), sentence, 0, _date("2021-09-14"), None) == "April 2021"
    assert short_answer(_span("April", sentence), sentence, 0, _date("2021-09-14"), None) == "April 2021"
    assert short_answer(_span("April", sentence), sentence, 0, _date("2021-09-14"), "year") == "2021"


def test_a_name_span_is_kept_whole_with_its_accents():
    sentence = "The summit moved to São Paulo after talks in Łódź and Zürich."
    assert short_answer(_span("São Paulo", sentence), sentence, 0, None, None) == "São Paulo"
    assert short_answer(_span("Łódź", sentence), sentence, 0, None, None) == "Łódź"


def test_compose_quotes_the_sentence_holding_the_span_and_cites_it():
    text = "The talks ended. Lavrov visited Islamabad in April this year, officials said. Nothing else happened."
    passage = _passage(text)
    answer = compose("When did Lavrov visit Pakistan?", "when", _span("April this year", text), passage, 0.8)
    assert answer.short_answer == "April 2021"
    assert answer.text.startswith("April 2021. Lavrov visited Islamabad")
    citation = answer.citations[0]
    assert citation.quote == "Lavrov visited Islamabad in April this year, officials said."
    assert citation.quote_start == 100 + text.index("Lavrov")
    assert not answer.refused and answer.confidence == 0.8


def test_long_sentences_are_trimmed_around_the_answer():
    words = [f"w{i}" for i in range(120)]
    words[90] = "ANSWER"
    sentence = " ".join(words)
    at = sentence.index("ANSWER")
    shown = trim_words(sentence, 40, at, at + 6)
    assert "ANSWER" in shown and len(shown.split()) <= 42 and shown.startswith("…")


def test_sentence_around_covers_a_span_across_two_sentences():
    text = "One. Two three. Four."
    assert text[slice(*sentence_around(text, text.index("Two"), text.index("Four") + 2))] == "Two three. Four."


def test_passages_to_read_adds_the_top_articles_and_stops_at_the_bound():
    retrieved = [_passage("a", article="a1", chunk="c1"), _passage("b", article="a2", chunk="c2")]
    whole = {"a1": [_passage("a", article="a1", chunk="c1"), _passage("a more", article="a1", chunk="c3")],
             "a2": [_passage("b more", article="a2", chunk="c4")]}
    read = passages_to_read(retrieved, lambda ids: [p for i in ids for p in whole[i]], 1, 10)
    assert [p.chunk_id for p in read] == ["c1", "c2", "c3"]
    assert len(passages_to_read(retrieved, lambda ids: [p for i in ids for p in whole[i]], 2, 3)) == 3


def test_calibration_is_monotone_and_its_threshold_separates_right_from_wrong():
    rng = random.Random(0)
    questions = []
    for _ in range(400):
        has_answer = rng.random() < 0.6
        spans = []
        for rank in range(3):
            holds = has_answer and rank == 0  # the first article holds the answer
            margin = rng.gauss(3.0 if holds else -2.0, 2.0)
            spans.append((margin, 1.0, rank_prior(rank), holds and margin > 0))
        questions.append({"answerable": has_answer, "spans": spans})
    fitted = fit_span_calibration(questions)
    calibration = Calibration.from_record({"calibration": fitted})
    assert calibration.confidence(5.0) > calibration.confidence(0.0) > calibration.confidence(-5.0)
    assert calibration.confidence(1.0, rank_prior=1.0) > calibration.confidence(1.0, rank_prior=1 / 3)
    assert 0.2 <= fitted["threshold"] <= 0.8
    assert fitted["validation_accuracy"] > 0.8


def _date(text: str):
    from datetime import date

    return date.fromisoformat(text)


def test_the_real_reader_finds_the_answer_in_the_seed_article():
    assert SpanReader.available(), "the shipped reader model is missing: reinstall, or `make train-reader`"
    text = SEED_FILE.read_text(encoding="utf-8")
    spans = SpanReader.shared().read("How long did Lavrov's trip last?", [text])
    assert spans and "two-day" in spans[0].text
    assert text[spans[0].start:spans[0].end] == spans[0].text
    unrelated = SpanReader.shared().read("Who won the 1998 football World Cup?", [text])
    assert not unrelated or unrelated[0].margin < spans[0].margin


def test_a_day_question_without_a_day_in_the_sentence_gets_the_article_date():
    sentence = "The council announced the closure of the bridge, citing safety."
    assert short_answer(_span("the closure of the bridge", sentence), sentence, 0, _date("2023-10-10"), "day") \
        == "10 October 2023"
    day = "The bridge closed on Monday."
    assert short_answer(_span("Monday", day), day, 0, _date("2023-10-10"), "day") == "9 October 2023"
    assert short_answer(_span("the bridge", sentence), sentence, 0, None, "day") == "the bridge"


class _FixedReader:
    """A stand-in for one unit test of the answerer's composition: returns the spans it is given."""

    def __init__(self, spans_by_text: dict[str, tuple[str, float]]) -> None:
        self.spans_by_text = spans_by_text
        self.record = {"calibration": {"slope": 1.0, "intercept": 0.0, "threshold": 0.5}}

    def read(self, question, texts):
        spans = []
        for index, text in enumerate(texts):
            for key, (value, margin) in self.spans_by_text.items():
                if key in text:
                    start = text.index(value)
                    spans.append(Span(index, start, start + len(value), value, margin, 0.0))
        return sorted(spans, key=lambda s: s.margin, reverse=True)


def test_a_revised_figure_leads_with_the_newest_and_names_the_earlier_one():
    from assistant.reading.answerer import ReaderAnswerer

    june = _passage("The repair of the bridge will cost £2.4 million, the council said.", "2023-06-13", "a1", "c1")
    october = _passage(
        "The repair of the bridge will now cost £3.1 million, the council said.", "2023-10-02", "a2", "c2"
    )
    reader = _FixedReader({"£2.4 million": ("£2.4 million", 3.0), "£3.1 million": ("£3.1 million", 2.8)})
    answer = ReaderAnswerer(reader).answer("How much will the bridge repair cost?", [june, october])
    assert answer.short_answer == "£3.1 million"
    assert answer.text.index("£3.1 million") < answer.text.index("Earlier: £2.4 million (2023-06-13)")
    assert [c.date for c in answer.citations] == ["2023-10-02", "2023-06-13"]


def test_different_facts_in_newer_articles_do_not_count_as_revisions():
    from assistant.reading.answerer import ReaderAnswerer

    first = _passage("The bridge closed on 3 July for repairs, the council said.", "2023-07-04", "a1", "c1")
    later = _passage("The ferry company ordered a new ship costing £28 million.", "2023-11-20", "a2", "c2")
    reader = _FixedReader({"3 July": ("3 July", 3.0), "£28 million": ("£28 million", 2.9)})
    answer = ReaderAnswerer(reader).answer("When did the bridge close?", [first, later])
    assert answer.short_answer == "3 July 2023" and len(answer.citations) == 1


def test_below_the_calibrated_threshold_the_answerer_refuses():
    from assistant.reading.answerer import ReaderAnswerer

    passage = _passage("The council met on Tuesday.", "2023-07-04")
    answer = ReaderAnswerer(_FixedReader({"Tuesday": ("Tuesday", -2.0)})).answer("Who chairs the council?", [passage])
    assert answer.refused and not answer.citations and answer.confidence < 0.5


def test_anchors_are_the_questions_names_and_numbers_and_coverage_counts_them():
    from assistant.reading.refuse import anchor_coverage, anchors

    assert anchors("What pre-tax profit did Tesco report for its 2009 financial year?") == ["tesco", "2009"]
    assert anchors("when did it happen?") == []
    assert anchor_coverage("What did Tesco report for 2009?", "Tesco reported a profit in 2004.") == 0.5
    assert anchor_coverage("What happened?", "anything") == 1.0
    assert anchor_coverage("Who won in São Paulo?", "The race in São Paulo was won by Ana.") == 1.0

@pytest.mark.parametrize("question, kind", [
    ("When did Lavrov visit Pakistan?", "when"),
    ("In which year did Pakistan's foreign and defense ministers visit Russia?", "when"),
    ("On what date did Khan and Putin speak?", "when"),
    ("How long did Sergey Lavrov's trip to Pakistan last?", "how_much"),
    ("How much did the pipeline cost?", "how_much"),
    ("Who won the 2021 Pakistani general election?", "who"),
    ("Where did Lavrov go?", "where"),
    ("Why did the talks fail?", "why"),
    ("Did Putin visit Pakistan?", "yes_no"),
    ("Which joint naval drill did Lavrov cite?", "what"),
])
def test_span_reader_analyse_kinds(question, kind):
    assert analyse_question(question).kind == kind


def test_span_reader_analysis_granularity_and_head_noun_from_the_parse():
    assert (
        analyse_question("In which year did Pakistan's foreign and defense ministers visit Russia?").granularity
        == "year"
    )
    assert analyse_question("In what month were there reports?").granularity == "month"
    assert analyse_question("On what date did they talk?").granularity == "day"
    assert analyse_question("When did Lavrov visit Pakistan?").granularity is None
    assert analyse_question("Which Leeds United striker scored twice?").head == "striker"
    assert analyse_question("Which animals were rescued from the flood?").head == "animal"
    assert analyse_question("Who founded the airline?").head is None


# Made-up statements of one fact in other words (a value revised) and of different facts about the same thing with the
# same shape of value; none is one of the pairs SAME_FACT was chosen on.
SAME_FACT_PAIRS = [
    ("The concert hall will reopen in March 2025.", "March 2025",
     "The concert hall's doors are now due to open again to audiences in October 2025.", "October 2025"),
    ("The charity has 2,300 volunteers.", "2,300",
     "Volunteers working for the charity now number 2,750.", "2,750"),
    ("The bypass is expected to be finished by 30 June.", "30 June",
     "Completion of the new bypass has been put back to 14 August, the highways agency said.", "14 August"),
]
DIFFERENT_FACT_PAIRS = [
    ("The cost of the flood wall rose to £3.6m, the agency said.", "£3.6m",
     "The agency's annual budget for river maintenance is £900,000.", "£900,000"),
]
# Different facts whose cosine lies on SAME_FACT itself (0.645 to 0.655): the int8 kernels onnxruntime picks for the
# CPU decide which side, so the test holds them to the boundary instead of to a decision the hardware makes.
BORDERLINE_PAIRS = [
    ("The concert hall will reopen in March 2025.", "March 2025", "The concert hall was built in 1962.", "1962"),
    ("The charity has 2,300 volunteers.", "2,300",
     "The charity answered 41,000 calls to its helpline last year.", "41,000"),
]
# Held-out pairs the embedding decides wrongly (cosines 0.59 and 0.74 against SAME_FACT 0.65): a paraphrase with no
# word of the fact in common, and two events of one subject, whose shared subject dominates the sentence embedding.
# Strict: the test says so when a better measure gets them right.
SAME_FACT_MISSED = [
    (("The cost of the flood wall rose to £3.6m, the agency said.", "£3.6m",
      "The bill for building the flood defence is now £4.2m.", "£4.2m"), True),
    (("The bypass is expected to be finished by 30 June.", "30 June",
      "Construction of the bypass began on 4 January.", "4 January"), False),
]


def _stated(text: str, value: str, article: str) -> Statement:
    """`value` stated in `text`, as the span reader's answerer hands it to assistant/text/revisions.py."""
    from assistant.reading.answerer import statement

    return statement(_span(value, text), _passage(text, article=article, chunk=article))


def _decide(pair: tuple[str, str, str, str]) -> bool:
    from assistant.models.embedding import Embedder

    first, first_value, second, second_value = pair
    return same_fact(Embedder.shared().embed, _stated(first, first_value, "a1"),
                     [_stated(second, second_value, "a2")]) == [True]


@pytest.mark.parametrize("pair, expected", [(p, True) for p in SAME_FACT_PAIRS] +
                         [(p, False) for p in DIFFERENT_FACT_PAIRS])
def test_same_fact_tells_a_revised_value_from_another_fact(pair, expected):
    assert _decide(pair) == expected


@pytest.mark.parametrize("pair", BORDERLINE_PAIRS)
def test_borderline_pairs_sit_on_the_same_fact_boundary(pair):
    from assistant.models.embedding import Embedder

    first, first_value, second, second_value = pair
    facts = [_stated(first, first_value, "a1").fact, _stated(second, second_value, "a2").fact]
    vectors = Embedder.shared().embed(facts)
    assert abs(float(vectors[0] @ vectors[1]) - SAME_FACT) < 0.02


@pytest.mark.xfail(strict=True, reason="sentence embeddings: the shared subject outweighs the event or attribute")
@pytest.mark.parametrize("pair, expected", SAME_FACT_MISSED)
def test_same_fact_known_misses(pair, expected):
    assert _decide(pair) == expected


def test_a_different_shape_of_value_is_never_the_same_fact():
    def embed(texts):  # every sentence alike: only the shape can tell them apart
        return np.ones((len(texts), 2)) / np.sqrt(2)

    cost = _stated("The repair will cost £2m.", "£2m", "a1")
    assert same_fact(embed, cost, [_stated("The repair will finish on 3 May.", "3 May", "a2"),
                                   _stated("The repair will now cost £2.5m.", "£2.5m", "a3")]) == [False, True]


def test_asked_for_the_latest_a_changed_from_value_gives_way_to_the_changed_to_one():
    from assistant.reading.answerer import changed_to

    text = "The opening has been put back from the summer of 2025 to the first quarter of 2026, the trust said."
    old, new = _span("2025", text), _span("2026", text)
    assert changed_to(old, [old, new], text) is new
    hours = "The market opens on Saturday from 9am, and on Sunday to 2pm."
    assert changed_to(_span("9am", hours), [_span("9am", hours), _span("2pm", hours)], hours).text == "9am"


def test_an_answer_with_an_earlier_value_keeps_to_the_word_limit():
    from assistant.core.answer import MAX_ANSWER_WORDS
    from assistant.reading.compose import Finding

    filler = " ".join(f"word{i}" for i in range(40))
    new = _passage(f"{filler} the opening was put back to the first quarter of 2026, {filler}.", "2024-01-17", "a2")
    old = _passage(f"{filler} the wing is due to open in the summer of 2025, {filler}.", "2023-06-28", "a1")
    answer = compose("When will the wing open?", "when", _span("2026", new.text), new, 0.9,
                     earlier=Finding(_span("2025", old.text), old))
    assert len(answer.text.split()) <= MAX_ANSWER_WORDS and "Earlier:" in answer.text


class _Fixed:
    """A stand-in answerer for the unit test of how the verified backend combines two answers."""

    def __init__(self, answer: Answer) -> None:
        self.given = answer

    def answer(self, question, passages):
        return self.given


def test_verified_refuses_when_either_model_refuses_and_keeps_the_rankers_answer_otherwise():
    from assistant.reading.verify import VerifiedAnswerer

    question = "How much did the bridge cost?"
    answered = Answer(question=question, text="£2m. The bridge cost £2m. [1]", short_answer="£2m", confidence=0.8)
    refused = Answer.refusal(question, "how_much", 0.1)
    assert VerifiedAnswerer(_Fixed(answered), _Fixed(answered)).answer(question, []) is answered
    verdict = VerifiedAnswerer(_Fixed(answered), _Fixed(refused)).answer(question, [])
    assert verdict.refused and verdict.confidence == 0.1
    assert VerifiedAnswerer(_Fixed(refused), _Fixed(answered)).answer(question, []) is refused
    sure = Answer(question=question, text="£2m. The bridge cost £2m. [1]", short_answer="£2m", confidence=0.97)
    assert VerifiedAnswerer(_Fixed(sure), _Fixed(refused)).answer(question, []) is sure  # at or above VERIFY_BELOW


def test_the_verify_threshold_is_the_one_of_best_overall_accuracy_ties_to_the_lower():
    from tools.choose_verify_threshold import choose

    measured = [{"threshold": 0.5, "overall": 0.80}, {"threshold": 0.9, "overall": 0.86},
                {"threshold": 0.95, "overall": 0.86}]
    assert choose(measured)["threshold"] == 0.9
