"""The span reader's answerer (backend `reader`): a learned reader picks the answer span in the retrieved passages,
or says none is there.

    analyse     what kind of answer is asked for (for dates: year, month or day) -> analyse.py
    candidates  the retrieved passages and the rest of the top articles         -> candidates.py
    read        every window: best spans and a "no answer" score               -> read.py
    refuse      each span's margin, its passage's coverage of the question and retrieval rank -> calibrated confidence;
                the best one is answered unless below the validated threshold                   -> refuse.py
    compose     short answer (dates resolved), the quoted sentence, citation    -> compose.py
No hand rule decides the span or the refusal; both come from the model and its calibration.
"""

from __future__ import annotations

import logging
import re
from typing import Callable, Iterator

from assistant.core.answer import Answer, Passage
from assistant.reading.analyse import analyse_question
from assistant.reading.candidates import passages_to_read
from assistant.reading.compose import Finding, compose
from assistant.reading.read import Span, SpanReader
from assistant.reading.refuse import Calibration, anchor_coverage, rank_prior
from assistant.text.dates import find_time_expressions
from assistant.text.terms import terms
from assistant.text.timeframe import asks_for_latest, day_or_none

log = logging.getLogger(__name__)

REVISION_GAP = 0.15  # a newer article's answer leads when its confidence is at most this much below the best one's
MAX_RIVALS = 12  # spans looked at for a newer or an earlier value
SAME_FACT = 0.25  # share of words the text around two values must have in common to be one fact revised
SENTENCE_REACH = 80  # characters either side of a span compared for that


def _shape(text: str) -> str:
    """The kind of value a span gives: two values of one fact have the same kind ("Monday" and "27 November" are both
    times; "£28 million" and "£34.5 million" both money)."""
    if find_time_expressions(text, None):
        return "time"
    if re.search(r"[£$€¥]|\b(million|billion|bn)\b", text, re.IGNORECASE):
        return "money"
    return "number" if re.search(r"\d", text) else "words"


def _same_fact(span: Span, passage: Passage, best: Span, best_passage: Passage) -> bool:
    """Two spans give values of one fact when they have the same shape and their sentences say much the same."""
    if _shape(span.text) != _shape(best.text):
        return False
    words = [set(terms(p.text[max(0, s.start - SENTENCE_REACH):s.end + SENTENCE_REACH]))
             for s, p in ((span, passage), (best, best_passage))]
    return bool(words[0] and words[1]) and len(words[0] & words[1]) / len(words[0] | words[1]) >= SAME_FACT


def _same_value(a: str, b: str) -> bool:
    norm = [" ".join(re.findall(r"\w+", t.lower())) for t in (a, b)]
    return norm[0] == norm[1] or norm[0] in norm[1] or norm[1] in norm[0]


def article_rank_priors(read: list[Passage]) -> list[float]:
    """Each passage's retrieval prior: its article's place among the articles in retrieval order (read passages come
    in that order, an article's further chunks after them)."""
    order = {article: rank for rank, article in enumerate(dict.fromkeys(p.article_id for p in read))}
    return [rank_prior(order[p.article_id]) for p in read]


class ReaderAnswerer:
    def __init__(self, reader: SpanReader, min_confidence: float | None = None,
                 expand: Callable[[list[str]], list[Passage]] | None = None, expand_articles: int = 2,
                 max_passages: int = 16) -> None:
        self.reader = reader
        self.calibration = Calibration.from_record(reader.record)
        # None: the threshold chosen on the validation split and stored with the model
        self.min_confidence = self.calibration.threshold if min_confidence is None else min_confidence
        self.expand = expand
        self.expand_articles = expand_articles
        self.max_passages = max_passages

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        analysis = analyse_question(question)
        read = passages_to_read(passages, self.expand, self.expand_articles, self.max_passages)
        spans = self.reader.read(question, [p.text for p in read])
        if not spans:
            return Answer.refusal(question, analysis.kind)
        priors = article_rank_priors(read)
        scored = [(self._confidence(question, s, read, priors), s) for s in spans[:MAX_RIVALS]]
        confidence, best = max(scored, key=lambda pair: pair[0])  # the first of equals, as the reader ordered them
        log.debug("best span %r margin %.2f confidence %.2f", best.text, best.margin, confidence)
        if confidence < self.min_confidence:
            return Answer.refusal(question, analysis.kind, confidence)
        chosen, earlier = self._latest(question, scored, read, best, confidence)
        return compose(question, analysis.kind, chosen, read[chosen.passage], confidence, analysis.granularity,
                       short=analysis.kind != "yes_no",  # no reader can say yes or no: the evidence is quoted
                       earlier=Finding(earlier, read[earlier.passage]) if earlier else None)

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Answer]:
        """Not written as it goes: the Answer alone (the Answerer protocol, assistant/backends.py)."""
        yield self.answer(question, passages)

    def _confidence(self, question: str, span: Span, read: list[Passage], priors: list[float]) -> float:
        return self.calibration.confidence(span.margin, anchor_coverage(question, read[span.passage].text),
                                           priors[span.passage])

    def _latest(self, question: str, scored: list[tuple[float, Span]], read: list[Passage], best: Span,
                confidence: float) -> tuple[Span, Span | None]:
        """News revises itself: when dated articles give different answers that the reader is nearly as sure of, the
        newest one leads and the one before it is named with its date. Asking for the "latest" or "current" value
        makes the newest lead even when it is read a little less surely."""
        best_date = day_or_none(read[best.passage].date)
        if best_date is None:
            return best, None
        gap = REVISION_GAP * (2 if asks_for_latest(question) else 1)
        rivals = []
        seen_articles = {read[best.passage].article_id}
        for rival_confidence, span in scored:
            if span is best:
                continue
            passage = read[span.passage]
            day = day_or_none(passage.date)
            if day is None or passage.article_id in seen_articles:
                continue
            seen_articles.add(passage.article_id)
            if rival_confidence < self.min_confidence or rival_confidence < confidence - gap:
                continue
            if _same_value(span.text, best.text) or not _same_fact(span, passage, best, read[best.passage]):
                continue
            rivals.append((day, span))
        if not rivals:
            return best, None
        newest_day, newest = max(rivals, key=lambda r: r[0])
        if newest_day > best_date:
            return newest, best
        older = [r for r in rivals if r[0] < best_date]
        return best, (max(older, key=lambda r: r[0])[1] if older else None)
