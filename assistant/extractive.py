"""The default answerer: picks the sentence that answers the question, pulls the short answer out of it, no LLM.

Each sentence of the retrieved passages is scored on
- meaning: cosine similarity of question and sentence (the embedding model),
- words: idf-weighted share of the question's content words found in the sentence,
- context: the same share over the article's title and passage, since a sentence often says "the firm",
- type: whether it holds the kind of answer asked for (a date for "when", an amount for "how much", …),
- rank: where retrieval put its passage.
The answer refuses when its confidence (driven by whether the evidence mentions the
question's names and numbers and how much of the question it covers) is low.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import numpy as np

from assistant.answer import Answer, Citation, Passage
from assistant.dates import at_granularity, find_time_expressions
from assistant.question import QuestionAnalysis, analyse
from assistant.spans import SpanMatch, amounts, names, places
from assistant.terms import terms, words
from ingest.sentences import split_sentences

MAX_WORDS = 60
MAX_CANDIDATES = 48  # sentences embedded per question: bounds latency
WEIGHTS = {"meaning": 0.40, "words": 0.30, "context": 0.10, "type": 0.12, "rank": 0.08}
_NEGATION = re.compile(r"\b(not|no|never|denied|denies|rejected|refused|failed|won't|didn't|doesn't|isn't|wasn't|cannot|can't)\b", re.IGNORECASE)


@dataclass
class Candidate:
    passage: Passage
    rank: int
    text: str
    start: int  # in the article
    end: int
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    short: str | None = None


class ExtractiveAnswerer:
    """Answer = best sentence + the short answer in it, cited; or a refusal when the evidence is weak."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], idf: Callable[[str], float], min_confidence: float = 0.35) -> None:
        self.embed = embed
        self.idf = idf
        self.min_confidence = min_confidence

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        analysis = analyse(question)
        candidates = self._candidates(passages)
        if not candidates:
            return Answer.refusal(question, analysis.kind)
        self._score(analysis, candidates)
        best = max(candidates, key=lambda c: c.score)
        best.short = extract_short_answer(analysis, best.text, _date_of(best.passage), self.idf)
        confidence = self._confidence(analysis, best, passages)
        if confidence < self.min_confidence:
            return Answer.refusal(question, analysis.kind, confidence)
        return _compose(question, analysis, best, confidence)

    # ---- candidates and features ------------------------------------------------------------------

    def _candidates(self, passages: list[Passage]) -> list[Candidate]:
        seen: set[tuple[str, int]] = set()
        found = []
        for rank, passage in enumerate(passages):
            for span in split_sentences(passage.text):
                start = passage.start + span.start
                key = (passage.article_id, start)
                text = passage.text[span.start:span.end]
                if key in seen or len(words(text)) < 3:
                    continue
                seen.add(key)
                found.append(Candidate(passage, rank, text, start, passage.start + span.end))
        return found

    def _coverage(self, question_terms: tuple[str, ...], text_terms: set[str]) -> float:
        total = sum(self.idf(t) for t in question_terms)
        if not total:
            return 0.0
        return sum(self.idf(t) for t in question_terms if t in text_terms) / total

    def _score(self, analysis: QuestionAnalysis, candidates: list[Candidate]) -> None:
        for c in candidates:
            sentence_terms = _terms_with_compounds(c.text)
            context_terms = _terms_with_compounds(f"{c.passage.title} {c.passage.text}")
            c.features["words"] = self._coverage(analysis.terms, sentence_terms)
            c.features["context"] = self._coverage(analysis.terms, context_terms)
            c.features["type"] = 1.0 if extract_short_answer(analysis, c.text, _date_of(c.passage), self.idf) else 0.0
            c.features["rank"] = 1.0 / (1.0 + c.rank)
        shortlist = sorted(candidates, key=lambda c: c.features["words"] + 0.5 * c.features["context"] + 0.3 * c.features["rank"], reverse=True)
        shortlist = shortlist[:MAX_CANDIDATES]
        vectors = self.embed([analysis.text] + [c.text for c in shortlist])
        similarities = vectors[1:] @ vectors[0]
        for c, similarity in zip(shortlist, similarities):
            c.features["meaning"] = float(max(0.0, similarity))
        for c in candidates:
            c.features.setdefault("meaning", 0.0)
            c.score = sum(WEIGHTS[name] * value for name, value in c.features.items())

    def _confidence(self, analysis: QuestionAnalysis, best: Candidate, passages: list[Passage]) -> float:
        """0..1: does the evidence speak of what the question names, and does the sentence answer it?"""
        article_text = " ".join(p.title + " " + p.text for p in passages if p.article_id == best.passage.article_id).lower()
        article_date = best.passage.date or ""
        if analysis.anchors:
            present = sum(1 for a in analysis.anchors if _mentions(article_text, a) or a in article_date)
            anchor_share = present / len(analysis.anchors)
        else:
            anchor_share = 1.0
        f = best.features
        fit = 0.45 * f["meaning"] + 0.35 * f["words"] + 0.20 * f["context"]
        typed = 1.0 if analysis.answer_type in ("other", "reason", "yesno") or best.short else 0.6
        return round(max(0.0, min(1.0, fit * typed * (0.25 + 0.75 * anchor_share ** 2) * 1.6)), 3)


