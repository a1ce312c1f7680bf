"""A timeline of a topic: the dated events the articles report about it, in order, each cited.

An event is a sentence about the topic that holds a time expression ("on Monday", "in April this year",
"2023-11-02"), resolved against its article's date. The same event told by several articles (same resolved date,
mostly the same words) becomes one entry citing each of them.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from assistant.core.answer import Citation, Passage
from assistant.text.dates import MONTHS, find_time_expressions
from assistant.text.sentences import split_sentences
from assistant.text.terms import terms
from assistant.text.timeframe import day_or_none, parse_day

if TYPE_CHECKING:
    from assistant.api import Assistant

PASSAGES = 40  # passages retrieved for a topic
SAME_EVENT = 0.5  # share of words two sentences of the same date must have in common to be one event
_SEASON_START = {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}


@dataclass
class Event:
    when: str  # as resolved: "14 September 2021", "April 2021", "Q3 2023"
    day: date  # where it sorts: the first day of the period
    text: str  # the sentence that reports it
    citations: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["day"] = self.day.isoformat()
        return data


@dataclass
class Timeline:
    topic: str
    events: list[Event]

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "events": [e.to_dict() for e in self.events]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_markdown(self) -> str:
        lines = [f"# Timeline: {self.topic}", ""]
        if not self.events:
            return "\n".join(lines + ["No dated events about this topic were found in the articles.", ""])
        sources: list[Citation] = []
        for event in self.events:
            numbers = []
            for citation in event.citations:
                key = (citation.source, citation.quote_start)
                found = next((i for i, c in enumerate(sources, 1) if (c.source, c.quote_start) == key), None)
                if found is None:
                    sources.append(citation)
                    found = len(sources)
                numbers.append(f"[{found}]")
            lines.append(f"- **{event.when}**: {event.text} {' '.join(numbers)}")
        lines += ["", "## Sources", ""]
        lines += [f"{i}. {c.title} ({c.date or 'undated'}), {c.source}" for i, c in enumerate(sources, 1)]
        return "\n".join(lines) + "\n"


def build_timeline(assistant: "Assistant", topic: str, date_from: date | str | None = None,
                   date_to: date | str | None = None, source: str | None = None) -> Timeline:
    passages = assistant.retrieve(topic, PASSAGES, date_from=date_from, date_to=date_to, source=source)
    wanted = set(terms(topic))
    low, high = parse_day(date_from, "start date"), parse_day(date_to, "end date")
    events: list[Event] = []
    seen: set[tuple[str, int]] = set()
    for passage in passages:
        published = day_or_none(passage.date)
        for span in split_sentences(passage.text):
            key = (passage.article_id, passage.start + span.start)
            if key in seen:
                continue
            seen.add(key)
            sentence = passage.text[span.start:span.end]
            if not _about(sentence, passage, wanted):
                continue
            for expression in find_time_expressions(sentence, published):
                day = period_start(expression.resolved)
                if day is None or (low and day < low) or (high and day > high):
                    continue
                _add(events, Event(expression.resolved or "", day, sentence, [_citation(passage, span)]))
                break  # one event per sentence: its first dated expression
    events.sort(key=lambda e: (e.day, e.when))
    return Timeline(topic, events)


def _about(sentence: str, passage: Passage, wanted: set[str]) -> bool:
    """The sentence shares a word with the topic, in an article retrieved for it (the retrieval did the rest)."""
    return bool(set(terms(sentence)) & wanted)


def _add(events: list[Event], event: Event) -> None:
    words = set(terms(event.text))
    for other in events:
        if other.when != event.when:
            continue
        other_words = set(terms(other.text))
        if words and other_words and len(words & other_words) / len(words | other_words) >= SAME_EVENT:
            if all(c.source != event.citations[0].source for c in other.citations):
                other.citations.extend(event.citations)
            return
    events.append(event)


def period_start(resolved: str | None) -> date | None:
    """Where a resolved time expression sorts: "14 September 2021", "April 2021", "2020", "the week of 6 September
    2021", "Q3 2023", "spring 2024", "the end of 2024", "1990s"."""
    if not resolved:
        return None
    text = resolved.lower().replace("the week of ", "")
    month_names = "|".join(MONTHS)
    if m := re.fullmatch(rf"(\d{{1,2}}) ({month_names}) (\d{{4}})", text):
        return _safe(int(m[3]), MONTHS.index(m[2]) + 1, int(m[1]))
    if m := re.fullmatch(rf"(?:the (?:end|start|middle) of )?({month_names}) (\d{{4}})", text):
        return _safe(int(m[2]), MONTHS.index(m[1]) + 1, 1)
    if m := re.fullmatch(r"q([1-4]) (\d{4})", text):
        return _safe(int(m[2]), 3 * int(m[1]) - 2, 1)
    if m := re.fullmatch(r"(spring|summer|autumn|winter) (\d{4})", text):
        return _safe(int(m[2]), _SEASON_START[m[1]], 1)
    if m := re.fullmatch(r"the end of (\d{4})", text):
        return _safe(int(m[1]), 12, 31)
    if m := re.fullmatch(r"(?:the (?:start|middle) of )?(\d{4})", text):
        return _safe(int(m[1]), 1, 1)
    if m := re.fullmatch(r"(\d{4})s", text):
        return _safe(int(m[1]), 1, 1)
    if m := re.fullmatch(r"the (?:end|start|middle) of the week of (\d{1,2}) (\w+) (\d{4})", resolved.lower()):
        start = _safe(int(m[3]), MONTHS.index(m[2]) + 1, int(m[1])) if m[2] in MONTHS else None
        return start + timedelta(days=4) if start and "end" in resolved.lower() else start
    return None


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _citation(passage: Passage, span) -> Citation:
    return Citation(number=1, article_id=passage.article_id, source=passage.source, title=passage.title,
                    date=passage.date, url=passage.url, quote=passage.text[span.start:span.end],
                    quote_start=passage.start + span.start, quote_end=passage.start + span.end, passage=passage.text,
                    passage_start=passage.start, passage_end=passage.end)
