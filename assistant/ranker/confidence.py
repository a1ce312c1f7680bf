"""An answer's confidence in words: high, medium or low, and what that has meant on questions held out.

    >>> describe(0.93, [{"from": 0.9, "answers": 200, "right": 0.91}]).word
    'high'

The bands follow the bins the measurements use: high is 0.9 and up, medium 0.7 to 0.9, low below. What a band
means is read from measured bins ({"from", "answers", "right"}: of the answers shown with a confidence in the bin,
the share that was right), recorded per answerer:

- reader (the span reader): the validation bins written into its model record by its calibration
  (assistant/models/span-reader-int8.json, on paragraphs held out from training);
- extractive (the sentence ranker): its confidence is a rule, not a fitted probability, so its bins are measured
  on the BBC test questions and kept in assistant/models/extractive-confidence.json (`bins_from_rows` over the rows
  of `assistant eval tests/data/bbc_test.jsonl --out DIR`, DIR/eval.json);
- verified (the default: the ranker's answers the span reader let through): the same, in
  assistant/models/verified-confidence.json.

An answerer without bins (an LLM backend) gets the words with that said instead of figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from assistant.reading.read import SpanReader

BANDS = (("high", 0.9, 1.01), ("medium", 0.7, 0.9), ("low", 0.0, 0.7))
BIN_EDGES = (0.0, 0.3, 0.5, 0.7, 0.9, 1.01)
EXTRACTIVE_RECORD = Path(__file__).resolve().parents[1] / "models" / "extractive-confidence.json"
VERIFIED_RECORD = Path(__file__).resolve().parents[1] / "models" / "verified-confidence.json"
MEASURED_RECORDS = {"extractive": EXTRACTIVE_RECORD, "verified": VERIFIED_RECORD}


@dataclass(frozen=True)
class ConfidenceWords:
    word: str  # high, medium or low
    meaning: str  # one sentence, for a tooltip
    value: float


def band(confidence: float) -> tuple[str, float, float]:
    value = min(max(float(confidence), 0.0), 1.0)
    return next(b for b in BANDS if b[1] <= value < b[2])


def describe(confidence: float, bins: list[dict[str, Any]] | None = None, backend: str = "extractive",
             measured_on: str = "held-out questions") -> ConfidenceWords:
    """The word for `confidence` and what it means, from measured `bins` (None: this answerer has none)."""
    word, low, high = band(confidence)
    span = f"{low:.1f} or more" if word == "high" else (f"below {high:.1f}" if low == 0 else f"{low:.1f} to {high:.1f}")
    inside = [b for b in bins or [] if low <= float(b.get("from", -1)) < high and b.get("answers")]
    answers = sum(int(b["answers"]) for b in inside)
    if answers:
        right = sum(float(b["right"] or 0) * int(b["answers"]) for b in inside) / answers
        meaning = (f"{word} ({confidence:.2f}): of the answers shown this sure ({span}) on {measured_on}, about "
                   f"{round(right * 10)} in 10 were right ({answers} answers).")
    elif bins is None:
        meaning = (f"{word} ({confidence:.2f}): the {backend} answerer's own score, not measured against right "
                   "answers; check the sources.")
    else:
        meaning = f"{word} ({confidence:.2f}): no measured answers were this sure ({span}); check the sources."
    return ConfidenceWords(word, meaning, confidence)


def bins_from_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Measured bins from evaluation rows (eval.json "rows"): answers shown per confidence bin, and the share right."""
    shown = [r for r in rows if not r["refused"]]
    bins = []
    for low, high in zip(BIN_EDGES, BIN_EDGES[1:]):
        inside = [r for r in shown if low <= float(r["confidence"]) < high]
        if inside:
            right = sum(1 for r in inside if r["answerable"] and r["correct"]) / len(inside)
            bins.append({"from": low, "answers": len(inside), "right": round(right, 3)})
    return bins


@lru_cache(maxsize=None)
def recorded(backend: str) -> tuple[list[dict[str, Any]] | None, str]:
    """(bins, what they were measured on) for an answerer; (None, "") when none are recorded."""
    if backend == "reader":
        bins = (SpanReader.shared().record.get("calibration") or {}).get("bins")
        return (list(bins), "validation paragraphs held out from training") if bins else (None, "")
    path = MEASURED_RECORDS.get(backend)
    if path is not None and path.is_file():
        record = json.loads(path.read_text(encoding="utf-8"))
        return list(record.get("bins") or []), record.get("measured_on", "held-out questions")
    return None, ""


def for_answer(answer, backend: str | None = None) -> ConfidenceWords:
    """`describe` for an Answer from `backend` (the configured one; an LLM answer names its own)."""
    name = answer.backend if answer.backend != "extractive" else (backend or "extractive")
    bins, measured_on = recorded(name)
    return describe(answer.confidence, bins, name, measured_on or "held-out questions")
