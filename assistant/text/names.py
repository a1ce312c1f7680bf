"""Capitalised names in a sentence, any script's letters ("São Paulo", "Łódź", "Zürich" come out whole).

The extractive answerer takes its "who" and "where" candidates from them (assistant.ranker.spans), and the LLM
answer checks (assistant.text.grounding) look for the names an answer sentence states in the passages it cites. A
capitalised run is enough for both and costs nothing; spaCy's entities miss or mislabel too many of these short
claims (it called "Zürich" a person), and a mislabel would only matter here if we used the label.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from assistant.text.dates import MONTHS, WEEKDAYS

_WORD = r"(?:\p{Lu}\p{Ll}+(?:[-'’]\p{Lu}?\p{Ll}+)*|\p{Lu}{2,}|\p{Lu}\.|Mc\p{Lu}\p{Ll}+|O'\p{Lu}\p{Ll}+)"
_NAME = regex.compile(rf"\b{_WORD}(?:\s+(?:de|van|von|da|del|do|dos|bin|al|le|la|of)?\s*{_WORD})*")
_PARTICLES = frozenset({"of", "the", "and", "de", "van", "von", "da", "del", "do", "dos", "bin", "al", "le", "la"})
# Capitalised words that start a sentence or lead a name without being part of it: function words, months, days,
# honorifics and titles ("Prime Minister Imran Khan" is checked as "Imran Khan": the passage may say "Mr Khan's").
_NOT_NAMES = {m.title() for m in MONTHS} | {d.title() for d in WEEKDAYS} | set(
    """The A An He She It They We I But And In On At For Mr Mrs Ms Dr Sir This That These Those His Her Their Its Our
    There Here If When While After Before However Meanwhile Also So Yet As Last Next Prime Minister President Foreign
    Chancellor Secretary""".split())
# Nationality and region adjectives: capitalised, but not a name worth checking on their own.
DEMONYMS = set("""American British English Scottish Welsh Irish French German Italian Spanish Portuguese Dutch Belgian
Swiss Austrian Swedish Norwegian Danish Finnish Russian Ukrainian Polish Czech Hungarian Greek Turkish Chinese Japanese
Korean Indian Pakistani Afghan Iranian Iraqi Israeli Palestinian Arab Egyptian African Australian Canadian Mexican
Brazilian Argentine Argentinian Chilean Colombian European Asian Western Eastern Northern Southern Muslim Christian
Jewish Catholic Nigerian Kenyan Zimbabwean Ethiopian Saudi Syrian Lebanese Indonesian Malaysian Thai Vietnamese Filipino
Singaporean Taiwanese Scandinavian Latin Dane Swede""".split())


@dataclass(frozen=True)
class SpanMatch:
    """A stretch of a sentence: a name here, an amount or a date in assistant.ranker.spans."""

    start: int
    end: int
    text: str


def names(sentence: str) -> list[SpanMatch]:
    """Capitalised name sequences, leading function words and trailing particles trimmed."""
    found = []
    for m in _NAME.finditer(sentence):
        parts = m.group().split()
        while parts and parts[0].strip(".") in _NOT_NAMES:
            parts = parts[1:]
        while parts and parts[-1].lower() in _PARTICLES:
            parts = parts[:-1]
        if not parts or (len(parts) == 1 and parts[0] in DEMONYMS):
            continue
        text = " ".join(parts)
        start = m.start() + m.group().find(parts[0])
        found.append(SpanMatch(start, start + len(text), text))
    return found
