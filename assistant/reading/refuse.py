"""Refusal: the reader's margin (best span score - its window's "no answer" score) and how much of the question's
names and numbers its passage mentions -> a calibrated confidence.

confidence = sigmoid(slope * margin + coverage_weight * coverage + intercept), fitted by logistic regression on
held-out validation paragraphs
read among distractors (tools/train_span_reader.py validate), where "right" means the span matches a reference
answer (token F1 >= 0.5). The threshold below which the answerer refuses is chosen on the same validation split,
as the one that maximises accuracy with refusals of unanswerable questions counted right. Both numbers are written
into the model's record; nothing here is set by hand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np


_ANCHOR = re.compile(r"\b(?:\d[\d,.]*\d|\d|[^\W\d_][\w'’-]*)\b")
_NOT_ANCHORS = frozenset("""what which who whom whose when where why how is are was were did does do the a an in on at of
for to and or by with from this that these those it its his her their has have had will would can could should
according""".split())


def anchors(question: str) -> list[str]:
    """The question's numbers and capitalised words (not its first word): what a passage answering it must mention."""
    found = []
    for index, match in enumerate(_ANCHOR.finditer(question)):
        word = match.group()
        if word.lower() in _NOT_ANCHORS:
            continue
        if word[0].isdigit() or (index > 0 and word[0].isupper()):
            found.append(word.lower().rstrip("'’s"))
    return list(dict.fromkeys(found))


def anchor_coverage(question: str, passage: str) -> float:
    """Share of the question's anchors the passage mentions (1.0 when the question has none)."""
    wanted = anchors(question)
    if not wanted:
        return 1.0
    text = passage.lower()
    return sum(1 for a in wanted if a in text) / len(wanted)


@dataclass(frozen=True)
class Calibration:
    slope: float = 1.0
    intercept: float = 0.0
    threshold: float = 0.5
    coverage_weight: float = 0.0

    @classmethod
    def from_record(cls, record: dict) -> "Calibration":
        found = record.get("calibration") or {}
        return cls(float(found.get("slope", 1.0)), float(found.get("intercept", 0.0)),
                   float(found.get("threshold", 0.5)), float(found.get("coverage_weight", 0.0)))

    def confidence(self, margin: float, coverage: float = 1.0) -> float:
        return 1.0 / (1.0 + math.exp(-(self.slope * margin + self.coverage_weight * coverage + self.intercept)))


def fit_calibration(margins: list[float], right: list[bool], answerable: list[bool],
                    coverage: list[float] | None = None) -> dict:
    """Logistic fit of right ~ margin + coverage (Newton steps), then the accuracy-maximising confidence threshold."""
    x = np.asarray(margins, dtype=float)
    c = np.asarray(coverage if coverage is not None else [1.0] * len(margins), dtype=float)
    y = np.asarray(right, dtype=float)
    design = np.stack([x, c, np.ones_like(x)], axis=1) if coverage is not None else np.stack([x, np.ones_like(x)], 1)
    w = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (y - p)
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(design.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    slope, intercept = float(w[0]), float(w[-1])
    coverage_weight = float(w[1]) if coverage is not None else 0.0
    confidence = 1.0 / (1.0 + np.exp(-(design @ w)))
    has_answer = np.asarray(answerable, dtype=bool)
    best = (-1.0, 0.5)
    for threshold in np.round(np.arange(0.05, 0.96, 0.01), 2):
        answered = confidence >= threshold
        accuracy = float(np.mean(np.where(has_answer, answered & (y > 0), ~answered)))
        if accuracy > best[0]:
            best = (accuracy, float(threshold))
    bins = []
    for low in (0.0, 0.3, 0.5, 0.7, 0.9):
        inside = (confidence >= low) & (confidence < low + (0.1 if low == 0.9 else 0.2) + (0.01 if low == 0.9 else 0))
        if inside.any():
            bins.append({"from": low, "answers": int(inside.sum()), "right": round(float(y[inside].mean()), 3)})
    return {"slope": round(slope, 5), "intercept": round(intercept, 5), "coverage_weight": round(coverage_weight, 5),
            "threshold": best[1],
            "validation_accuracy": round(best[0], 4), "bins": bins}
