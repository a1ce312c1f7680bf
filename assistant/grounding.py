"""Is a sentence supported by the passages it cites? Its numbers, dates and names must appear there.

Used to measure groundedness, and to check LLM answers sentence by sentence.
Resolved dates count as present when a time expression in the passage resolves to them
("April 2021" is supported by "in April this year" in an article of 2021).
"""

from __future__ import annotations

import re
from datetime import date

from assistant.dates import find_time_expressions
from assistant.spans import names
from assistant.terms import terms

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_MARKER = re.compile(r"\s*\[(\d+)\]")


def citation_numbers(sentence: str) -> list[int]:
    return [int(n) for n in _MARKER.findall(sentence)]


def strip_markers(sentence: str) -> str:
    return _MARKER.sub("", sentence).strip()


def facts(sentence: str) -> list[str]:
    """The checkable facts in a sentence: numbers and capitalised names (not its first word)."""
    text = strip_markers(sentence)
    found = [m.group().replace(",", "") for m in _NUMBER.finditer(text)]
    for name in names(text):
        if name.start == 0 and " " not in name.text:
            continue
        found.append(name.text)
    return found


def unsupported_facts(sentence: str, passages: list[tuple[str, date | None]]) -> list[str]:
    """Facts of `sentence` that appear in none of the cited (text, article date) passages."""
    haystack = " ".join(text for text, _ in passages)
    flat = haystack.replace(",", "").lower()
    resolved = " ".join(e.resolved or "" for text, published in passages for e in find_time_expressions(text, published)).lower()
    missing = []
    for fact in facts(sentence):
        needle = fact.lower()
        if needle in flat or needle in resolved:
            continue
        if " " in needle and all(part in flat or part in resolved for part in needle.split()):
            continue
        missing.append(fact)
    return missing


def word_support(sentence: str, passages: list[str]) -> float:
    """Share of the sentence's content words found in the cited passages."""
    wanted = set(terms(strip_markers(sentence)))
    if not wanted:
        return 1.0
    present = set(terms(" ".join(passages)))
    return len(wanted & present) / len(wanted)


def is_supported(sentence: str, passages: list[tuple[str, date | None]], min_word_support: float = 0.5) -> bool:
    return not unsupported_facts(sentence, passages) and word_support(sentence, [t for t, _ in passages]) >= min_word_support
