"""The span reader's answerer (backend `reader`): a learned reader picks the answer span in the retrieved passages,
or says none is there.

    analyse     what kind of answer is asked for (for dates: year, month or day) -> analyse.py
    candidates  the retrieved passages and the rest of the top articles         -> candidates.py
    read        every window: best spans and a "no answer" score               -> read.py
    refuse      each span's margin, its passage's coverage of the question and retrieval rank -> calibrated confidence;
                the best one is answered unless below the validated threshold                   -> refuse.py
    latest      values of one fact from articles of other dates (same shape of value, sentences alike in the
                embedding model): the newest leads, the one before it is named            -> ReaderAnswerer._latest
    compose     short answer (dates resolved), the quoted sentence, citation    -> compose.py
No hand rule decides the span or the refusal; both come from the model and its calibration. Which of the reader's
spans leads when articles revise a value is decided by date (`_latest`, and `changed_to` for "from X to Y").
"""

from __future__ import annotations

import logging
import re
from typing import Callable, Iterator

import numpy as np

from assistant.core.answer import Answer, Passage
from assistant.models.embedding import Embedder
from assistant.reading.analyse import analyse_question
from assistant.reading.candidates import passages_to_read
from assistant.reading.compose import Finding, compose, sentence_around
from assistant.reading.read import Span, SpanReader
from assistant.reading.refuse import Calibration, anchor_coverage, rank_prior
from assistant.text.dates import find_time_expressions
from assistant.text.timeframe import asks_for_latest, day_or_none

log = logging.getLogger(__name__)

REVISION_GAP = 0.15  # a newer article's answer leads when its confidence is at most this much below the best one's
MAX_RIVALS = 12  # spans looked at for a newer or an earlier value
# Cosine of two sentences' embeddings (their values left out) from which they state one fact. Chosen off the dated
# collection: on 21 made-up pairs (12 of one fact in other words, 9 of different facts about the same thing with the
# same shape of value) 0.65 tells the most apart (balanced accuracy 0.72); on 150 BBC business articles, 296 pairs of
# sentences of one article that each give a money amount (one story, mostly different facts) lie below it 93% of the
# time (95th percentile 0.67), and those above it mostly restate one figure ("US crude prices surge above $53" / "US
# crude prices have soared to fresh four-month highs above $53").
SAME_FACT = 0.65


def _shape(text: str) -> str:
    """The kind of value a span gives: two values of one fact have the same kind ("Monday" and "27 November" are both
    times; "£28 million" and "£34.5 million" both money)."""
    if find_time_expressions(text, None):
        return "time"
    if re.search(r"[£$€¥]|\b(million|billion|bn)\b", text, re.IGNORECASE):
        return "money"
    return "number" if re.search(r"\d", text) else "words"


Embed = Callable[[list[str]], np.ndarray]


def fact_sentence(span: Span, passage: Passage) -> str:
    """The sentence a span's value is stated in, the value itself left out: two statements of one fact differ in
    their values, and the embedding should compare what is said about them."""
    text = passage.text
    start, end = sentence_around(text, span.start, span.end)
    return " ".join((text[start:span.start] + " " + text[span.end:end]).split())


def same_fact(embed: Embed, best: tuple[Span, Passage], rivals: list[tuple[Span, Passage]]) -> list[bool]:
    """For each rival: does it give a value of the best span's fact? The same shape of value, and sentences that say
    the same thing about it (cosine of their embeddings, the value left out, at least SAME_FACT)."""
    shaped = [i for i, (span, _) in enumerate(rivals) if _shape(span.text) == _shape(best[0].text)]
    same = [False] * len(rivals)
    if not shaped:
        return same
    vectors = embed([fact_sentence(*best)] + [fact_sentence(*rivals[i]) for i in shaped])
    for i, similarity in zip(shaped, vectors[1:] @ vectors[0]):
        log.debug("same fact? %r ~ %r: %.2f", rivals[i][0].text, best[0].text, similarity)
        same[i] = bool(similarity >= SAME_FACT)
    return same


def changed_to(best: Span, spans: list[Span], text: str) -> Span:
    """A sentence that reports a change names both values ("has risen from £28 million to £34.5 million", "put back
    from the summer of 2025 to the first quarter of 2026"): asked for the latest value, a span that is what the value
    changed from gives way to the reader's span of what it changed to, when there is one of the same shape."""
    if not re.search(r"\bfrom\b[^,.;:]{0,30}$", text[max(0, best.start - 40):best.start], re.IGNORECASE):
        return best
    after = [s for s in spans if s.passage == best.passage and s.start >= best.end
             and _shape(s.text) == _shape(best.text)
             and re.fullmatch(r"[^,.;:]{0,20}?\s+to\s+[^,.;:]{0,30}", text[best.end:s.start], re.IGNORECASE)]
    return min(after, key=lambda s: s.start) if after else best


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
                 max_passages: int = 16, embed: Embed | None = None) -> None:
        self.reader = reader
        # the sentence embedder that tells a revised value of one fact from another fact; the factory passes the
        # retrieval model's (assistant/backends.py), and without one the shared embedder is loaded when first needed
        self._embed = embed
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
        if asks_for_latest(question):
            best = changed_to(best, [s for _, s in scored], read[best.passage].text)
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
        candidates = []
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
            if not _same_value(span.text, best.text):
                candidates.append((day, span))
        embed = self._embed or Embedder.shared().embed
        same = same_fact(embed, (best, read[best.passage]), [(s, read[s.passage]) for _, s in candidates])
        rivals = [candidate for candidate, keep in zip(candidates, same) if keep]
        if not rivals:
            return best, None
        newest_day, newest = max(rivals, key=lambda r: r[0])
        if newest_day > best_date:
            return newest, best
        older = [r for r in rivals if r[0] < best_date]
        return best, (max(older, key=lambda r: r[0])[1] if older else None)