def _terms_with_compounds(text: str) -> set[str]:
    found = set(terms(text))
    tokens = words(text)
    found.update(a + b for a, b in zip(tokens, tokens[1:]))  # "Time Warner" meets "TimeWarner"
    return found


def _mentions(text: str, anchor: str) -> bool:
    return bool(re.search(rf"(?<![a-z0-9]){re.escape(anchor)}", text)) or anchor.replace(",", "") in text.replace(",", "")


def _date_of(passage: Passage) -> date | None:
    try:
        return date.fromisoformat(passage.date) if passage.date else None
    except ValueError:
        return None


def extract_short_answer(analysis: QuestionAnalysis, sentence: str, published: date | None, idf: Callable[[str], float] = lambda t: 1.0) -> str | None:
    """The date, amount, name or place in `sentence` that answers the question.

    Among several, the one in the clause that shares most (idf-weighted) with the question,
    then the one nearest a matching word: in "Lavrov visited Islamabad in April this year, and
    Pakistan's ministers visited Russia last year", Lavrov's visit is April, the ministers' last year.
    """
    kind = analysis.answer_type
    question_lower = analysis.text.lower()
    if kind == "date":
        options = [(SpanMatch(e.start, e.end, e.text), at_granularity(e, analysis.granularity) or e.text)
                   for e in find_time_expressions(sentence, published)]
    elif kind in ("number", "money", "percent", "duration"):
        options = [(m, m.text) for m in amounts(sentence, kind)]
    elif kind == "person":
        options = [(m, m.text) for m in names(sentence)]
    elif kind == "place":
        options = [(m, m.text) for m in places(sentence) or names(sentence)]
    else:
        return None
    options = [(m, label) for m, label in options if m.text.lower() not in question_lower and not _all_in_question(m.text, question_lower)]
    if not options:
        return None
    anchor_positions = _term_positions(sentence, analysis.terms)
    if not anchor_positions:
        return options[0][1]
    clauses = _clauses(sentence)

    def clause_weight(span: SpanMatch) -> float:
        start, end = next(((s, e) for s, e in clauses if s <= span.start < e), (0, len(sentence)))
        present = set(terms(sentence[start:end]))
        return sum(idf(t) for t in set(analysis.terms) if t in present)

    return min(options, key=lambda o: (-clause_weight(o[0]), _distance(o[0], anchor_positions, sentence)))[1]


_CLAUSE_BREAK = re.compile(r";|:|,\s+(?:and|but|while|whilst|whereas)\s+|\s+-\s+")


def _clauses(sentence: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for match in _CLAUSE_BREAK.finditer(sentence):
        bounds.append((start, match.start()))
        start = match.end()
    bounds.append((start, len(sentence)))
    return bounds


def _all_in_question(text: str, question_lower: str) -> bool:
    tokens = [w for w in words(text) if len(w) > 1]
    return bool(tokens) and all(re.search(rf"\b{re.escape(t)}", question_lower) for t in tokens)


def _term_positions(sentence: str, question_terms: tuple[str, ...]) -> list[int]:
    wanted = set(question_terms)
    positions = []
    for match in re.finditer(r"[A-Za-z0-9]+", sentence):
        if terms(match.group()) and terms(match.group())[0] in wanted:
            positions.append(match.start())
    return positions


def _distance(span: SpanMatch, positions: list[int], sentence: str) -> float:
    """Character distance to the nearest matching word, doubled across a clause break (", and", ";")."""
    best = math.inf
    for position in positions:
        low, high = sorted((position, span.start))
        between = sentence[low:high]
        penalty = 2.0 if re.search(r"[;:]|,\s+(and|but|while|whereas)\b", between) else 1.0
        best = min(best, abs(position - span.start) * penalty)
    return best


def _compose(question: str, analysis: QuestionAnalysis, best: Candidate, confidence: float) -> Answer:
    quote = best.text
    lead = best.short
    if analysis.answer_type == "yesno":
        lead = "No" if _NEGATION.search(quote) else "Yes"
    budget = MAX_WORDS - (len(lead.split()) + 1 if lead else 0) - 1
    shown = _trim(quote, budget, analysis)
    text = f"{lead}. {shown} [1]" if lead else f"{shown} [1]"
    passage = best.passage
    citation = Citation(
        number=1, article_id=passage.article_id, source=passage.source, title=passage.title, date=passage.date, url=passage.url,
        quote=quote, quote_start=best.start, quote_end=best.end, passage=passage.text, passage_start=passage.start, passage_end=passage.end,
    )
    return Answer(question=question, text=text, short_answer=lead, citations=[citation], confidence=confidence, kind=analysis.kind)


def _trim(sentence: str, budget: int, analysis: QuestionAnalysis) -> str:
    """The sentence, or the window of it richest in question words when it is too long."""
    tokens = sentence.split()
    if len(tokens) <= budget:
        return sentence
    wanted = set(analysis.terms)
    hits = [1 if set(terms(t)) & wanted else 0 for t in tokens]
    best_start = max(range(len(tokens) - budget + 1), key=lambda s: sum(hits[s:s + budget]))
    window = " ".join(tokens[best_start:best_start + budget])
    return ("… " if best_start else "") + window + (" …" if best_start + budget < len(tokens) else "")
