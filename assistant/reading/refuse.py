"""Refusal: the reader's margin (best span score - its window's "no answer" score), how much of the question's
names and numbers its passage mentions, and how high retrieval ranked the passage's article -> a calibrated confidence.

confidence = sigmoid(slope * margin + coverage_weight * coverage + rank_weight * rank_prior + intercept), fitted by
logistic regression on held-out validation paragraphs read among the paragraphs a word-overlap search ranks above
them (tools/train_span_reader.py validate), where "right" means the span matches a reference answer (token F1 >=
0.5). The answer is the span of highest confidence; the threshold below which the answerer refuses is chosen on the
same validation split, as the one that maximises accuracy with refusals of unanswerable questions counted right.
All numbers are written into the model's record; nothing here is set by hand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

_ANCHOR = re.compile(r"\b(?:\d[\d,.]*\d|\d|[^\W\d_][\w'’-]*)\b")
_NOT_ANCHORS = frozenset("""what which who whom whose when where why how is are was were did does do the a an in on at
of for to and or by with from this that these those it its his her their has have had will would can could should
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
    rank_weight: float = 0.0

    @classmethod
    def from_record(cls, record: dict) -> "Calibration":
        found = record.get("calibration") or {}
        return cls(float(found.get("slope", 1.0)), float(found.get("intercept", 0.0)),
                   float(found.get("threshold", 0.5)), float(found.get("coverage_weight", 0.0)),
                   float(found.get("rank_weight", 0.0)))

    def confidence(self, margin: float, coverage: float = 1.0, rank_prior: float = 1.0) -> float:
        z = self.slope * margin + self.coverage_weight * coverage + self.rank_weight * rank_prior + self.intercept
        return 1.0 / (1.0 + math.exp(-z))


def rank_prior(rank: int) -> float:
    """1 for the first article retrieval found, 1/2 for the second, …"""
    return 1.0 / (1 + rank)


def _logistic(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logistic regression weights by Newton steps (a tiny ridge keeps separable data finite)."""
    w = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (y - p) - 1e-3 * w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-3 * np.eye(design.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _bins(confidence: np.ndarray, right: np.ndarray) -> list[dict]:
    bins = []
    for low in (0.0, 0.3, 0.5, 0.7, 0.9):
        inside = (confidence >= low) & (confidence < (low + 0.2 if low < 0.9 else 1.01))
        if inside.any():
            bins.append({"from": low, "answers": int(inside.sum()), "right": round(float(right[inside].mean()), 3)})
    return bins


def fit_span_calibration(questions: list[dict]) -> dict:
    """Fit confidence on every candidate span of every question, then choose the threshold on the answers given.

    `questions`: {"answerable": bool, "spans": [(margin, coverage, rank_prior, right), …]} each. The span answered is
    the one of highest fitted confidence (as ReaderAnswerer does); the threshold maximises accuracy over questions,
    a refusal of an unanswerable question counting right."""
    rows = np.asarray([s[:4] for q in questions for s in q["spans"]], dtype=float)
    design = np.column_stack([rows[:, 0], rows[:, 1], rows[:, 2], np.ones(len(rows))])
    w = _logistic(design, rows[:, 3])
    chosen, right, answerable = [], [], []
    for q in questions:
        if not q["spans"]:
            chosen.append(0.0)
            right.append(False)
            answerable.append(q["answerable"])
            continue
        s = np.asarray(q["spans"], dtype=float)
        z = np.column_stack([s[:, 0], s[:, 1], s[:, 2], np.ones(len(s))]) @ w
        best = int(np.argmax(z))
        chosen.append(float(1.0 / (1.0 + np.exp(-z[best]))))
        right.append(bool(s[best, 3]))
        answerable.append(q["answerable"])
    confidence, y, has_answer = np.asarray(chosen), np.asarray(right), np.asarray(answerable, dtype=bool)
    best_threshold = (-1.0, 0.5)
    for threshold in np.round(np.arange(0.05, 0.96, 0.01), 2):
        answered = confidence >= threshold
        accuracy = float(np.mean(np.where(has_answer, answered & y, ~answered)))
        if accuracy > best_threshold[0]:
            best_threshold = (accuracy, float(threshold))
    return {"slope": round(float(w[0]), 5), "coverage_weight": round(float(w[1]), 5),
            "rank_weight": round(float(w[2]), 5), "intercept": round(float(w[3]), 5),
            "threshold": best_threshold[1], "validation_accuracy": round(best_threshold[0], 4),
            "bins": _bins(confidence, y)}
