"""Time in the question: words that tie it to the date of asking ("this week", "recently", "latest").

With a date of asking (`as_of`; without one, the newest article in the collection), a question that says "this week"
or "recently" is about articles of the days before it; "this month" and "this year" about that month or year. Words
that ask for the newest state ("latest", "currently", "so far") cap nothing but the date of asking itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from assistant.core.errors import InputError

RECENT_DAYS = 8  # "this week", "recently", "just": the week before the date of asking, and the day itself
_RECENT = re.compile(r"\b(this week(?:end)?|last week|recent(?:ly)?|just|today|yesterday|this morning|tonight|"
                     r"days? ago|earlier this week)\b", re.IGNORECASE)
_THIS_MONTH = re.compile(r"\b(this month|earlier this month)\b", re.IGNORECASE)
_THIS_YEAR = re.compile(r"\b(this year|so far this year)\b", re.IGNORECASE)
_LATEST = re.compile(r"\b(latest|most recent|newest|currently|current|now|so far|still|as of)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    date_from: date | None
    date_to: date
    reason: str  # the words that set it, for logs and messages


def question_window(question: str, reference: date) -> Window | None:
    """The dates the question's own words point at, read against `reference` (the date of asking)."""
    if match := _RECENT.search(question):
        return Window(reference - timedelta(days=RECENT_DAYS), reference, match.group(0))
    if match := _THIS_MONTH.search(question):
        return Window(reference - timedelta(days=31), reference, match.group(0))
    if match := _THIS_YEAR.search(question):
        return Window(date(reference.year, 1, 1), reference, match.group(0))
    return None


def asks_for_latest(question: str) -> bool:
    return bool(_LATEST.search(question))


def parse_day(value: str | date | None, what: str = "date") -> date | None:
    """A date the user gave: an ISO date (2021-09-14) or a date object; anything else is a clear error."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"The {what} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2021-09-14.") from None


def day_or_none(value: str | date | None) -> date | None:
    """A date the store holds (an article's date, a citation's): an ISO date, or a timestamp that starts with one
    ("2021-09-14T08:00"); None when there is none or it cannot be read."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10]) if value else None
    except ValueError:
        return None
