"""Which BBC question sets may train or tune anything, and which one is the test split.

The test split (tests/data/bbc_test.jsonl: 66 answerable questions and 51 unanswerable ones) is never used to train
a model, fit a weight or choose a threshold; it is only evaluated. Everything else in tests/data/bbc_*.jsonl may.
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
TEST_SPLIT = DATA / "bbc_test.jsonl"
TRAINING_SETS = ("bbc_train.jsonl", "bbc_train_para.jsonl", "bbc_train_para2.jsonl", "bbc_unanswerable.jsonl")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bbc_training_questions() -> list[dict]:
    rows = [row for name in TRAINING_SETS for row in read_jsonl(DATA / name)]
    test_ids = {row["id"] for row in read_jsonl(TEST_SPLIT)}
    overlap = test_ids & {row["id"] for row in rows}
    if overlap:
        raise ValueError(f"training sets share questions with the test split: {sorted(overlap)[:5]}")
    return rows
