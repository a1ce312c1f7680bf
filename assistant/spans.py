"""Candidate answer spans inside a sentence, by answer type: amounts, durations, names, places."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.dates import MONTHS, WEEKDAYS

_NUMBER_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|a hundred|a dozen|dozens|hundreds|thousands|millions|half|a third|a quarter)"
_NUM = rf"(?:\d(?:[\d,]*\d)?(?:\.\d+)?|{_NUMBER_WORD}(?:[- ]{_NUMBER_WORD})?)"
_SCALE = r"(?:\s?(?:bn|m|k|tn|billion|million|trillion|thousand)\b)"
_CURRENCY_WORDS = r"(?:dollars|pounds|euros|yen|yuan|rupees|roubles|rubles|francs|pence|cents|sterling)"

MONEY = re.compile(rf"(?:(?:US|A|C|HK)?[$£€¥]\s?\d[\d,]*(?:\.\d+)?{_SCALE}?|\b\d[\d,]*(?:\.\d+)?{_SCALE}?\s?{_CURRENCY_WORDS}\b)", re.IGNORECASE)
PERCENT = re.compile(rf"\b{_NUM}(?:\s?%|\s?(?:per ?cent|percent)(?:age points?)?|\s?percentage points?)", re.IGNORECASE)
DURATION = re.compile(rf"\b{_NUM}(?:[- ](?:and[- ]a[- ]half[- ])?)(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|century|seasons?)(?:[- ]long|[- ]old)?\b", re.IGNORECASE)
NUMBER = re.compile(rf"(?:[$£€¥]\s?)?\b{_NUM}{_SCALE}?(?:\s?%)?(?-i:\s(?:[a-z]+[- ])?[a-z]+s\b)?", re.IGNORECASE)
_NAME = re.compile(r"\b(?:[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?|[A-Z]{2,}|[A-Z]\.|Mc[A-Z][a-z]+|O'[A-Z][a-z]+)(?:\s+(?:de|van|von|da|del|bin|al|le|la|of)?\s*(?:[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?|[A-Z]{2,}|[A-Z]\.))*")
_BASED = re.compile(r"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)?)-based\b")
_PLACE_CUE = re.compile(r"\b(?:in|at|from|to|near|into|across|throughout|outside|inside|visited|visit|based in|held in)\s+(?:the\s+)?$", re.IGNORECASE)
_NOT_NAMES = {m.title() for m in MONTHS} | {d.title() for d in WEEKDAYS} | {
    "The", "A", "An", "He", "She", "It", "They", "We", "I", "But", "And", "In", "On", "At", "For", "Mr", "Mrs", "Ms", "Dr", "Sir",
    "This", "That", "These", "Those", "His", "Her", "Their", "Its", "Our", "There", "Here", "If", "When", "While", "After", "Before",
    "However", "Meanwhile", "Also", "So", "Yet", "As", "Last", "Next", "Monday", "BBC", "Prime", "Minister", "President", "Foreign",
}


# Nationality and region adjectives: capitalised, but never the name a "who/where/which" question wants on their own.
DEMONYMS = set("""American British English Scottish Welsh Irish French German Italian Spanish Portuguese Dutch Belgian Swiss Austrian
Swedish Norwegian Danish Finnish Russian Ukrainian Polish Czech Hungarian Greek Turkish Chinese Japanese Korean Indian Pakistani
Afghan Iranian Iraqi Israeli Palestinian Arab Egyptian African Australian Canadian Mexican Brazilian Argentine Argentinian Chilean
Colombian European Asian Western Eastern Northern Southern Muslim Christian Jewish Catholic Nigerian Kenyan Zimbabwean Ethiopian
Saudi Syrian Lebanese Indonesian Malaysian Thai Vietnamese Filipino Singaporean Taiwanese Scandinavian Latin Dane Swede""".split())


@dataclass(frozen=True)
class SpanMatch:
    start: int
    end: int
    text: str


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


def names(sentence: str) -> list[SpanMatch]:
    """Capitalised name sequences, leading titles and sentence-initial function words trimmed."""
    found = []
    for m in _NAME.finditer(sentence):
        parts = m.group().split()
        while parts and parts[0].strip(".") in _NOT_NAMES:
            parts = parts[1:]
        while parts and parts[-1].lower() in {"of", "the", "and", "de", "van", "von", "da", "del", "bin", "al", "le", "la"}:
            parts = parts[:-1]
        if not parts or (len(parts) == 1 and parts[0] in DEMONYMS):
            continue
        text = " ".join(parts)
        start = m.start() + m.group().find(parts[0])
        found.append(SpanMatch(start, start + len(text), text))
    return found


def places(sentence: str) -> list[SpanMatch]:
    """Names that follow a place cue ("in", "at", "from", "visited" …) or come before "-based"."""
    found = [n for n in names(sentence) if _PLACE_CUE.search(sentence[max(0, n.start - 20):n.start]) and "-based" not in n.text]
    found += [SpanMatch(m.start(1), m.end(1), m.group(1)) for m in _BASED.finditer(sentence)]  # "Bracknell-based Exel"
    return found


def people(sentence: str) -> list[SpanMatch]:
    """Names that do not follow a place cue: "in California" is not who did it."""
    return [n for n in names(sentence) if not _PLACE_CUE.search(sentence[max(0, n.start - 20):n.start])]
