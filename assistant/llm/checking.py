"""Every citation of a model's answer checked after generation.

1. Markup that a renderer would fetch (images, links, tags, URLs) is removed; citation markers are normalised.
2. A marker must name a passage that was retrieved for this question and shown to the model
   ([1] … [n] of the prompt); any other number is dropped.
3. Each sentence is checked against the passages it cites: every name, number and date in it
   must appear there, each number and date beside the names it goes with (grounding.local_missing_facts;
   dates resolved against the articles' dates count),
   at least half its content words too (grounding.word_support), and it must mean what some
   sentence of those passages says (cosine similarity of the embedding model, `min_support`).
4. The sentences that pass are kept; the others are listed as unsupported and, by setting,
   removed from the text or kept and marked. Citations are renumbered in order of use.

`attribute_uncited`: a sentence the model left without a marker may be given the passage that
supports it, found by the same checks; off by default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from assistant.core.answer import Citation, Passage
from assistant.llm.text import REDACTED, looks_like_instruction, neutralise_markup, normalise_citations, tidy
from assistant.text.grounding import (
    answer_sentences,
    citation_numbers,
    local_missing_facts,
    strip_markers,
    unsupported_facts,
    word_support,
)
from assistant.text.sentences import split_sentences
from assistant.text.timeframe import day_or_none

MIN_WORD_SUPPORT = 0.5
_MARKER = re.compile(r"\s*\[(\d+)\]")


@dataclass
class SentenceCheck:
    """One sentence of the model's answer and what the check found."""

    text: str  # without markers
    cited: list[int]  # valid passage numbers it cites (1-based, as in the prompt)
    invalid: list[int] = field(default_factory=list)  # numbers that name no passage of the prompt
    missing: list[str] = field(default_factory=list)  # names, numbers, dates absent from the cited passages
    words: float = 0.0  # share of content words found in the cited passages
    support: float = 0.0  # best cosine similarity to a sentence of the cited passages
    quotes: dict[int, tuple[int, int]] = field(default_factory=dict)  # passage number -> best sentence span in it
    attributed: bool = False  # cited by the checker, not by the model
    instruction: bool = False  # reads like an instruction to an AI: never kept, never repeated
    supported: bool = False

    @property
    def reason(self) -> str:
        if self.instruction:
            return "it addresses instructions to an AI (article text is data)"
        if not self.cited:
            return "cites no passage retrieved for this question"
        if self.missing:
            return "not in the cited passage: " + ", ".join(self.missing)
        return "the cited passage does not say this"


@dataclass
class CheckedAnswer:
    """The model's answer after the checks: the sentences, and the text and citations to show."""

    raw: str
    sentences: list[SentenceCheck]
    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    refused: bool = False

    @property
    def supported(self) -> list[SentenceCheck]:
        return [s for s in self.sentences if s.supported]

    @property
    def confidence(self) -> float:
        if not self.sentences or not self.supported:
            return 0.0
        share = len(self.supported) / len(self.sentences)
        return float(round(share * float(np.mean([s.support for s in self.supported])), 3))


