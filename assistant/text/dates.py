"""Find time expressions in a sentence and resolve them against the article's publication date.

News style, tested rather than trusted to a library default: in an article of
Tuesday 2021-09-14, "in April this year" is April 2021, "last year" is 2020,
"on Tuesday" is the day of publication and "on Monday" the day before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from assistant.text.linguistics import tense_at
from assistant.text.terms import NUMBER_WORDS

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NUMBER_WORDS = {w: n for w, n in NUMBER_WORDS.items() if 1 <= n <= 20} | {"a": 1, "an": 1}  # "two weeks ago"

_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_SEASON = r"(?P<season>spring|summer|autumn|fall|winter)"
_QUARTER = r"(?:q(?P<qn>[1-4])|(?P<qw>first|second|third|fourth|1st|2nd|3rd|4th) quarter)"
_PATTERNS = [
    ("iso", r"\b(?P<year>(?:19|20)\d{2})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
    ("numeric", r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<year>(?:19|20)\d{2})\b"),
    (
        "quarter",
        rf"\b(?:the\s+)?{_QUARTER}(?:\s+(?:of\s+)?(?P<year>(?:19|20)\d{{2}})|\s+of\s+(?P<rel>this|last|next) year)?\b",
    ),
    (
        "season",
        rf"\b(?:the\s+)?(?:(?P<rel>this|last|next)\s+)?{_SEASON}(?:\s+(?:of\s+)?(?P<year>(?:19|20)\d{{2}})|"
        rf"\s+of\s+(?P<yrel>this|last|next) year)?\b",
    ),
    (
        "endof",
        r"\b(?:by\s+)?(?P<edge>the end|the start|the beginning|the middle) of (?P<rel>this|last|next) (?P<unit>year|"
        r"month|week)\b",
    ),
    ("dmy", rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(?P<year>\d{{4}}))?\b"),
    ("mdy", rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{{4}}))?\b"),
    (
        "my",
        rf"\b(?:(?P<early>early|late|mid|end of|beginning of|the end of|"
        rf"the start of)\s+)?{_MONTH}(?:\s+(?P<year>\d{{4}})|\s+(?P<rel>this|last|next) year)?\b",
    ),
    ("relyear", r"\b(?P<rel>this|last|next|past|previous) (?P<unit>year|month|week)\b"),
    (
        "ago",
        rf"\b(?P<n>\d+|{'|'.join(w for w in _NUMBER_WORDS if w != 'an')}) (?P<unit>years?|months?|weeks?|days?) ago\b",
    ),
    (
        "weekday",
        r"\b(?P<rel>on|last|this|next)?\s?(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    ),
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


def find_time_expressions(sentence: str, published: date | None, future: bool | None = None) -> list[TimeExpression]:
    """Time expressions in `sentence`, longest first where they overlap, each resolved against `published`.

    `future`: whether the sentence speaks of what is to come ("will resume on Monday", "stops at the end of April");
    then a weekday or a month without a year is the next one after publication, else the latest one not after it.
    None: read from the tense of the clause each expression belongs to (will, due to, plans to, a past verb…)."""
    found: list[TimeExpression] = []
    taken: list[tuple[int, int]] = []
    for name, pattern in _COMPILED:
        for match in pattern.finditer(sentence):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            if (
                name == "my"
                and match["month"].lower() == "may"
                and not (match["year"] or match["rel"] or _month_context(sentence, match.start()))
            ):
                continue  # "may" the verb
            ahead = future
            if ahead is None:
                ahead = published is not None and speaks_of_future(sentence, match.start(), match.end())
            resolved, granularity = _resolve(name, match, published, ahead)
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


def speaks_of_future(sentence: str, start: int, end: int) -> bool:
    """Whether the clause holding sentence[start:end] speaks of what is to come: future tense ("will resume"), a
    schedule ("is due to"), or the present tense of a plan ("the ferry stops at the end of April"); spaCy's parse
    decides (assistant.text.linguistics.tense_at)."""
    return tense_at(sentence, start, end) in ("future", "present")


def _resolve(name: str, m: re.Match, published: date | None, future: bool = False) -> tuple[str | None, str]:
    year: int | None  # a month without a year may have none (_year_for_month)
    if name == "iso":
        try:
            return format_day_of(date(int(m["year"]), int(m["m"]), int(m["d"]))), "day"
        except ValueError:
            return None, "skip"
    if name == "numeric":
        a, b, year = int(m["a"]), int(m["b"]), int(m["year"])
        month, day = (a, b) if a <= 12 else (b, a)  # month first (US style) unless that cannot be a month
        try:
            return format_day_of(date(year, month, day)), "day"
        except ValueError:
            return None, "skip"
    if name == "quarter":
        number = int(m["qn"]) if m["qn"] else {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
                                                  "fourth": 4, "4th": 4}[m["qw"].lower()]
        if m["year"]:
            year = int(m["year"])
        elif m["rel"] and published:
            year = published.year + {"this": 0, "last": -1, "next": 1}[m["rel"].lower()]
        elif published:
            current = (published.month - 1) // 3 + 1
            year = (
                published.year
                + (1 if future and number < current else 0)
                - (1 if not future and number > current else 0)
            )
        else:
            return f"Q{number}", "quarter"
        return f"Q{number} {year}", "quarter"
    if name == "season":
        season = {"fall": "autumn"}.get(m["season"].lower(), m["season"].lower())
        start_month = {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}[season]
        if m["year"]:
            return f"{season} {m['year']}", "season"
        if not published:
            return None, "relative"
        if m["yrel"]:
            return f"{season} {published.year + {'this': 0, 'last': -1, 'next': 1}[m['yrel'].lower()]}", "season"
        rel = (m["rel"] or "").lower()
        year = published.year
        if rel == "next" or (not rel and future):
            year += 1 if (published.month, 1) >= (start_month, 1) else 0
        elif rel == "last" or (not rel and not future):
            year -= 1 if published.month < start_month + 3 and (rel == "last" or published.month < start_month) else 0
        return f"{season} {year}", "season"
    if name == "endof":
        if not published:
            return None, "relative"
        edge = m["edge"].lower().replace("the ", "").replace("beginning", "start")
        shift = {"this": 0, "last": -1, "next": 1}[m["rel"].lower()]
        unit = m["unit"].lower()
        if unit == "year":
            return f"the {edge} of {published.year + shift}", "year"
        if unit == "month":
            index = published.year * 12 + published.month - 1 + shift
            return f"the {edge} of {MONTHS[index % 12].title()} {index // 12}", "month"
        monday = published - timedelta(days=published.weekday()) + timedelta(weeks=shift)
        return f"the {edge} of the week of {format_day_of(monday)}", "week"
    if name in ("dmy", "mdy"):
        month, day = _month_number(m["month"]), int(m["day"])
        year = int(m["year"]) if m["year"] else _year_for_month(month, published, future)
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
            year = _year_for_month(month, published, future)
        label = MONTHS[month - 1].title() + (f" {year}" if year else "")
        # "the end of April" is not April: the edge is kept, as "the end of next year" keeps it ("the end of 2024")
        edge = (m["early"] or "").lower().removeprefix("the ").replace("beginning", "start")
        return (f"the {edge} {label}" if edge in ("end of", "start of") else label), "month"
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
        monday = published - timedelta(days=published.weekday()) + timedelta(weeks=shift)
        return f"the week of {format_day_of(monday)}", "week"
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
        rel = (m["rel"] or "on").lower()
        if rel in ("on", "this") and future:
            rel = "coming"
        return format_day_of(_weekday_date(m["weekday"].lower(), rel, published)), "day"
    if name == "deixis":
        if not published:
            return None, "relative"
        shift = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}[m["word"].lower()]
        return format_day_of(published + timedelta(days=shift)), "day"
    if name == "decade":
        return f"{m['decade']}s", "decade"
    return m["year"], "year"


def _year_for_month(month: int, published: date | None, future: bool = False) -> int | None:
    """A bare month in news means the latest such month not after publication; in a sentence about what is to come,
    the next one not before it."""
    if not published:
        return None
    if future:
        return published.year if month >= published.month else published.year + 1
    return published.year if month <= published.month else published.year - 1


def _weekday_date(weekday: str, rel: str, published: date) -> date:
    target = WEEKDAYS.index(weekday)
    back = (published.weekday() - target) % 7
    if rel == "next":
        return published + timedelta(days=(target - published.weekday()) % 7 or 7)
    if rel == "coming":  # "will resume on Monday": the next such day (the day itself when it is today)
        return published + timedelta(days=(target - published.weekday()) % 7)
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
