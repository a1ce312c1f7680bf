"""Is a sentence supported by the passages it cites? Its numbers, dates and names must appear there.

Used to measure groundedness, and to check LLM answers sentence by sentence.
Resolved dates count as present when a time expression in the passage resolves to them
("April 2021" is supported by "in April this year" in an article of 2021).
"""

from __future__ import annotations

import re
from datetime import date

from assistant.text.dates import MONTHS, WEEKDAYS, at_granularity, find_time_expressions
from assistant.text.names import names
from assistant.text.sentences import split_sentences
from assistant.text.terms import NUMBER_WORDS, STOP_WORDS, terms

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
    flat = haystack.replace(",", "").replace("’", "'").lower()
    resolved = " ".join(
        e.resolved or "" for text, published in passages for e in find_time_expressions(text, published)
    ).lower()
    missing = []
    for fact in facts(sentence):
        # "Pakistan’s" is supported by "Pakistan's" or "Pakistan"
        needle = re.sub(r"'s$", "", fact.replace("’", "'").lower())
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
    return (
        not unsupported_facts(sentence, passages)
        and word_support(sentence, [t for t, _ in passages]) >= min_word_support
    )


# ---- the stricter check used on LLM answers ---------------------------------------------------------

# Capitalised words that may open a sentence without naming anything.
_OPENERS = STOP_WORDS | {
    "according",
    "overall",
    "yes",
    "no",
    "however",
    "also",
    "both",
    "although",
    "though",
    "today",
    "answer",
    "passage",
    "passages",
    "article",
    "articles",
    "based",
    "in",
    "the",
    "a",
    "an",
    "this",
    "these",
    "those",
    "it",
    "they",
    "he",
    "she",
    "we",
    "i",
    "there",
    "then",
    "meanwhile",
    "moreover",
    "furthermore",
    "additionally",
    "instead",
    "still",
    "so",
    "but",
}
_NUMBER_WORDS = frozenset(w for w, n in NUMBER_WORDS.items() if n >= 2) | {"dozen"}  # "one" is a pronoun too
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:['’][a-z]+)?")
_WORD = re.compile(r"[A-Za-z0-9]+")
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(sorted(_NUMBER_WORDS)) + r")\b", re.IGNORECASE)


def _vocabulary(passages: list[tuple[str, date | None]]) -> set[str]:
    """Lower-cased words and comma-free numbers of the passages and of their resolved time expressions."""
    found: set[str] = set()
    for text, published in passages:
        resolved = " ".join(e.resolved or "" for e in find_time_expressions(text, published))
        for piece in (text, resolved):
            flat = piece.replace(",", "")
            found.update(w.lower() for w in _WORD.findall(flat))
            found.update(m.group() for m in _NUMBER.finditer(flat))
    return found


def strict_facts(sentence: str) -> list[str]:
    """Every checkable word of a sentence: each capitalised word (a sentence-opening common word aside), number and
    number word."""
    text = strip_markers(sentence)
    found: list[str] = []
    for match in _CAPITALISED.finditer(text):
        word = re.sub(r"['’][a-z]+$", "", match.group())
        opening = not text[:match.start()].strip(" \"'“‘(")
        if opening and word.lower() in _OPENERS:
            continue
        found.append(word)
    found += [m.group().replace(",", "") for m in _NUMBER.finditer(text)]
    found += [m.group().lower() for m in _NUMBER_WORD.finditer(text)]
    return list(dict.fromkeys(found))


def missing_facts(sentence: str, passages: list[tuple[str, date | None]]) -> list[str]:
    """What `sentence` says that the cited (text, article date) passages do not: words, numbers, and dates as a whole.

    Stricter than `unsupported_facts`: every capitalised word must occur in a passage on its own, and each
    time expression must match one in the passages at its own granularity ("14 April 2021" is not
    supported by "April" plus a "14" elsewhere), resolved against the passages' dates.
    """
    vocabulary = _vocabulary(passages)
    missing = []
    for fact in strict_facts(sentence):
        parts = [p.lower() for p in _WORD.findall(fact)] or [fact.lower()]
        if not all(part in vocabulary for part in parts) and fact.lower() not in vocabulary:
            missing.append(fact)
    missing += [e for e in _missing_dates(strip_markers(sentence), passages) if e not in missing]
    return missing