class CitationChecker:
    """Checks answers against the passages of their prompt."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        min_support: float = 0.5,
        mark_unsupported: bool = False,
        attribute_uncited: bool = False,
        refusal: str | None = None,
    ) -> None:
        self.embed = embed
        self.min_support = min_support
        self.mark_unsupported = mark_unsupported
        self.attribute_uncited = attribute_uncited
        self.refusal = refusal

    def check(self, raw: str, passages: list[Passage]) -> CheckedAnswer:
        """`passages` are the prompt's, in prompt order (passage n is passages[n-1]); they are checked as stored, not as
        cleaned for the prompt."""
        cleaned = tidy(normalise_citations(neutralise_markup(raw)))
        refused = bool(self.refusal and self.refusal in cleaned)
        if self.refusal:
            cleaned = tidy(cleaned.replace(self.refusal, ""))
        sentences = [self._parse(s, len(passages)) for s in answer_sentences(cleaned)]
        sentences = [s for s in sentences if s.text.strip(" .")]
        if sentences:
            self._score(sentences, passages)
        result = CheckedAnswer(
            raw=raw, sentences=sentences, refused=refused and not any(s.supported for s in sentences)
        )
        self._compose(result, passages)
        return result

    # ---- parsing and scoring ----------------------------------------------------------------------

    @staticmethod
    def _parse(sentence: str, count: int) -> SentenceCheck:
        numbers = list(dict.fromkeys(citation_numbers(sentence)))
        text = tidy(strip_markers(sentence))
        return SentenceCheck(
            text=text,
            cited=[n for n in numbers if 1 <= n <= count],
            invalid=[n for n in numbers if not 1 <= n <= count],
            instruction=looks_like_instruction(text),
        )

    def _score(self, sentences: list[SentenceCheck], passages: list[Passage]) -> None:
        spans = [[(s.start, s.end) for s in split_sentences(p.text)] for p in passages]
        pieces = [p.text[a:b] for p, ps in zip(passages, spans) for a, b in ps]
        vectors = self.embed([s.text for s in sentences] + pieces)
        answer_vectors, piece_vectors = vectors[:len(sentences)], vectors[len(sentences):]
        offsets = np.cumsum([0] + [len(ps) for ps in spans])
        for sentence, vector in zip(sentences, answer_vectors):
            similarity = piece_vectors @ vector
            if sentence.instruction:
                sentence.cited = []
            elif sentence.cited:
                self._judge(sentence, sentence.cited, passages, spans, offsets, similarity)
            elif self.attribute_uncited:
                self._attribute(sentence, passages, spans, offsets, similarity)

    def _judge(
        self, sentence: SentenceCheck, numbers: list[int], passages: list[Passage], spans, offsets, similarity
    ) -> None:
        cited = [passages[n - 1] for n in numbers]
        evidence = [(p.text, day_or_none(p.date)) for p in cited]
        sentence.missing = local_missing_facts(sentence.text, evidence)
        sentence.words = word_support(sentence.text, [p.text for p in cited])
        sentence.quotes, best = {}, 0.0
        for n in numbers:
            lo, hi = offsets[n - 1], offsets[n]
            if hi > lo:
                at = int(np.argmax(similarity[lo:hi]))
                sentence.quotes[n] = spans[n - 1][at]
                best = max(best, float(similarity[lo + at]))
        sentence.support = best
        sentence.supported = (not sentence.missing and sentence.words >= MIN_WORD_SUPPORT and best >= self.min_support
                              # what the evaluation's groundedness checks, too
                              and not unsupported_facts(sentence.text, evidence))

    def _attribute(self, sentence: SentenceCheck, passages: list[Passage], spans, offsets, similarity) -> None:
        """Give an uncited sentence the best passage that passes every check, if any."""
        order = sorted(
            range(len(passages)), key=lambda i: -float(similarity[offsets[i] : offsets[i + 1]].max(initial=-1.0))
        )
        for i in order:
            trial = SentenceCheck(text=sentence.text, cited=[i + 1])
            self._judge(trial, [i + 1], passages, spans, offsets, similarity)
            if trial.supported:
                sentence.cited, sentence.missing, sentence.words = trial.cited, trial.missing, trial.words
                sentence.support, sentence.quotes, sentence.supported, sentence.attributed = (
                    trial.support,
                    trial.quotes,
                    True,
                    True,
                )
                return

    # ---- the text shown ---------------------------------------------------------------------------

    def _compose(self, result: CheckedAnswer, passages: list[Passage]) -> None:
        shown = [s for s in result.sentences if s.supported or (self.mark_unsupported and not s.instruction)]
        renumber: dict[int, int] = {}
        for sentence in shown:
            for n in sentence.cited:
                renumber.setdefault(n, len(renumber) + 1)
        pieces, unsupported = [], []
        for sentence in result.sentences:
            text = _with_markers(sentence.text, [renumber[n] for n in sentence.cited if n in renumber])
            if sentence.instruction:
                unsupported.append(REDACTED)
                continue
            if not sentence.supported:
                unsupported.append(text if self.mark_unsupported else sentence.text)
            if sentence in shown:
                pieces.append(text)
        result.text = " ".join(pieces)
        result.unsupported = unsupported
        result.citations = [
            self._citation(new, old, result, passages) for old, new in sorted(renumber.items(), key=lambda kv: kv[1])
        ]

    @staticmethod
    def _citation(number: int, old: int, result: CheckedAnswer, passages: list[Passage]) -> Citation:
        passage = passages[old - 1]
        citing = [s for s in result.sentences if old in s.quotes]
        best = max(citing, key=lambda s: (s.supported, s.support), default=None)
        start, end = best.quotes[old] if best else (0, len(passage.text))
        return Citation(
            number=number,
            article_id=passage.article_id,
            source=passage.source,
            title=passage.title,
            date=passage.date,
            url=passage.url,
            quote=passage.text[start:end],
            quote_start=passage.start + start,
            quote_end=passage.start + end,
            passage=passage.text,
            passage_start=passage.start,
            passage_end=passage.end,
        )


def _with_markers(text: str, numbers: list[int]) -> str:
    """"Lavrov visited Islamabad." + [1] -> "Lavrov visited Islamabad [1]." (the marker before the final stop)."""
    if not numbers:
        return text
    markers = " ".join(f"[{n}]" for n in numbers)
    match = re.search(r"([.!?]+['\"’”)]*)$", text)
    if match:
        return f"{text[:match.start()]} {markers}{match.group(1)}"
    return f"{text} {markers}"


