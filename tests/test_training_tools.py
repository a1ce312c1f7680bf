"""The training tools run end to end on a small question set: reader fine-tune + export, then the ranker on its
scores."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.models.reader import Reader

from conftest import REPO, SEED_QUESTIONS, SEEDS

sys.path.insert(0, str(REPO / "tools"))
import train_ranker  # noqa: E402
import train_reader  # noqa: E402


@pytest.mark.slow
def test_reader_and_ranker_training_on_the_seed_questions(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    with Assistant(data_dir=data) as assistant:
        assistant.ingest(SEEDS)
    reader_file = tmp_path / "reader-int8.onnx"
    weights_file = tmp_path / "ranker_weights.json"
    monkeypatch.setattr(train_reader, "READER_FILE", reader_file)
    monkeypatch.setattr(train_reader, "EPOCHS", 1)
    monkeypatch.setattr(train_reader, "FOLDS", 2)
    monkeypatch.setattr(train_ranker, "OUT", weights_file)
    monkeypatch.setattr(sys, "argv", ["train_reader.py", str(data), str(SEED_QUESTIONS)])
    train_reader.main()

    scores = json.loads((data / "reader_oof.json").read_text())
    assert {"seed-01", "seed-16"} <= set(scores)  # answerable and unanswerable questions both scored
    assert json.loads(reader_file.with_suffix(".json").read_text())["answerable_questions"] > 0
    vectors = Reader(reader_file).embed(["When did Lavrov visit Pakistan?", "Lavrov visited Islamabad in April."])
    assert vectors.shape == (2, 384)

    monkeypatch.setattr(sys, "argv", ["train_ranker.py", str(data), str(SEED_QUESTIONS)])
    train_ranker.main()
    out = capsys.readouterr().out
    assert "reader scores out of fold" in out and "min_confidence 0.30" in out
    weights = json.loads(weights_file.read_text())
    assert set(weights) == set(train_ranker.FEATURES)
    assert Path(train_ranker.OUT) == weights_file  # the shipped weights were not touched
