"""Token-aware chunking on sentence boundaries, with overlap and exact character spans.

Chunk size is steered with tiktoken (cl100k), which is what LLM context packing
counts in; the hard limit is the embedding model's own tokenizer, because
all-MiniLM-L6-v2 silently truncates past 256 word pieces. Every chunk is checked
against that limit and split further until it fits.

Linear in the text: each sentence, and each sentence with the gap before it, is counted once, and the size of
a run of sentences is estimated from those counts; only estimates within a few tokens of a limit are counted
exactly. A "sentence" longer than `window_chars` (a file with no sentence punctuation, a 5 MB single line) is
first cut into windows at white space, so splitting it never re-reads the whole of it.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from assistant.text.sentences import Span, split_sentences

_WORD = re.compile(r"\S+")
_UP_TO_LAST_SPACE = re.compile(r".*\s", re.DOTALL)
ESTIMATE_MARGIN = 4  # estimates of a run's tokens this close to a limit are checked with an exact count
CHECK_EVERY = 200  # sentences (and chunks) between two calls of chunk()'s `check` (a file's time budget)
WINDOW_FACTOR = 32  # sentences longer than this many characters per chunk token are cut into windows first


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
        self.window_chars = WINDOW_FACTOR * chunk_tokens

    def chunk(self, text: str, check: Callable[[], None] | None = None) -> list[Chunk]:
        """The chunks of `text`. `check`, when given, is called every CHECK_EVERY sentences and chunks (a time
        budget raising from it stops the work)."""
        check = check or _no_check
        counts = _Counts(text, self.count_tokens)
        units = []
        for number, sentence in enumerate(split_sentences(text), start=1):
            units += self._fit(text, sentence, counts, final=False)
            if number % CHECK_EVERY == 0:
                check()
        spans = []
        for number, span in enumerate(self._pack(_Units(units, counts, check)), start=1):
            spans += self._fit(text, span, counts, final=True)
            if number % CHECK_EVERY == 0:
                check()
        return [Chunk(i, s.start, s.end, text[s.start:s.end]) for i, s in enumerate(spans)]

    def _fits(self, text: str, span: Span, counts: "_Counts", final: bool) -> bool:
        """Whether the span is within chunk_tokens and the model's limit. For a sentence (not `final`), a short one
        is taken to fit the model without counting (a word piece covers at least one character of the normalised
        text); every final chunk is counted with the model's tokenizer, so that shortcut can never let one through."""
        if counts(span.start, span.end) > self.chunk_tokens:
            return False
        piece = text[span.start:span.end]
        if not final and len(unicodedata.normalize("NFD", piece)) + 2 <= self.max_model_tokens:
            return True
        return self.count_model_tokens(piece) <= self.max_model_tokens

    def _fit(self, text: str, span: Span, counts: "_Counts", final: bool) -> list[Span]:
        """The span itself if it fits, else consecutive pieces of it split at words (or characters) that do."""
        if span.end - span.start > self.window_chars:
            return [
                piece
                for window in _windows(text, span, self.window_chars)
                for piece in self._fit(text, window, counts, final)
            ]
        if self._fits(text, span, counts, final):
            return [span]
        words = [Span(m.start(), m.end()) for m in _WORD.finditer(text, span.start, span.end)]
        if len(words) > 1:
            middle = len(words) // 2
            left = Span(words[0].start, words[middle - 1].end)
            right = Span(words[middle].start, words[-1].end)
        else:
            if span.end - span.start <= 1:
                return [span]
            middle = (span.start + span.end) // 2
            left, right = Span(span.start, middle), Span(middle, span.end)
        return self._fit(text, left, counts, final) + self._fit(text, right, counts, final)

    def _pack(self, units: "_Units") -> list[Span]:
        """Greedily join sentence units up to chunk_tokens, starting each chunk with the previous one's tail."""
        if not units.spans:
            return []
        chunks: list[Span] = []
        first = 0  # the current chunk is units first..b-1
        for b in range(1, len(units.spans)):
            if b % CHECK_EVERY == 0:
                units.check()
            if units.exceeds(first, b, self.chunk_tokens):
                chunks.append(units.span(first, b - 1))
                first = self._overlap_start(units, first, b - 1, b)
        chunks.append(units.span(first, len(units.spans) - 1))
        return chunks

    def _overlap_start(self, units: "_Units", first: int, last: int, following: int) -> int:
        """First unit of the next chunk: trailing units of first..last worth at most overlap_tokens, leaving room
        for `following` (never the previous chunk's first unit, so chunks always move on)."""
        start = following
        for i in range(last, first, -1):
            if units.exceeds(i, last, self.overlap_tokens) or units.exceeds(i, following, self.chunk_tokens):
                break
            start = i
        return start


class _Counts:
    """cl100k counts of spans of one text, each span counted at most once."""

    def __init__(self, text: str, count: Callable[[str], int]) -> None:
        self.text = text
        self.count = count
        self.memo: dict[tuple[int, int], int] = {}

    def __call__(self, start: int, end: int) -> int:
        value = self.memo.get((start, end))
        if value is None:
            value = self.memo[(start, end)] = self.count(self.text[start:end])
        return value


class _Units:
    """Sentence units with prefix sums of their counts, so a run's size is estimated in O(1)."""

    def __init__(self, spans: list[Span], counts: _Counts, check: Callable[[], None]) -> None:
        self.spans = spans
        self.counts = counts
        self.check = check
        added = [self._added(prev, unit) for prev, unit in zip(spans, spans[1:])]
        self.prefix = [0, *itertools.accumulate(added)]

    def _added(self, prev: Span, unit: Span) -> int:
        """Tokens `unit` adds after `prev`, the gap between them included. cl100k's pre-tokenizer only carries a
        token across white space through line breaks (".\n\n" is one token), so without one in the gap the gap
        and unit count alone; with one, the pair is counted and prev taken off."""
        text = self.counts.text
        if "\n" not in text[prev.end:unit.start] and "\r" not in text[prev.end:unit.start]:
            return self.counts(prev.end, unit.end)
        return self.counts(prev.start, unit.end) - self.counts(prev.start, prev.end)

    def span(self, a: int, b: int) -> Span:
        return Span(self.spans[a].start, self.spans[b].end)

    def exceeds(self, a: int, b: int, limit: int) -> bool:
        """Whether units a..b together count more than `limit` tokens: estimated, counted exactly near the limit."""
        estimate = self.counts(self.spans[a].start, self.spans[a].end) + self.prefix[b] - self.prefix[a]
        if estimate > limit + ESTIMATE_MARGIN:
            return True
        if estimate < limit - ESTIMATE_MARGIN:
            return False
        return self.counts(self.spans[a].start, self.spans[b].end) > limit


def _no_check() -> None:
    return None


def _windows(text: str, span: Span, size: int) -> list[Span]:
    """`span` cut into consecutive pieces of at most `size` characters, at the last white space when there is one."""
    pieces: list[Span] = []
    start = span.start
    while span.end - start > size:
        match = _UP_TO_LAST_SPACE.match(text, start, start + size)
        end = match.end() - 1 if match and match.end() - 1 > start else start + size
        piece = text[start:end]
        pieces.append(Span(start, start + len(piece.rstrip())))
        start = end + len(text[end:end + size]) - len(text[end:end + size].lstrip())
    if start < span.end:
        pieces.append(Span(start, span.end))
    return [p for p in pieces if p.end > p.start]
