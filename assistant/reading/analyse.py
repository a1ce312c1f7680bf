"""What the question asks for: its kind (when/who/where/how_much/what/why/yes_no), for dates the granularity, and
for "which X" / "what X" questions the head noun X, read off spaCy's dependency parse.

The kind labels reports and shapes the composed answer (a yes/no question gets the evidence quoted, with no
invented "Yes"); it never chooses the span or decides a refusal: the reader does both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from assistant.text.linguistics import parse

_KIND_BY_WORD = (
    (re.compile(r"^(when|what time|what year|which year|what date|on what date|in what year|in which year|"
                r"by when|until when|since when)\b|\bwhat (day|month|year|date)\b", re.IGNORECASE), "when"),
    (re.compile(r"^(why)\b|\bfor what reason\b|\bwhat (caused|prompted|led to)\b", re.IGNORECASE), "why"),
    (re.compile(r"\bhow (much|many|long|far|old|big|large|high|fast)\b|\bwhat (percentage|proportion|share|"
                r"number|amount|price|cost)\b", re.IGNORECASE), "how_much"),
    (re.compile(r"^(who|whom|whose)\b|\bwho\b", re.IGNORECASE), "who"),
    (re.compile(r"^where\b|\bwhere\b", re.IGNORECASE), "where"),
    (re.compile(r"^(is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)\b", re.IGNORECASE), "yes_no"),
)
KINDS = ("when", "who", "where", "how_much", "what", "why", "yes_no")  # question-set kinds; reports group by them
_GRANULARITY = re.compile(r"\b(year|month|day|date)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Analysis:
    kind: str
    granularity: str | None  # for "when": year, month or day when the question says so
    question: str

    @cached_property
    def head(self) -> str | None:
        """"country" in "Which country …", from the parse (parsed when first asked for: answering does not need it)."""
        return head_noun(self.question)


def analyse_question(question: str) -> Analysis:
    text = question.strip()
    kind = next((k for pattern, k in _KIND_BY_WORD if pattern.search(text)), "what")
    granularity = None
    if kind == "when":
        match = _GRANULARITY.search(text)
        granularity = {"date": "day"}.get(match.group(1).lower(), match.group(1).lower()) if match else None
    return Analysis(kind, granularity, text)


def head_noun(question: str) -> str | None:
    """The noun that "which"/"what" determines ("Which Manchester City striker …" -> "striker")."""
    doc = parse(question)
    for token in doc:
        if token.lower_ not in ("which", "what"):
            continue
        if token.dep_ == "det" and token.head.pos_ in ("NOUN", "PROPN"):
            return token.head.lemma_.lower()
        # the small model misparses some ("Leeds" as a verb): then the first common noun close after it
        following = doc[token.i + 1:token.i + 6]
        noun = next((t for t in following if t.pos_ == "NOUN"), None)
        if noun is not None and all(
            t.pos_ in ("PROPN", "ADJ", "NOUN", "VERB", "NUM", "PUNCT") for t in following[: noun.i - token.i - 1]
        ):
            return noun.lemma_.lower()
        return None
    return None
