"""Revised values: when articles of different dates state one fact with different values (a cost revised, a date
pushed back), the newest statement leads and the one before it is named with its date.

Both answerers (the sentence ranker and the span reader) find their candidate statements in their own way; what
counts as "one fact" and which statement leads is decided here, the same for both:

- a statement is (the value, the sentence it is stated in with the value left out, the article's date);
- two statements state one fact when their values have the same shape (a time, a money amount, another number) and
  their sentences say the same thing in the embedding model (cosine at least SAME_FACT);
- the newest of those leads when it is newer than the best-read one; otherwise the best-read one leads and the
  newest older one is named as the earlier value.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Callable, Generic, TypeVar

import numpy as np

from assistant.text.dates import find_time_expressions

log = logging.getLogger(__name__)

# Cosine of two sentences' embeddings (their values left out) from which they state one fact. Chosen off the dated
# collection: on 21 made-up pairs (12 of one fact in other words, 9 of different facts about the same thing with the
# same shape of value) 0.65 tells the most apart (balanced accuracy 0.72); on 150 BBC business articles, 296 pairs of
# sentences of one article that each give a money amount (one story, mostly different facts) lie below it 93% of the
# time (95th percentile 0.67), and those above it mostly restate one figure ("US crude prices surge above $53" / "US
# crude prices have soared to fresh four-month highs above $53").
SAME_FACT = 0.65
# a newer article's answer leads when its confidence is at most this much below the best one's (twice this when the
# question asks for the latest or current value)
REVISION_GAP = 0.15

Embed = Callable[[list[str]], np.ndarray]
T = TypeVar("T")


def value_shape(text: str) -> str:
    """The kind of value: two values of one fact have the same kind ("Monday" and "27 November" are both times;
    "£28 million" and "£34.5 million" both money)."""
    if find_time_expressions(text, None):
        return "time"
    if re.search(r"[£$€¥]|\b(million|billion|bn)\b", text, re.IGNORECASE):
        return "money"
    return "number" if re.search(r"\d", text) else "words"


def same_value(a: str, b: str) -> bool:
    norm = [" ".join(re.findall(r"\w+", t.lower())) for t in (a, b)]
    return norm[0] == norm[1] or norm[0] in norm[1] or norm[1] in norm[0]


def without_value(sentence: str, start: int, end: int) -> str:
    """The sentence with the value at start..end left out: two statements of one fact differ in their values, and the
    embedding should compare what is said about them."""
    return " ".join((sentence[:start] + " " + sentence[end:]).split())


@dataclass(frozen=True)
class Statement(Generic[T]):
    """A value an article gives, where it gives it (`item`: the answerer's own span or sentence)."""

    item: T
    value: str
    fact: str  # the sentence, its value left out
    day: date | None
    as_asked: bool = False  # a figure or date known to state the best statement's fact (the answerer says so)


def same_fact(embed: Embed, best: Statement, rivals: list[Statement]) -> list[bool]:
    """For each rival: does it give a value of the best statement's fact?"""
    shaped = [i for i, rival in enumerate(rivals) if value_shape(rival.value) == value_shape(best.value)]
    same = [False] * len(rivals)
    if not shaped:
        return same
    vectors = embed([best.fact] + [rivals[i].fact for i in shaped])
    for i, similarity in zip(shaped, vectors[1:] @ vectors[0]):
        log.debug("same fact? %r ~ %r: %.2f", rivals[i].value, best.value, similarity)
        # a name or place is not revised the way a figure or a date is: only the embedding may say it is one fact
        same[i] = bool(similarity >= SAME_FACT) or (rivals[i].as_asked and value_shape(best.value) != "words")
    return same


def newest_and_earlier(embed: Embed, best: Statement[T], rivals: list[Statement[T]]) -> tuple[T, T | None]:
    """(the statement that leads, the earlier one it names or None) among `best` and the rivals (dated statements of
    other articles, read nearly as surely). Rivals of the same value or of another fact are left out."""
    if best.day is None:
        return best.item, None
    others = [r for r in rivals if r.day is not None and not same_value(r.value, best.value)]
    kept = [(r.day, r.item) for r, keep in zip(others, same_fact(embed, best, others)) if keep and r.day is not None]
    if not kept:
        return best.item, None
    newest_day, newest = max(kept, key=lambda pair: pair[0])
    if newest_day > best.day:
        return newest, best.item
    older = [pair for pair in kept if pair[0] < best.day]
    return best.item, (max(older, key=lambda pair: pair[0])[1] if older else None)
