"""Compose the answer: the short answer (the reader's span, a relative date resolved against the article's date),
the sentence it comes from, quoted and cited, within MAX_ANSWER_WORDS."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from assistant.core.answer import MAX_ANSWER_WORDS, Answer, Citation, Passage
from assistant.reading.read import Span
from assistant.text.dates import at_granularity, find_time_expressions, format_day_of
from assistant.text.sentences import split_sentences
from assistant.text.timeframe import day_or_none


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of `text` that hold characters start..end."""
    spans = split_sentences(text)
    first = next((s for s in spans if s.end > start), None)
    last = next((s for s in reversed(spans) if s.start < end), None)
    if first is None or last is None:
        return start, end
    return first.start, max(first.end, last.end)


def short_answer(span: Span, sentence: str, offset: int, published: date | None, granularity: str | None) -> str:
    """The span, or the resolved form of the time expression it lies in ("April this year" -> "April 2021").

    A question after the day ("On what date did the council say …") whose answer sentence names no day is answered
    with the article's own date: news reports what was said on the day it is published."""
    text = _tidy(span.text)
    start, end = span.start - offset, span.end - offset
    for expression in find_time_expressions(sentence, published):
        if expression.start < end and start < expression.end:
            resolved = at_granularity(expression, granularity)
            if resolved and (expression.end - expression.start) >= (end - start) * 0.5:
                if granularity == "day" and expression.granularity != "day" and published:
                    break
                return resolved
    else:
        if granularity != "day" or not published:
            return text
    return format_day_of(published) if published else text


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


@dataclass
class Finding:
    """A span the answer rests on, in the passage it was read in."""

    span: Span
    passage: Passage


def compose(question: str, kind: str, span: Span, passage: Passage, confidence: float,
            granularity: str | None = None, short: bool = True, earlier: Finding | None = None) -> Answer:
    """One cited sentence, led by the short answer unless `short` is False (yes/no questions). With `earlier`, a
    value an older article gave is named after it with its date, cited too ("£3.5m … Earlier: £2m (12 June 2023)")."""
    findings = [Finding(span, passage)] + ([earlier] if earlier else [])
    parts, citations = [], []
    budget = MAX_ANSWER_WORDS
    short_text = ""
    for number, finding in enumerate(findings, start=1):
        text = finding.passage.text
        start, end = sentence_around(text, finding.span.start, finding.span.end)
        sentence = text[start:end]
        lead = (
            short_answer(finding.span, sentence, start, day_or_none(finding.passage.date), granularity) if short else ""
        )
        if number == 1:
            short_text = lead
        if number > 1:
            when = finding.passage.date or "an earlier article"
            lead = f"Earlier: {lead or 'the articles said'} ({when})"
        elif earlier is not None and finding.passage.date:
            lead = f"{lead} (as of {finding.passage.date})" if lead else lead
        share = budget if number == len(findings) else budget // 2
        room = max(8, share - len(lead.split()) - 1)
        while True:  # the marker and the ellipses of a trimmed sentence count as words too
            shown = trim_words(sentence, room, finding.span.start - start, finding.span.end - start)
            part = f"{lead}. {shown} [{number}]" if lead else f"{shown} [{number}]"
            if len(part.split()) <= share or room <= 8:
                break
            room -= 1
        budget -= len(part.split())
        parts.append(part)
        citations.append(Citation(number=number, article_id=finding.passage.article_id, source=finding.passage.source,
                                  title=finding.passage.title, date=finding.passage.date, url=finding.passage.url,
                                  quote=sentence, quote_start=finding.passage.start + start,
                                  quote_end=finding.passage.start + end, passage=text,
                                  passage_start=finding.passage.start, passage_end=finding.passage.end))
    return Answer(question=question, text=" ".join(parts), short_answer=short_text or None, citations=citations,
                  confidence=confidence, kind=kind)
