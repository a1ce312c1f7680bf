"""Fit the extractive answerer's sentence-ranking weights on question sets, with cross-validation.

    python tools/train_ranker.py DATA_DIR QUESTIONS.jsonl [MORE.jsonl ...]

DATA_DIR must already hold the collection the questions are about. A sentence is a positive when it
contains an expected answer form. Prints leave-fold-out top-1 accuracy (the honest estimate on unseen
questions) and writes assistant/ranker_weights.json, which the answerer loads.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.backends import make_answerer
from assistant.evaluation import load_questions
from assistant.evaluation.metrics import contains_answer
from assistant.extractive import FEATURES, _compose, quoted_sentences
from assistant.question import analyse

C_FINAL = 3.0  # regularisation chosen by the cross-validation printed below
OUT = Path(__file__).resolve().parent.parent / "assistant" / "ranker_weights.json"


def collect(assistant: Assistant, paths: list[str]):
    answerer = make_answerer("extractive", assistant)
    groups = []
    for path in paths:
        for q in load_questions(path):
            if not q.answerable:
                continue
            analysis = analyse(q.question)
            candidates = answerer._candidates(answerer._with_neighbours(assistant.retrieve(q.question, assistant.settings.k)))
            answerer.features(analysis, candidates)
            x = np.array([[c.features.get(f, 0.0) for f in FEATURES] for c in candidates])
            y = np.array([any(contains_answer(c.text, form) for form in q.answers) for c in candidates])
            if y.any():
                groups.append((q.id, x, y, (q, analysis, candidates, answerer.idf)))
    return groups


def top1(model, groups, n: int = 1) -> float:
    hits = 0
    for _, x, y, _ in groups:
        hits += bool(y[np.argsort(-model.decision_function(x))[:n]].any())
    return hits / len(groups)


def answer_accuracy(model, groups) -> float:
    """The whole extractive answer (short answer + quoted sentence(s), at most 60 words) holds an expected form."""
    hits = 0
    for _, x, _, (q, analysis, candidates, idf) in groups:
        for c, score in zip(candidates, model.decision_function(x)):
            c.score = float(score)
        ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
        text = _compose(q.question, analysis, quoted_sentences(analysis, ranked, idf), 1.0).text
        hits += len(text.split()) <= 60 and any(contains_answer(text, form) for form in q.answers)
    return hits / len(groups)


class Listwise:
    """Linear scores trained with a softmax over each question's sentences (the answer should come first)."""

    def __init__(self, c: float) -> None:
        self.c = c

    def fit(self, groups) -> "Listwise":
        from scipy.optimize import minimize

        dims = groups[0][1].shape[1]

        def loss(w):
            total, grad = 0.0, np.zeros(dims)
            for _, x, y, _ in groups:
                s = x @ w
                s = s - s.max()
                p = np.exp(s) / np.exp(s).sum()
                pos = p[y].sum()
                total -= np.log(pos + 1e-12)
                # gradient of -log(sum_pos p) = E_p[x] - E_{p|pos}[x]
                grad += p @ x - (p[y] @ x[y]) / (pos + 1e-12)
            total += 0.5 * (w @ w) / self.c
            grad += w / self.c
            return total / len(groups), grad / len(groups)

        self.coef_ = minimize(loss, np.zeros(dims), jac=True, method="L-BFGS-B").x
        return self

    def decision_function(self, x):
        return x @ self.coef_


def fit(groups, c: float):
    return Listwise(c).fit(groups)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    data_dir, paths = sys.argv[1], sys.argv[2:]
    with Assistant(data_dir=data_dir) as assistant:
        groups = collect(assistant, paths)
    print(f"{len(groups)} questions with a sentence holding the answer")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(groups))
    folds = [order[i::5] for i in range(5)]
    for c in (0.3, 1.0, 3.0, 10.0, 30.0):
        scores = []
        for fold in folds:
            held = set(fold.tolist())
            model = fit([g for i, g in enumerate(groups) if i not in held], c)
            held_groups = [g for i, g in enumerate(groups) if i in held]
            scores.append([top1(model, held_groups, n) for n in (1, 2, 3)] + [answer_accuracy(model, held_groups)])
        print(f"C={c}: cross-validated top-1/2/3 sentence accuracy and answer accuracy {np.round(np.mean(scores, axis=0), 3)}")
    model = fit(groups, C_FINAL)
    print(f"training top-1 {top1(model, groups):.3f}")
    weights = {f: round(float(w), 4) for f, w in zip(FEATURES, model.coef_)}
    OUT.write_text(json.dumps(weights, indent=2) + "\n")
    print(json.dumps(weights, indent=2))


if __name__ == "__main__":
    main()
