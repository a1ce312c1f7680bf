"""Quality gates: `assistant eval` on the seed question set must keep its measured quality (make test runs this)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli import main

from conftest import SEED_QUESTIONS, SEEDS

# Measured with the shipped reader and ranker (trained on BBC questions only; the seed article is out of their domain) and
# min_confidence 0.3, chosen on 729 BBC questions: accuracy 0.73 (11/15), hit@8 1.0, gold cited 1.0, refusal recall 0.50
# (the two refused sit at confidence 0.21-0.23, 0.07 under the threshold), false refusals 0.07. The accuracy and
# false-refusal gates sit one question away from the measurement, so noise in int8 embeddings does not flip them.
GATES = ["--min-accuracy", "0.65", "--min-hit", "1.0", "--min-cited", "0.9", "--min-refusal", "0.5", "--max-false-refusal", "0.2"]


@pytest.mark.slow
def test_seed_questions_meet_quality_gates(tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), "eval", str(SEED_QUESTIONS), "--corpus", str(SEEDS),
                                       "--out", str(out), "--quiet", *GATES])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "eval.json").read_text())["metrics"]["hybrid"]
    assert metrics["groundedness"] == pytest.approx(1.0)  # extractive answers quote their passages


@pytest.mark.slow
def test_gate_fails_when_quality_is_below_threshold(tmp_path):
    """The gate can fail: an impossible accuracy threshold makes the command exit non-zero and say why."""
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), "eval", str(SEED_QUESTIONS), "--corpus", str(SEEDS),
                                       "--quiet", "--min-accuracy", "1.01"])
    assert result.exit_code == 1
    assert "quality below thresholds" in result.output and "answer accuracy" in result.output


@pytest.mark.slow
def test_deliberately_weak_configuration_scores_lower(tmp_path):
    """The word-overlap baseline (never refuses, ignores answer types) must score visibly lower on the same questions."""
    from assistant import Assistant
    from assistant.evaluation import evaluate, parse_configs

    with Assistant(data_dir=tmp_path / "data") as assistant:
        result = evaluate(assistant, SEED_QUESTIONS, corpus=SEEDS, configs=parse_configs("hybrid,overlap"))
    hybrid, weak = result.metrics["hybrid"], result.metrics["overlap"]
    assert weak["overall_accuracy"] <= hybrid["overall_accuracy"] - 0.2
    assert weak["refusal_recall"] == 0.0
