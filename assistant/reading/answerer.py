"""The span reader's answerer (backend `reader`): a learned reader picks the answer span in the retrieved passages,
or says none is there.

    analyse     what kind of answer is asked for (for dates: year, month or day) -> analyse.py
    candidates  the retrieved passages and the rest of the top articles         -> candidates.py
    read        every window: best spans and a "no answer" score               -> read.py
    refuse      each span's margin, its passage's coverage of the question and retrieval rank -> calibrated confidence;
                the best one is answered unless below the validated threshold                   -> refuse.py
    latest      values of one fact from articles of other dates (same shape of value, sentences alike in the
                embedding model): the newest leads, the one before it is named  -> assistant/text/revisions.py
    compose     short answer (dates resolved), the quoted sentence, citation    -> compose.py
No hand rule decides the span or the refusal; both come from the model and its calibration. Which of the reader's
spans leads when articles revise a value is decided by date (`_latest`, and `changed_to` for "from X to Y").
"""

from __future__ import annotations

import logging
import re
from typing import Callable, Iterator

from assistant.core.answer import Answer, Passage
from assistant.models.embedding import Embedder
from assistant.reading.analyse import analyse_question
from assistant.reading.candidates import passages_to_read
from assistant.reading.compose import Finding, compose, sentence_around
from assistant.reading.read import Span, SpanReader
from assistant.reading.refuse import Calibration, anchor_coverage, rank_prior
from assistant.text.revisions import REVISION_GAP, Embed, Statement, newest_and_earlier, value_shape, without_value
from assistant.text.timeframe import asks_for_latest, day_or_none

log = logging.getLogger(__name__)

MAX_RIVALS = 12  # spans looked at for a newer or an earlier value


def statement(span: Span, passage: Passage) -> Statement[Span]:
    """The span's value, stated in its sentence (the value left out), on its article's date."""
    start, end = sentence_around(passage.text, span.start, span.end)
    fact = without_value(passage.text[start:end], span.start - start, span.end - start)
    return Statement(span, span.text, fact, day_or_none(passage.date))


def changed_to(best: Span, spans: list[Span], text: str) -> Span:
    """A sentence that reports a change names both values ("has risen from £28 million to £34.5 million", "put back
    from the summer of 2025 to the first quarter of 2026"): asked for the latest value, a span that is what the value
    changed from gives way to the reader's span of what it changed to, when there is one of the same shape."""
    if not re.search(r"\bfrom\b[^,.;:]{0,30}$", text[max(0, best.start - 40):best.start], re.IGNORECASE):
        return best
    after = [s for s in spans if s.passage == best.passage and s.start >= best.end
             and value_shape(s.text) == value_shape(best.text)
             and re.fullmatch(r"[^,.;:]{0,20}?\s+to\s+[^,.;:]{0,30}", text[best.end:s.start], re.IGNORECASE)]
    return min(after, key=lambda s: s.start) if after else best


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
        if day_or_none(read[best.passage].date) is None:
            return best, None
        gap = REVISION_GAP * (2 if asks_for_latest(question) else 1)
        rivals = []
        seen_articles = {read[best.passage].article_id}
        for rival_confidence, span in scored:
            passage = read[span.passage]
            if span is best or passage.article_id in seen_articles:
                continue
            seen_articles.add(passage.article_id)
            if rival_confidence >= self.min_confidence and rival_confidence >= confidence - gap:
                rivals.append(statement(span, passage))
        embed = self._embed or Embedder.shared().embed
        return newest_and_earlier(embed, statement(best, read[best.passage]), rivals)
