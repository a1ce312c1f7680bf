"""Refusal: the reader's margin (best span score - its window's "no answer" score) -> a calibrated confidence.

confidence = sigmoid(slope * margin + intercept), fitted by logistic regression on held-out validation paragraphs
read among distractors (tools/train_span_reader.py validate), where "right" means the span matches a reference
answer (token F1 >= 0.5). The threshold below which the answerer refuses is chosen on the same validation split,
as the one that maximises accuracy with refusals of unanswerable questions counted right. Both numbers are written
into the model's record; nothing here is set by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    slope: float = 1.0
    intercept: float = 0.0
    threshold: float = 0.5

    @classmethod
    def from_record(cls, record: dict) -> "Calibration":
        found = record.get("calibration") or {}
        return cls(float(found.get("slope", 1.0)), float(found.get("intercept", 0.0)),
                   float(found.get("threshold", 0.5)))

    def confidence(self, margin: float) -> float:
        return 1.0 / (1.0 + math.exp(-(self.slope * margin + self.intercept)))


def fit_calibration(margins: list[float], right: list[bool], answerable: list[bool]) -> dict:
    """Logistic fit of right ~ margin (Newton steps), then the accuracy-maximising confidence threshold."""
    x = np.asarray(margins, dtype=float)
    y = np.asarray(right, dtype=float)
    w = np.zeros(2)
    design = np.stack([x, np.ones_like(x)], axis=1)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (y - p)
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    slope, intercept = float(w[0]), float(w[1])
    confidence = 1.0 / (1.0 + np.exp(-(slope * x + intercept)))
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
    return {"slope": round(slope, 5), "intercept": round(intercept, 5), "threshold": best[1],
            "validation_accuracy": round(best[0], 4), "bins": bins}
