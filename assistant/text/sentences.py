"""Sentence boundaries with character spans, tuned for news prose.

A regex splitter is enough for news text and keeps exact offsets; it knows the
abbreviations that end in a full stop (Mr., Dr., U.S., Jan.) and decimals.
Linear in the text: every look-around reads a bounded neighbourhood.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sr",
    "jr",
    "st",
    "mt",
    "gen",
    "col",
    "lt",
    "sgt",
    "capt",
    "gov",
    "sen",
    "rep",
    "rev",
    "inc",
    "ltd",
    "co",
    "corp",
    "plc",
    "vs",
    "etc",
    "no",
    "vol",
    "fig",
    "approx",
    "est",
    "dept",
    "univ",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "u.n",
    "e.g",
    "i.e",
    "a.m",
    "p.m",
}
# A candidate boundary: sentence punctuation, optional closing quotes/brackets, then space. The look-behind makes a
# run of punctuation ("!!!!…" with no space after it) a candidate once, at its start, not at every character of it:
# without it a 1 MB run is tried a million times over (quadratic).
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]+['\"’”)\]]*(?=\s)|\n\s*\n")
_WORD_BEFORE = re.compile(r"(?<![A-Za-z.])([A-Za-z]+(?:\.[A-Za-z]+)*)$")


class Span(NamedTuple):
    start: int
    end: int


def split_sentences(text: str) -> list[Span]:
    """Spans of the sentences in `text`, white space trimmed, in order, covering every non-space character."""
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group().strip() and _is_abbreviation(text, match.start(), end):
            continue
        _add(spans, text, start, end)
        start = end
    _add(spans, text, start, len(text))
    return spans


def _is_abbreviation(text: str, punct_start: int, end: int) -> bool:
    if text[punct_start] != "." or end - punct_start > 1:
        return False
    word = _WORD_BEFORE.search(text[max(0, punct_start - 12):punct_start])
    if not word:
        return False
    token = word.group(1).lower()
    if token in _ABBREVIATIONS or len(token) == 1:
        return True
    # "U.S." style initials, or the next word starting lower-case: not a sentence end.
    following = text[end:end + 40].lstrip()
    return bool(following) and following[0].islower()


def _add(spans: list[Span], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    spans.append(Span(start + lead, start + lead + len(stripped)))
