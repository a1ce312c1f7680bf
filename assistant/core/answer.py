"""The values the assistant returns: passages retrieved, citations, and the Answer itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_ANSWER_WORDS = 60  # the whole answer text, short answer and quote together; eval counts a longer one as wrong


@dataclass
class Passage:
    """A retrieved chunk with its article's metadata; `start`/`end` locate it in the article text."""

    chunk_id: str
    article_id: str
    source: str
    title: str
    date: str | None
    url: str | None
    text: str
    start: int
    end: int
    score: float = 0.0
    dense_rank: int | None = None
    lexical_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Citation:
    """One numbered source of an answer: the quoted sentence(s), inside the retrieved passage."""

    number: int
    article_id: str
    source: str
    title: str
    date: str | None
    url: str | None
    quote: str
    quote_start: int  # character span of the quote in the article text
    quote_end: int
    passage: str
    passage_start: int
    passage_end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Citation":
        """The Citation `to_dict` wrote (unknown keys ignored, so older or newer records still load)."""
        fields: dict[str, Any] = {name: data.get(name) for name in cls.__dataclass_fields__}
        return cls(**fields)


@dataclass
class Answer:
    """What `Assistant.ask` returns.

    text: shown to the user, with inline [n] markers; short_answer: the date, number or name
    pulled out, when there is one; citations: numbered sources; confidence: 0..1;
    refused: True when the articles don't answer the question (then there are no citations).
    """

    question: str
    text: str
    short_answer: str | None = None
    citations: list[Citation] = field(default_factory=list)
    confidence: float = 0.0
    refused: bool = False
    kind: str = "other"
    backend: str = "extractive"
    unsupported: list[str] = field(default_factory=list)
    context_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["citations"] = [c.to_dict() for c in self.citations]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Answer":
        """The Answer `to_dict` wrote, e.g. read back from a saved conversation (unknown keys ignored)."""
        values = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        values["citations"] = [Citation.from_dict(c) for c in data.get("citations") or []]
        values["unsupported"] = list(data.get("unsupported") or [])
        return cls(**values)

    def to_text(self) -> str:
        """The answer as plain text with its numbered sources under it, as `assistant ask` prints it."""
        lines = [self.text]
        for c in self.citations:
            lines += ["", f"[{c.number}] {c.title} ({c.date or 'undated'}) — {c.source}", f"    “{c.quote}”"]
        return "\n".join(lines)

    @classmethod
    def refusal(
        cls, question: str, kind: str = "other", confidence: float = 0.0, backend: str = "extractive", reason: str = ""
    ) -> "Answer":
        text = "The articles don't answer this question."
        if reason:
            text = f"{text} {reason}"
        return cls(question=question, text=text, refused=True, kind=kind, confidence=confidence, backend=backend)