def _missing_dates(sentence: str, passages: list[tuple[str, date | None]]) -> list[str]:
    published = next((d for _, d in passages if d), None)
    expressions = [e for text, day in passages for e in find_time_expressions(text, day)]
    literal = " ".join(text.lower() for text, _ in passages)
    missing = []
    for expression in find_time_expressions(sentence, published):
        if expression.text.lower() in literal or not expression.resolved:
            continue
        granularity = expression.granularity if expression.granularity in ("day", "month", "year", "decade") else None
        if not any(at_granularity(e, granularity) == expression.resolved for e in expressions):
            missing.append(expression.text)
    return missing


def answer_sentences(text: str) -> list[str]:
    """Sentences of an answer with their [n] markers: "… last year. [1]" keeps [1] with its sentence.

    A marker opening a sentence ("[1] Lavrov said …") stays with it, unless the sentence before
    has no marker of its own: then it was that sentence's citation, written after its full stop.
    """
    sentences: list[str] = []
    for span in split_sentences(text):
        sentence = text[span.start:span.end]
        if sentences and not strip_markers(sentence).strip(" ."):
            sentences[-1] = f"{sentences[-1]} {sentence.strip()}"
            continue
        lead = re.match(r"(?:\s*\[\d+\])+", sentence)
        if lead and sentences and not citation_numbers(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {lead.group().strip()}"
            sentence = sentence[lead.end():].strip()
        sentences.append(sentence)
    return sentences


def answer_claims(text: str) -> list[str]:
    """The claims of an answer, each with the markers it rests on: its sentences (`answer_sentences`), an unmarked
    one (the short answer "April 2021." before the quote) joined to the cited sentence after it."""
    claims: list[str] = []
    pending = ""
    for sentence in answer_sentences(text):
        if not citation_numbers(sentence):
            pending = f"{pending} {sentence}".strip()
            continue
        claims.append(f"{pending} {sentence}".strip())
        pending = ""
    if pending:
        claims.append(pending)
    return claims


def local_missing_facts(sentence: str, passages: list[tuple[str, date | None]]) -> list[str]:
    """Like `missing_facts`, and each number or date must sit in a passage sentence that, with the sentence
    before it, also names everyone the answer sentence names.

    "Lavrov visited Pakistan in July" is not supported by a passage where July is when Putin was to
    visit and Lavrov's visit is told elsewhere; "Lavrov's two-day trip …" is, when "Sergey Lavrov"
    is named in the sentence before "Lavrov's two-day trip".
    """
    missing = missing_facts(sentence, passages)
    if missing:
        return missing
    everything = missing_facts(sentence, [])
    anchored = [f for f in everything if _is_time_or_number(f)]
    named = {f for f in everything if f not in anchored}
    if not anchored or not named:
        return []
    present_at = []  # (facts present in sentence i, facts present in sentences i-1 and i)
    for text, published in passages:
        spans = split_sentences(text)
        for i, span in enumerate(spans):
            here = set(everything) - set(missing_facts(sentence, [(text[span.start:span.end], published)]))
            start = spans[i - 1].start if i else span.start
            near = set(everything) - set(missing_facts(sentence, [(text[start:span.end], published)]))
            present_at.append((here, near))
    return [fact for fact in anchored if not any(fact in here and named <= near for here, near in present_at)]


def _is_time_or_number(fact: str) -> bool:
    lowered = fact.lower()
    return (any(ch.isdigit() for ch in fact) or lowered in _NUMBER_WORDS or lowered in _TIME_WORDS
            or bool(find_time_expressions(fact, None)))


_TIME_WORDS = frozenset(MONTHS) | frozenset(WEEKDAYS)
