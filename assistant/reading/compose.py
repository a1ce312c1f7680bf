"""Compose the answer: the short answer (the reader's span, a relative date resolved against the article's date),
the sentence it comes from, quoted and cited, within MAX_WORDS."""

from __future__ import annotations

import re
from datetime import date

from assistant.answer import Answer, Citation, Passage
from assistant.dates import at_granularity, find_time_expressions
from assistant.reading.span_reader import Span
from ingest.sentences import split_sentences

MAX_WORDS = 60  # the whole answer text, short answer and quote together


def article_date(passage: Passage) -> date | None:
    try:
        return date.fromisoformat(passage.date) if passage.date else None
    except ValueError:
        return None


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of `text` that hold characters start..end."""
    spans = split_sentences(text)
    first = next((s for s in spans if s.end > start), None)
    last = next((s for s in reversed(spans) if s.start < end), None)
    if first is None or last is None:
        return start, end
    return first.start, max(first.end, last.end)


def short_answer(span: Span, sentence: str, offset: int, published: date | None, granularity: str | None) -> str:
    """The span, or the resolved form of the time expression it lies in ("April this year" -> "April 2021")."""
    text = _tidy(span.text)
    start, end = span.start - offset, span.end - offset
    for expression in find_time_expressions(sentence, published):
        if expression.start < end and start < expression.end:
            resolved = at_granularity(expression, granularity)
            if resolved and (expression.end - expression.start) >= (end - start) * 0.5:
                return resolved
    return text


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    return text.strip(" ,;:.\"'“”‘’()[]") or text


def trim_words(sentence: str, budget: int, keep_from: int, keep_to: int) -> str:
    """The sentence, or a window of at most `budget` words around characters keep_from..keep_to."""
    words = list(re.finditer(r"\S+", sentence))
    if len(words) <= budget:
        return sentence
    centre = next((i for i, w in enumerate(words) if w.end() > keep_from), 0)
    first = max(0, min(centre - budget // 3, len(words) - budget))
    window = " ".join(w.group() for w in words[first:first + budget])
    return ("… " if first else "") + window + (" …" if first + budget < len(words) else "")


def compose(question: str, kind: str, span: Span, passage: Passage, confidence: float,
            granularity: str | None = None, lead: str | None = None) -> Answer:
    start, end = sentence_around(passage.text, span.start, span.end)
    sentence = passage.text[start:end]
    short = lead or short_answer(span, sentence, start, article_date(passage), granularity)
    budget = MAX_WORDS - len(short.split()) - 1
    shown = trim_words(sentence, budget, span.start - start, span.end - start)
    text = f"{short}. {shown} [1]" if short else f"{shown} [1]"
    citation = Citation(number=1, article_id=passage.article_id, source=passage.source, title=passage.title,
                        date=passage.date, url=passage.url, quote=sentence, quote_start=passage.start + start,
                        quote_end=passage.start + end, passage=passage.text, passage_start=passage.start,
                        passage_end=passage.end)
    return Answer(question=question, text=text, short_answer=short or None, citations=[citation],
                  confidence=confidence, kind=kind)
