"""An answer's confidence in words: high, medium or low, and what that has meant on held-out validation.

    >>> describe(0.93, [{"from": 0.9, "answers": 200, "right": 0.91}]).word
    'high'

The bands follow the validation bins the reader's calibration records (tools/train_span_reader.py validate,
written into the model's .json record): high is 0.9 and up, medium 0.7 to 0.9, low below. The meaning of a band
is read from those bins (of the validation answers shown that sure, the share that was right); a model without
bins gets its calibrated estimate instead, said as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BANDS = (("high", 0.9, 1.01), ("medium", 0.7, 0.9), ("low", 0.0, 0.7))


@dataclass(frozen=True)
class ConfidenceWords:
    word: str  # high, medium or low
    meaning: str  # one sentence, for a tooltip
    value: float


def band(confidence: float) -> tuple[str, float, float]:
    value = min(max(float(confidence), 0.0), 1.0)
    return next(b for b in BANDS if b[1] <= value < b[2])


def describe(confidence: float, bins: list[dict[str, Any]] | None = None, backend: str = "extractive") -> ConfidenceWords:
    """The word for `confidence` and what it means, from validation `bins` ({"from", "answers", "right"})."""
    word, low, high = band(confidence)
    span = f"{low:.1f} or more" if word == "high" else (f"below {high:.1f}" if low == 0 else f"{low:.1f} to {high:.1f}")
    if backend != "extractive":
        return ConfidenceWords(word, f"{word} ({confidence:.2f}): the {backend} answer's own score, not calibrated on "
                                     "validation data; check its sources.", confidence)
    inside = [b for b in bins or [] if low <= float(b.get("from", -1)) < high and b.get("answers")]
    answers = sum(int(b["answers"]) for b in inside)
    if answers:
        right = sum(float(b["right"]) * int(b["answers"]) for b in inside) / answers
        meaning = (f"{word} ({confidence:.2f}): of the validation answers shown this sure ({span}), about "
                   f"{round(right * 10)} in 10 were right ({answers} answers).")
    else:
        meaning = (f"{word} ({confidence:.2f}): the reader's calibrated estimate is that about {round(confidence * 10)} "
                   f"in 10 answers this sure are right; this model records no validation figures for {span}.")
    return ConfidenceWords(word, meaning, confidence)


def reader_bins() -> list[dict[str, Any]]:
    """The validation bins recorded with the bundled span reader ([] when it has none)."""
    from assistant.reading.read import SpanReader

    return list((SpanReader.shared().record.get("calibration") or {}).get("bins") or [])


def for_answer(answer) -> ConfidenceWords:
    """`describe` for an Answer, with the reader's own validation bins for extractive answers."""
    bins = reader_bins() if answer.backend == "extractive" else None
    return describe(answer.confidence, bins, answer.backend)
