"""The default answerer: a learned reader picks the answer span in the retrieved passages, or says none is there.

    analyse     what kind of answer is asked for (for dates: year, month or day) -> assistant.question
    candidates  the retrieved passages and the rest of the top articles         -> candidates.py
    read        every window: best spans and a "no answer" score               -> span_reader.py
    refuse      the best span's margin -> calibrated confidence; refuse below the validated threshold -> refuse.py
    compose     short answer (dates resolved), the quoted sentence, citation    -> compose.py
No hand rule decides the span or the refusal; both come from the model and its calibration.
"""

from __future__ import annotations

import logging
from typing import Callable

from assistant.answer import Answer, Passage
from assistant.question import analyse
from assistant.reading.candidates import passages_to_read
from assistant.reading.compose import compose
from assistant.reading.refuse import Calibration
from assistant.reading.span_reader import SpanReader

log = logging.getLogger(__name__)


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
        analysis = analyse(question)
        read = passages_to_read(passages, self.expand, self.expand_articles, self.max_passages)
        spans = self.reader.read(question, [p.text for p in read])
        if not spans:
            return Answer.refusal(question, analysis.kind)
        best = spans[0]
        confidence = self.calibration.confidence(best.margin)
        log.debug("best span %r margin %.2f confidence %.2f", best.text, best.margin, confidence)
        if confidence < self.min_confidence:
            return Answer.refusal(question, analysis.kind, confidence)
        return compose(question, analysis.kind, best, read[best.passage], confidence, analysis.granularity)
