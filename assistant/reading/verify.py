"""Two learned models must agree that the passages answer the question: the sentence ranker answers, and the span
reader, reading the same passages at the same time, checks that it finds an answer there too (backend `verified`).

The two fail differently: the ranker answers near misses whose sentence fits the question's words, the reader often
finds no span it is sure of in them (its "no answer" score, calibrated on held-out QA paragraphs). A refusal by
either is the answer, except that a ranker answer of confidence VERIFY_BELOW or more stands on its own. Each model
keeps its own validated threshold.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

from assistant.core.answer import Answer, Passage

log = logging.getLogger(__name__)

# The ranker's answers this sure stand without the reader's check. Chosen on the BBC training questions (612, 59 of
# them unanswerable; never the test split) by tools/choose_verify_threshold.py: overall accuracy 0.874 for the ranker
# alone, 0.886 at 0.95, 0.884 with every answer checked.
VERIFY_BELOW = 0.95


class VerifiedAnswerer:
    def __init__(self, answerer, verifier) -> None:
        self.answerer = answerer
        self.verifier = verifier
        # one worker: the reader runs beside the ranker (onnxruntime releases the GIL), so the check costs less than
        # its own time (BBC test questions, ask p50: 224 ms for the ranker alone, 324 ms verified, on two cores)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify")

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        check = self._pool.submit(self.verifier.answer, question, passages)
        answer = self.answerer.answer(question, passages)
        checked = check.result()
        if answer.refused or not checked.refused or answer.confidence >= VERIFY_BELOW:
            return answer
        log.info("the span reader finds no answer (confidence %.2f): refusing %r", checked.confidence, answer.text)
        return Answer.refusal(question, answer.kind, checked.confidence)

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Answer]:
        """Not written as it goes: the Answer alone (the Answerer protocol, assistant/backends.py)."""
        yield self.answer(question, passages)
