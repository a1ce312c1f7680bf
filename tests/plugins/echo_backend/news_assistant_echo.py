"""The `echo` answer backend, a test plugin: it answers with the first sentence of the top passage, cited
(a headline above it left out).

It knows nothing of the question and never refuses a passage; it exists to show (and test) that a separate package
can add a backend to news-assistant with one entry point:

    [project.entry-points."news_assistant.backends"]
    echo = "news_assistant_echo:make_answerer"

`make_answerer(assistant)` is called once per Assistant; what it returns needs `answer(question, passages)` and
`stream(question, passages)` (the Answerer protocol in assistant/backends.py).
"""

from __future__ import annotations

import re
from typing import Iterator

from assistant.core.answer import Answer, Citation, Passage

NAME = "echo"
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


class EchoAnswerer:
    def answer(self, question: str, passages: list[Passage]) -> Answer:
        if not passages:
            return Answer.refusal(question, backend=NAME)
        top = passages[0]
        start, end = first_sentence(top.text)
        quote = top.text[start:end]
        citation = Citation(1, top.article_id, top.source, top.title, top.date, top.url, quote, top.start + start,
                            top.start + start + len(quote), top.text, top.start, top.end)
        return Answer(question=question, text=f"{quote} [1]", citations=[citation], confidence=0.0, backend=NAME)

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Answer]:
        """The answer's words as pieces, then the Answer."""
        answer = self.answer(question, passages)
        for index, word in enumerate(answer.text.split()):
            yield word if index == 0 else f" {word}"
        yield answer


def first_sentence(text: str) -> tuple[int, int]:
    """(start, end) of the first sentence, in the paragraph it ends in (a headline above it is left out)."""
    found = _SENTENCE_END.search(text)
    end = found.end() if found else len(text.rstrip())
    paragraph = text.rfind("\n\n", 0, end)
    start = paragraph + 2 if paragraph >= 0 else 0
    return start + len(text[start:end]) - len(text[start:end].lstrip()), end


def make_answerer(assistant) -> EchoAnswerer:
    """The entry point news-assistant calls with the Assistant (its settings, store and embedder are there)."""
    return EchoAnswerer()
