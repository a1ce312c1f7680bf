"""Candidate answer spans inside a sentence, by answer type: amounts, durations, places, people (from
assistant.text.names)."""

from __future__ import annotations

import re

from assistant.text.names import SpanMatch, names
from assistant.text.terms import NUMBER_WORDS

_NUMBER_WORD = "(?:" + "|".join([w for w, n in NUMBER_WORDS.items() if 1 <= n <= 100] + [
    "a hundred", "a dozen", "dozens", "hundreds", "thousands", "millions", "half", "a third", "a quarter"]) + ")"
_NUM = rf"(?:\d(?:[\d,]*\d)?(?:\.\d+)?|{_NUMBER_WORD}(?:[- ]{_NUMBER_WORD})?)"
_SCALE = r"(?:\s?(?:bn|m|k|tn|billion|million|trillion|thousand)\b)"
_CURRENCY_WORDS = r"(?:dollars|pounds|euros|yen|yuan|rupees|roubles|rubles|francs|pence|cents|sterling)"

MONEY = re.compile(
    rf"(?:(?:US|A|C|HK)?[$£€¥]\s?\d[\d,]*(?:\.\d+)?{_SCALE}?|\b\d[\d,]*(?:\.\d+)?{_SCALE}?\s?{_CURRENCY_WORDS}\b)",
    re.IGNORECASE,
)
PERCENT = re.compile(rf"\b{_NUM}(?:\s?%|\s?(?:per ?cent|percent)(?:age points?)?|\s?percentage points?)", re.IGNORECASE)
DURATION = re.compile(
    rf"\b{_NUM}(?:[- ](?:and[- ]a[- ]half[- ])?)(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|"
    rf"centuries|century|seasons?)(?:[- ]long|[- ]old)?\b",
    re.IGNORECASE,
)
NUMBER = re.compile(rf"(?:[$£€¥]\s?)?\b{_NUM}{_SCALE}?(?:\s?%)?(?-i:\s(?:[a-z]+[- ])?[a-z]+s\b)?", re.IGNORECASE)
_BASED = re.compile(r"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)?)-based\b")
_PLACE_CUE = re.compile(
    r"\b(?:in|at|from|to|near|into|across|throughout|outside|inside|visited|visit|based in|held in)\s+(?:the\s+)?$",
    re.IGNORECASE,
)


def _matches(pattern: re.Pattern, sentence: str) -> list[SpanMatch]:
    return [SpanMatch(m.start(), m.end(), m.group().strip()) for m in pattern.finditer(sentence) if m.group().strip()]


def amounts(sentence: str, answer_type: str) -> list[SpanMatch]:
    """Numbers of the wanted flavour: money, percent, duration, or any number; the specific kinds first."""
    if answer_type == "money":
        found = _matches(MONEY, sentence) or _matches(NUMBER, sentence)
    elif answer_type == "percent":
        found = _matches(PERCENT, sentence) or _matches(NUMBER, sentence)
    elif answer_type == "duration":
        found = _matches(DURATION, sentence)
    else:
        found = _matches(MONEY, sentence) + _matches(PERCENT, sentence)
        taken = [(m.start, m.end) for m in found]
        found += [m for m in _matches(NUMBER, sentence) if not any(m.start < e and s < m.end for s, e in taken)]
    return [m for m in found if not re.fullmatch(r"(?:1[89]|20)\d\d", m.text) or answer_type == "number"]


def places(sentence: str) -> list[SpanMatch]:
    """Names that follow a place cue ("in", "at", "from", "visited" …) or come before "-based"."""
    found = [
        n
        for n in names(sentence)
        if _PLACE_CUE.search(sentence[max(0, n.start - 20) : n.start]) and "-based" not in n.text
    ]
    found += [SpanMatch(m.start(1), m.end(1), m.group(1)) for m in _BASED.finditer(sentence)]  # "Bracknell-based Exel"
    return found


def people(sentence: str) -> list[SpanMatch]:
    """Names that do not follow a place cue: "in California" is not who did it."""
    return [n for n in names(sentence) if not _PLACE_CUE.search(sentence[max(0, n.start - 20):n.start])]
