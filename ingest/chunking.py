"""Token-aware chunking on sentence boundaries, with overlap and exact character spans.

Chunk size is steered with tiktoken (cl100k), which is what LLM context packing
counts in; the hard limit is the embedding model's own tokenizer, because
all-MiniLM-L6-v2 silently truncates past 256 word pieces. Every chunk is checked
against that limit and split further until it fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ingest.sentences import Span, split_sentences

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int
    end: int
    text: str


class Chunker:
    """Splits article text into chunks of about `chunk_tokens`, never over `max_model_tokens` model tokens."""

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        count_model_tokens: Callable[[str], int],
        max_model_tokens: int,
        chunk_tokens: int = 160,
        overlap_tokens: int = 40,
    ) -> None:
        self.count_tokens = count_tokens
        self.count_model_tokens = count_model_tokens
        self.max_model_tokens = max_model_tokens
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens

    def chunk(self, text: str) -> list[Chunk]:
        units = [piece for sentence in split_sentences(text) for piece in self._fit(text, sentence)]
        spans = [fitted for span in self._pack(text, units) for fitted in self._fit(text, span)]
        return [Chunk(i, s.start, s.end, text[s.start:s.end]) for i, s in enumerate(spans)]

    def _fits(self, text: str, span: Span) -> bool:
        piece = text[span.start:span.end]
        return self.count_tokens(piece) <= self.chunk_tokens and self.count_model_tokens(piece) <= self.max_model_tokens

    def _fit(self, text: str, span: Span) -> list[Span]:
        """The span itself if it fits, else consecutive pieces of it split at words (or characters) that do."""
        if self._fits(text, span):
            return [span]
        words = [Span(span.start + m.start(), span.start + m.end()) for m in _WORD.finditer(text[span.start:span.end])]
        if len(words) > 1:
            middle = len(words) // 2
            left = Span(words[0].start, words[middle - 1].end)
            right = Span(words[middle].start, words[-1].end)
        else:
            if span.end - span.start <= 1:
                return [span]
            middle = (span.start + span.end) // 2
            left, right = Span(span.start, middle), Span(middle, span.end)
        return self._fit(text, left) + self._fit(text, right)

    def _pack(self, text: str, units: list[Span]) -> list[Span]:
        """Greedily join sentence units up to chunk_tokens, starting each chunk with the previous one's tail."""
        chunks: list[Span] = []
        current: list[Span] = []
        for unit in units:
            candidate = current + [unit]
            if current and self.count_tokens(text[candidate[0].start:unit.end]) > self.chunk_tokens:
                chunks.append(Span(current[0].start, current[-1].end))
                current = self._overlap(text, current, unit) + [unit]
            else:
                current = candidate
        if current:
            chunks.append(Span(current[0].start, current[-1].end))
        return chunks

    def _overlap(self, text: str, previous: list[Span], following: Span) -> list[Span]:
        """Trailing units of the previous chunk worth at most overlap_tokens, leaving room for `following`."""
        tail: list[Span] = []
        for unit in reversed(previous[1:]):
            candidate = [unit] + tail
            joined = text[candidate[0].start:following.end]
            if self.count_tokens(text[candidate[0].start:candidate[-1].end]) > self.overlap_tokens or self.count_tokens(joined) > self.chunk_tokens:
                break
            tail = candidate
        return tail
