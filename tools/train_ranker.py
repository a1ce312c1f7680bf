"""Fit the extractive answerer's sentence-ranking weights on question sets, and estimate what they do on unseen
questions.

    python tools/train_ranker.py DATA_DIR QUESTIONS.jsonl [MORE.jsonl ...]

DATA_DIR must already hold the collection the questions are about. A sentence is a positive when it
contains an expected answer form. Prints, from 5-fold cross-validation (each question answered by a
ranker fitted without it — the honest estimate on unseen questions):
- sentence top-1/2/3 accuracy and answer accuracy for several regularisation strengths;
- for several refusal thresholds: answer accuracy with refusals counted as wrong, the share of
  answerable questions refused, and the share of unanswerable ones refused, per question file.
Then writes assistant/ranker_weights.json (fitted on everything), which the answerer loads.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.backends import make_answerer
from assistant.core.answer import MAX_ANSWER_WORDS
from assistant.evaluation import load_questions
from assistant.evaluation.metrics import contains_answer
from assistant.ranker.extractive import CONFIDENCE_SCALE, FEATURES, _compose, confidence_features, quoted_sentences
from assistant.text.question import analyse

C_FINAL = 3.0  # regularisation chosen by the cross-validation printed below
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)
OUT = Path(__file__).resolve().parent.parent / "assistant" / "ranker_weights.json"


@dataclass
class Group:
    """One question: its candidate sentences' features and which of them hold an expected answer."""

    source: str
    question: object
    analysis: object
    candidates: list
    evidence: list
    x: np.ndarray
    y: np.ndarray


def collect(assistant: Assistant, paths: list[str]) -> tuple[list[Group], object]:
    answerer = make_answerer("extractive", assistant)
    groups = []
    for path in paths:
        for q in load_questions(path):
            analysis = analyse(q.question)
            evidence = answerer._with_neighbours(assistant.retrieve(q.question, assistant.settings.k))
            candidates = answerer._candidates(evidence)
            if not candidates:
                continue
            answerer.features(analysis, candidates)
            x = np.array([[c.features.get(f, 0.0) for f in FEATURES] for c in candidates])
            y = np.array([any(contains_answer(c.text, form) for form in q.answers) for c in candidates])
            groups.append(Group(Path(path).stem, q, analysis, candidates, evidence, x, y))
    return groups, answerer.idf


def use_out_of_fold_reader(groups: list[Group], data_dir: str) -> None:
    """Replace the live reader's scores with those of readers that never saw the question (tools/train_reader.py).

    The shipped reader learned from these very questions: fitted on its scores, the ranker would trust it more
    than it deserves on new ones.
    """
    path = Path(data_dir, "reader_oof.json")
    if not path.is_file():
        print(f"note: no {path}: the ranker is fitted on the shipped reader's scores of questions it was trained on")
        return
    scores = json.loads(path.read_text())
    column = FEATURES.index("reader")
    missing = 0
    for g in groups:
        known = scores.get(g.question.id, {})
        for row, c in enumerate(g.candidates):
            if c.text in known:
                c.features["reader"] = g.x[row, column] = known[c.text]
            else:
                missing += 1
    print(f"reader scores out of fold from {path} ({missing} sentences without one kept the live score)")


def trainable(groups: list[Group]) -> list[Group]:
    """Answerable questions with at least one sentence holding the answer: the ones that teach ranking."""
    return [g for g in groups if g.y.any()]


class Listwise:
    """Linear scores trained with a softmax over each question's sentences (the answer should come first)."""

    def __init__(self, c: float) -> None:
        self.c = c

    def fit(self, groups: list[Group]) -> "Listwise":
        from scipy.optimize import minimize

        dims = groups[0].x.shape[1]

        def loss(w):
            total, grad = 0.0, np.zeros(dims)
            for g in groups:
                s = g.x @ w
                s = s - s.max()
                p = np.exp(s) / np.exp(s).sum()
                pos = p[g.y].sum()
                total -= np.log(pos + 1e-12)
                # gradient of -log(sum_pos p) = E_p[x] - E_{p|pos}[x]
                grad += p @ g.x - (p[g.y] @ g.x[g.y]) / (pos + 1e-12)
            total += 0.5 * (w @ w) / self.c
            grad += w / self.c
            return total / len(groups), grad / len(groups)

        self.coef_ = minimize(loss, np.zeros(dims), jac=True, method="L-BFGS-B").x
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        return x @ self.coef_


