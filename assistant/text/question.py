"""Questions: the checks every way of asking applies (`check_question`), and what kind of answer a question wants:
a time, a number, a person, a place, a reason, yes/no, or other."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.core.errors import InputError
from assistant.text.head_nouns import head_phrase, head_type
from assistant.text.names import DEMONYMS
from assistant.text.terms import STOP_WORDS, stem, terms, words

MAX_QUESTION_CHARS = 2000


def check_question(question: str) -> str:
    """`question` with its white space folded; InputError when it is empty or longer than MAX_QUESTION_CHARS.
    The Python API, the conversation and the page all ask through this one check."""
    if not isinstance(question, str) or not question.strip():
        raise InputError("The question is empty: type a question about the articles.")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(f"Your question is {len(question)} characters long; questions are limited to "
                         f"{MAX_QUESTION_CHARS} characters. Shorten it and ask again.")
    return " ".join(question.split())


# Evaluation kinds (question sets use these) and the answer type the extractor looks for.
KINDS = ("when", "who", "where", "how_much", "what", "why", "yes_no")

_RULES: list[tuple[str, str, str]] = [
    # (pattern at/near the start, kind, answer type)
    (
        r"^(when|since when|until when|by when)\b|\b(since|until|by) when\b|\bwhen (did|does|do|is|was|were|will|would|"
        r"has|have|had)\b",
        "when",
        "date",
    ),
    (r"\b(what|which) (years?|months?|days?|dates?|decades?|seasons?)\b", "when", "date"),
    (r"\bwhat time\b", "when", "date"),
    (r"\bhow (long|quickly|soon)\b|\bhow many (years|months|weeks|days|hours|minutes)\b", "how_much", "duration"),
    (
        r"\bhow (much|many)\b|\bby how much\b|\bwhat (percentage|proportion|share|fraction|number|amount|sum|price|"
        r"cost|figure|total|rate|value)\b|\bhow (big|large|high|low|old|far|fast|tall|heavy)\b|\bwhat (was|is|were|"
        r"are|will be) the (\w+ )?(size|value|price|cost|total|number|amount|figure|rate|bill)\b",
        "how_much",
        "number",
    ),
    (
        r"^(who|whom|whose)\b|\b(which|what) (person|man|woman|player|minister|actor|actress|singer|star|boss|chief|"
        r"executive|director|coach|manager|leader|politician|chairman|president|author|band|group)\b|\bwho\b",
        "who",
        "person",
    ),
    (
        r"^where\b|\b(which|what) (\w+ )?(country|city|town|place|venue|stadium|region|nation|state|capital|location|"
        r"county|continent)\b|\bwhere\b",
        "where",
        "place",
    ),
    (
        r"\bwhat (was|is|were|are) ([\w'’]+ ){0,3}(world |current |new )?(ranking|rank|score|tally|margin|attendance|"
        r"population|turnover|salary)\b",
        "how_much",
        "number",
    ),
    (
        r"\b(what|which) (is|was|were|are) the (name|title)\b|\bwhat (\w+ )?(is|was) (it|he|she|they) called\b|"
        r"\bcalled what\b|\bnamed what\b",
        "what",
        "name",
    ),
    (
        r"^(which|what) (\w+ ){0,3}(company|firm|brand|film|movie|book|album|song|court|competition|tournament|event|"
        r"award|prize|team|club|party|group|band|label|programme|show|series|newspaper|magazine|website|organisation|"
        r"organization|body|agency|bank|airline|publisher|product|project|game|console|channel|network|studio|scheme|"
        r"drug|word|school|university|title|format|drill|exercise|deal|trojan|virus|chain|carrier|operator|retailer|"
        r"grouping|alliance|bloc|organisation|format|treaty|plan|policy|law|bill|campaign|system|technology|service|"
        r"software|device)\b",
        "what",
        "name",
    ),
    (
        r"^why\b|\bwhat (is|was|were|are) the reasons?\b|\bfor what reason\b|\bwhat (caused|prompted|led to)\b|"
        r"\bhow come\b",
        "why",
        "reason",
    ),
    (r"^(is|are|was|were|did|does|do|has|have|had|can|could|will|would|should|shall|may|might)\b", "yes_no", "yesno"),
]
_KIND_OF_TYPE = {
    "date": "when",
    "person": "who",
    "place": "where",
    "money": "how_much",
    "number": "how_much",
    "name": "what",
}
_QUESTION_WORDS = {
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "when",
    "where",
    "why",
    "how",
    "much",
    "many",
    "long",
    "name",
    "kind",
    "type",
}
_TYPE_WORDS = {
    "date": {"year", "month", "day", "date", "time", "decade", "season"},
    "number": {"number", "amount", "percentage", "figure", "total"},
    "duration": {"long", "year", "month", "week", "day", "hour", "minut"},
}


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    kind: str  # one of KINDS
    answer_type: str  # date, duration, number, person, place, reason, yesno, other
    terms: tuple[str, ...]  # stemmed content words, for overlap
    anchors: tuple[str, ...]  # names and numbers the question is about: the evidence must mention them
    granularity: str | None = None  # for dates: "year", "month" or "day" when the question says so
    unit: str | None = None  # for "how many X": the stem of X, which the number should count
    head: tuple[str, ...] = ()  # stems of the noun phrase after "which"/"what": "producer" in "which film producer"


def analyse(question: str) -> QuestionAnalysis:
    lowered = question.lower().strip()
    kind, answer_type = "what", "other"
    for pattern, rule_kind, rule_type in _RULES:
        if re.search(pattern, lowered):
            kind, answer_type = rule_kind, rule_type
            break
    # "Which judge …", "which Manchester City striker …", "what is the new cap …": without a question
    # word that settles it (who, when, how much …), the head noun says what is asked for.
    settled = re.search(r"\b(who|whom|whose|when|where|why|how)\b|\bwhat time\b", lowered) and answer_type not in (
        "other",
        "name",
    )
    phrase = head_phrase(question)
    typed_by_head = None if settled else head_type(question, phrase)
    if typed_by_head:
        kind, answer_type = _KIND_OF_TYPE.get(typed_by_head, kind), typed_by_head
    if answer_type == "number" and re.search(r"\b(percent|percentage|per cent|%)", lowered):
        answer_type = "percent"
    elif answer_type == "number" and re.search(
        r"\b(cost|price|worth|paid|pay|spend|spent|earn|earned|profit|profits|revenue|sales|money|fine|fined|salary|"
        r"budget|sum|loss|losses|deal|bid|fee|value|valued|raise|raised|charge|charged|charges|fare|fares|sell|sold)\b",
        lowered,
    ):
        answer_type = "money"
    granularity = None
    if answer_type == "date":
        match = re.search(r"\b(year|month|day|date)\b", lowered)
        granularity = (
            {"year": "year", "month": "month", "day": "day", "date": "day"}.get(match.group(1)) if match else None
        )
    skip = {stem(w) for w in _QUESTION_WORDS | _TYPE_WORDS.get(answer_type, set())}
    question_terms = tuple(t for t in terms(question) if t not in skip)
    unit = None
    if answer_type == "number":
        match = re.search(r"\bhow many (\w+)", lowered)
        unit = stem(match.group(1)) if match else None
    head = tuple(stem(w) for w in phrase if w not in STOP_WORDS and w.title() not in DEMONYMS)
    return QuestionAnalysis(question, kind, answer_type, question_terms, _anchors(question), granularity, unit, head)


def _anchors(question: str) -> tuple[str, ...]:
    """Capitalised names (not the first word) and numbers in the question, lower-cased."""
    tokens = re.findall(r"[A-Za-z][A-Za-z'’\-\.]*|\d[\d,\.]*", question)
    anchors = []
    for index, token in enumerate(tokens):
        clean = re.sub(r"['’]s$", "", token).strip(".").lower()
        if not clean or clean in STOP_WORDS:
            continue
        if token[0].isdigit() or (index > 0 and token[0].isupper()):
            anchors.append(clean)
    return tuple(dict.fromkeys(anchors))


def question_words(question: str) -> set[str]:
    return set(words(question))
