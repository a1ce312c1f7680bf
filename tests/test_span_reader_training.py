"""The reader's training tool runs end to end on a few examples: train a few steps, resume, export to int8 ONNX,
read."""

from __future__ import annotations

import json
import sys

import pytest

from assistant.reading.read import SpanReader

from conftest import REPO

sys.path.insert(0, str(REPO))
from tools import train_span_reader  # noqa: E402


@pytest.mark.slow
def test_train_resume_export_and_read(tmp_path):
    if not train_span_reader.QA_DIR.is_dir():
        pytest.fail(
            f"the QA training data is missing at {train_span_reader.QA_DIR}: the checkout sits beside ../shared"
        )
    work = tmp_path / "work"
    train_span_reader.main(["train", "--work", str(work), "--max-steps", "2", "--limit-examples", "40",
                            "--max-hours", "0.00001"])  # stops after one step, as a session that ends would
    first = json.loads(json.dumps(_step(work)))
    train_span_reader.main(["train", "--work", str(work), "--max-steps", "2", "--limit-examples", "40"])
    assert (first, _step(work)) == (1, 2)  # resumed from the checkpoint, not started over
    model = tmp_path / "reader.onnx"
    train_span_reader.main(["export", "--work", str(work), "--model-out", str(model)])
    record = json.loads(model.with_suffix(".json").read_text())
    assert record["step"] == 2 and record["data"]["features"] > 0 and "command" in record
    spans = SpanReader(model).read("When did Lavrov visit Pakistan?",
                                   ["Russian Foreign Minister Sergey Lavrov visited Islamabad in April this year."])
    assert spans and all(s.text for s in spans)


def _step(work) -> int:
    import torch

    return torch.load(work / "checkpoint.pt", weights_only=False)["step"]


def test_the_bbc_test_split_never_trains():
    from tools.bbc_split import TEST_SPLIT, bbc_training_questions, read_jsonl

    test_ids = {row["id"] for row in read_jsonl(TEST_SPLIT)}
    assert test_ids and not test_ids & {row["id"] for row in bbc_training_questions()}
    assert not {e.id.removesuffix("-nearmiss") for e in train_span_reader.bbc_examples()} & test_ids