def top_n(model: Listwise, groups: list[Group], n: int) -> float:
    return float(np.mean([g.y[np.argsort(-model.decision_function(g.x))[:n]].any() for g in groups]))


def answer(model: Listwise, g: Group, idf) -> tuple[bool, float]:
    """(the answer text holds an expected form, its confidence) with this model ranking the sentences."""
    for c, score in zip(g.candidates, model.decision_function(g.x)):
        c.score = float(score)
    ranked = sorted(g.candidates, key=lambda c: c.score, reverse=True)
    text = _compose(g.question.question, g.analysis, quoted_sentences(g.analysis, ranked, idf), 1.0).text
    correct = (
        g.question.answerable
        and len(text.split()) <= MAX_ANSWER_WORDS
        and any(contains_answer(text, form) for form in g.question.answers)
    )
    confidence = min(1.0, CONFIDENCE_SCALE * confidence_features(g.analysis, ranked, g.evidence)["rule"])
    return bool(correct), confidence


def folds(n: int, k: int = 5) -> list[np.ndarray]:
    order = np.random.default_rng(0).permutation(n)
    return [order[i::k] for i in range(k)]


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    data_dir, paths = sys.argv[1], sys.argv[2:]
    with Assistant(data_dir=data_dir) as assistant:
        groups, idf = collect(assistant, paths)
    use_out_of_fold_reader(groups, data_dir)
    ranking = trainable(groups)
    print(f"{len(groups)} questions, {len(ranking)} with a sentence holding the answer")
    for c in (0.3, 1.0, 3.0, 10.0):
        scores = []
        for fold in folds(len(ranking)):
            held = set(fold.tolist())
            model = Listwise(c).fit([g for i, g in enumerate(ranking) if i not in held])
            held_groups = [g for i, g in enumerate(ranking) if i in held]
            scores.append(
                [top_n(model, held_groups, n) for n in (1, 2, 3)]
                + [np.mean([answer(model, g, idf)[0] for g in held_groups])]
            )
        print(
            f"C={c}: cross-validated top-1/2/3 sentence accuracy and answer accuracy "
            f"{np.round(np.mean(scores, axis=0), 3)}"
        )

    # End to end on every question (answerable or not), each answered by a ranker that never saw it.
    results: list[tuple[Group, bool, float]] = []
    for fold in folds(len(groups)):
        held = set(fold.tolist())
        model = Listwise(C_FINAL).fit(trainable([g for i, g in enumerate(groups) if i not in held]))
        results += [(groups[i], *answer(model, groups[i], idf)) for i in sorted(held)]
    print("cross-validated, refusals counted: accuracy / answerable refused | unanswerable refused, per file")
    for threshold in THRESHOLDS:
        cells = []
        for source in dict.fromkeys(g.source for g in groups):
            answerable = [(ok, conf) for g, ok, conf in results if g.source == source and g.question.answerable]
            unanswerable = [conf for g, ok, conf in results if g.source == source and not g.question.answerable]
            cell = f"{source}:"
            if answerable:
                cell += (
                    f" {np.mean([ok and conf >= threshold for ok, conf in answerable]):.3f}"
                    f"/{np.mean([conf < threshold for _, conf in answerable]):.3f}"
                )
            if unanswerable:
                cell += f" |{np.mean([conf < threshold for conf in unanswerable]):.3f}"
            cells.append(cell)
        print(f"  min_confidence {threshold:.2f}  " + "  ".join(cells))

    model = Listwise(C_FINAL).fit(ranking)
    print(f"training top-1 {top_n(model, ranking, 1):.3f}")
    weights = {f: round(float(w), 4) for f, w in zip(FEATURES, model.coef_)}
    OUT.write_text(json.dumps(weights, indent=2) + "\n")
    print(json.dumps(weights, indent=2))


if __name__ == "__main__":
    main()
