"""Find time expressions in a sentence and resolve them against the article's publication date.

News style, tested rather than trusted to a library default: in an article of
Tuesday 2021-09-14, "in April this year" is April 2021, "last year" is 2020,
"on Tuesday" is the day of publication and "on Monday" the day before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1}

_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_PATTERNS = [
    ("dmy", rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(?P<year>\d{{4}}))?\b"),
    ("mdy", rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{{4}}))?\b"),
    ("my", rf"\b(?:(?P<early>early|late|mid|end of|beginning of|the end of|the start of)\s+)?{_MONTH}(?:\s+(?P<year>\d{{4}})|\s+(?P<rel>this|last|next) year)?\b"),
    ("relyear", r"\b(?P<rel>this|last|next|past|previous) (?P<unit>year|month|week)\b"),
    ("ago", r"\b(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|a) (?P<unit>years?|months?|weeks?|days?) ago\b"),
    ("weekday", r"\b(?P<rel>on|last|this|next)?\s?(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"),
    ("deixis", r"\b(?P<word>yesterday|today|tomorrow|tonight)\b"),
    ("decade", r"\b(?:the\s+)?(?P<decade>(?:1[89]|20)\d0)s\b"),
    ("year", r"\b(?P<year>(?:1[89]|20)\d{2})\b"),
]
_COMPILED = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _PATTERNS]


@dataclass(frozen=True)
class TimeExpression:
    start: int
    end: int
    text: str
    resolved: str | None  # the absolute form ("April 2021", "2020", "14 September 2021"), when it can be worked out
    granularity: str  # day, month, year, decade, relative


def find_time_expressions(sentence: str, published: date | None) -> list[TimeExpression]:
    """Time expressions in `sentence`, longest first where they overlap, each resolved against `published`."""
    found: list[TimeExpression] = []
    taken: list[tuple[int, int]] = []
    for name, pattern in _COMPILED:
        for match in pattern.finditer(sentence):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            if name == "my" and match["month"].lower() == "may" and not (match["year"] or match["rel"] or _month_context(sentence, match.start())):
                continue  # "may" the verb
            resolved, granularity = _resolve(name, match, published)
            if resolved is None and granularity == "skip":
                continue
            taken.append((match.start(), match.end()))
            found.append(TimeExpression(match.start(), match.end(), match.group().strip(), resolved, granularity))
    return sorted(found, key=lambda e: e.start)


def _month_context(sentence: str, position: int) -> bool:
    before = sentence[max(0, position - 12):position].lower()
    return bool(re.search(r"\b(in|since|until|by|from|of|early|late|mid|last|next|this|before|after)\s+$", before))


def _month_number(text: str) -> int:
    return _MONTH_ABBR[text.lower().rstrip(".")[:4] if text.lower().startswith("sept") else text.lower()[:3]]


def _resolve(name: str, m: re.Match, published: date | None) -> tuple[str | None, str]:
    if name in ("dmy", "mdy"):
        month, day = _month_number(m["month"]), int(m["day"])
        year = int(m["year"]) if m["year"] else _year_for_month(month, published)
        if not 1 <= day <= 31:
            return None, "skip"
        return (format_day(year, month, day) if year else f"{day} {MONTHS[month - 1].title()}"), "day"
    if name == "my":
        month = _month_number(m["month"])
        if m["year"]:
            year = int(m["year"])
        elif m["rel"] and published:
            year = published.year + {"this": 0, "last": -1, "next": 1}[m["rel"].lower()]
        else:
            year = _year_for_month(month, published)
        label = MONTHS[month - 1].title()
        return (f"{label} {year}" if year else label), "month"
    if name == "relyear":
        if not published:
            return None, "relative"
        rel, unit = m["rel"].lower(), m["unit"].lower()
        shift = {"this": 0, "last": -1, "past": -1, "previous": -1, "next": 1}[rel]
        if unit == "year":
            return str(published.year + shift), "year"
        if unit == "month":
            month_index = published.year * 12 + published.month - 1 + shift
            return f"{MONTHS[month_index % 12].title()} {month_index // 12}", "month"
        return None, "relative"
    if name == "ago":
        if not published:
            return None, "relative"
        count = int(m["n"]) if m["n"].isdigit() else _NUMBER_WORDS[m["n"].lower()]
        unit = m["unit"].lower().rstrip("s")
        if unit == "year":
            return str(published.year - count), "year"
        if unit == "month":
            month_index = published.year * 12 + published.month - 1 - count
            return f"{MONTHS[month_index % 12].title()} {month_index // 12}", "month"
        days = count * (7 if unit == "week" else 1)
        return format_day_of(published - timedelta(days=days)), "day"
    if name == "weekday":
        if not published:
            return None, "relative"
        return format_day_of(_weekday_date(m["weekday"].lower(), (m["rel"] or "on").lower(), published)), "day"
    if name == "deixis":
        if not published:
            return None, "relative"
        shift = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}[m["word"].lower()]
        return format_day_of(published + timedelta(days=shift)), "day"
    if name == "decade":
        return f"{m['decade']}s", "decade"
    return m["year"], "year"


def _year_for_month(month: int, published: date | None) -> int | None:
    """A bare month in news means the latest such month not after publication."""
    if not published:
        return None
    return published.year if month <= published.month else published.year - 1


def _weekday_date(weekday: str, rel: str, published: date) -> date:
    target = WEEKDAYS.index(weekday)
    back = (published.weekday() - target) % 7
    if rel == "next":
        return published + timedelta(days=(target - published.weekday()) % 7 or 7)
    if rel == "last" and back == 0:
        back = 7
    # "on Tuesday" in a Tuesday article is the day itself; otherwise the most recent such day.
    return published - timedelta(days=back)


def format_day(year: int, month: int, day: int) -> str:
    return f"{day} {MONTHS[month - 1].title()} {year}"


def format_day_of(day: date) -> str:
    return format_day(day.year, day.month, day.day)


def at_granularity(expression: TimeExpression, granularity: str | None) -> str | None:
    """The resolved form cut to what the question asks: "which year" wants 2021, not April 2021."""
    resolved = expression.resolved
    if not resolved or not granularity:
        return resolved
    year = re.search(r"\b(\d{4})\b", resolved)
    if granularity == "year" and year:
        return year.group(1)
    if granularity == "month" and expression.granularity == "day":
        return " ".join(resolved.split()[1:])
    return resolved
