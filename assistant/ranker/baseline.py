"""A deliberately simple answerer for comparisons: the retrieved sentence sharing most words with the question.

It never refuses and knows nothing of answer types; `assistant eval --compare hybrid,overlap` shows what the
extractive answerer adds over it.
"""

from __future__ import annotations

from typing import Iterator

from assistant.core.answer import Answer, Citation, Passage
from assistant.reading.analyse import analyse_question
from assistant.text.sentences import split_sentences
from assistant.text.terms import terms


class OverlapAnswerer:
    def answer(self, question: str, passages: list[Passage]) -> Answer:
        analysis = analyse_question(question)
        wanted = set(terms(question))
        best = None
        for passage in passages:
            for span in split_sentences(passage.text):
                shared = len(wanted & set(terms(passage.text[span.start:span.end])))
                if best is None or shared > best[0]:
                    best = (shared, passage, span)
        if best is None:
            return Answer.refusal(question, analysis.kind, backend="overlap")
        _, passage, span = best
        quote = passage.text[span.start:span.end]
        citation = Citation(
            1,
            passage.article_id,
            passage.source,
            passage.title,
            passage.date,
            passage.url,
            quote,
            passage.start + span.start,
            passage.start + span.end,
            passage.text,
            passage.start,
            passage.end,
        )
        return Answer(
            question=question,
            text=f"{' '.join(quote.split()[:58])} [1]",
            citations=[citation],
            confidence=1.0,
            kind=analysis.kind,
            backend="overlap",
        )

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Answer]:
        """Not written as it goes: the Answer alone (the Answerer protocol, assistant/backends.py)."""
        yield self.answer(question, passages)
