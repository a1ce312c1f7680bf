"""Choose the confidence at which the sentence ranker's answer stands without the span reader's check (backend
`verified`, assistant/reading/verify.py: VERIFY_BELOW), on the BBC training questions only.

    cat tests/data/bbc_train.jsonl tests/data/bbc_train_para.jsonl tests/data/bbc_train_para2.jsonl \
        tests/data/bbc_unanswerable.jsonl > /tmp/bbc_train_all.jsonl
    assistant --data-dir .data/bbc eval /tmp/bbc_train_all.jsonl --compare hybrid,reader --out /tmp/bbc-train
    python -m tools.choose_verify_threshold /tmp/bbc-train/eval.json

For each candidate threshold T it prints what the verified backend would score: an answer of the ranker is refused
when the reader refused the question and the ranker's confidence is below T. The chosen T maximises accuracy over
all questions (an unanswerable one counts right when refused); the ties go to the lower T (fewer refusals).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CANDIDATES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.01)


def score(ranker: dict[str, dict], reader: dict[str, dict], threshold: float) -> dict[str, float]:
    def refused(key: str) -> bool:
        return ranker[key]["refused"] or (reader[key]["refused"] and ranker[key]["confidence"] < threshold)

    answerable = [k for k in ranker if ranker[k]["answerable"]]
    unanswerable = [k for k in ranker if not ranker[k]["answerable"]]
    right = sum(1 for k in answerable if ranker[k]["correct"] and not refused(k))
    refusals = sum(1 for k in unanswerable if refused(k))
    return {"threshold": threshold, "accuracy": right / max(1, len(answerable)),
            "unanswerable_refused": refusals / max(1, len(unanswerable)),
            "overall": (right + refusals) / max(1, len(ranker))}


def scores(eval_json: Path) -> list[dict[str, float]]:
    rows = json.loads(eval_json.read_text(encoding="utf-8"))["rows"]
    ranker = {r["id"]: r for r in rows["hybrid"]}
    reader = {r["id"]: r for r in rows["reader"]}
    return [score(ranker, reader, t) for t in CANDIDATES]


def choose(measured: list[dict[str, float]]) -> dict[str, float]:
    return max(measured, key=lambda s: (s["overall"], -s["threshold"]))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__)
        return 2
    measured = scores(Path(args[0]))
    for s in measured:
        print(f"T {s['threshold']:.2f}: accuracy {s['accuracy']:.3f}, unanswerable refused "
              f"{s['unanswerable_refused']:.3f}, overall {s['overall']:.3f}")
    print(f"chosen: {choose(measured)['threshold']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
