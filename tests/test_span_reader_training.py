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


SHIPPED = REPO / "assistant" / "models" / "span-reader-int8.onnx"


def _warm_model():
    from transformers import AutoModelForQuestionAnswering

    from tools.onnx_weights import load_onnx_weights

    model = AutoModelForQuestionAnswering.from_pretrained(str(train_span_reader._base_path()),
                                                          attn_implementation="eager")
    assert load_onnx_weights(model, SHIPPED) == len(list(model.parameters()))
    return model


@pytest.mark.slow
def test_warm_start_gives_the_shipped_readers_logits():
    """The torch model holding the shipped file's weights reads held-out questions as the file does, up to int8
    activation quantization (see CHECK_* in the tool: measured mean 0.16, one wrong tensor 0.7 and more)."""
    from transformers import AutoTokenizer

    from tools.onnx_weights import compare_logits

    tokenizer = AutoTokenizer.from_pretrained(str(train_span_reader._base_path()))
    check = compare_logits(_warm_model(), SHIPPED, tokenizer, train_span_reader.check_pairs())
    assert check["windows"] == train_span_reader.CHECK_PAIRS
    assert check["mean_abs_diff"] <= train_span_reader.CHECK_MEAN_DIFF
    assert check["max_abs_diff"] <= train_span_reader.CHECK_MAX_DIFF
    assert check["same_best_span"] >= train_span_reader.CHECK_SAME_SPAN and check["same_answer_call"] >= 0.9


@pytest.mark.slow
def test_exporting_the_warm_start_again_gives_the_shipped_int8_tensors(tmp_path):
    """The exact proof of the mapping: the warm-started model, exported as the tool exports, quantizes to the shipped
    file's int8 tensors bit for bit (and its float ones: biases, LayerNorms, scales)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    from assistant.models.embedding import export_module_int8

    model = _warm_model()

    export_module_int8(train_span_reader.spans_module(model), model.config, ["start_logits", "end_logits"], tmp_path)
    shipped = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(SHIPPED)).graph.initializer}
    again = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(tmp_path / "model-int8.onnx")).graph.initializer}
    assert set(shipped) == set(again)
    differ = [n for n in shipped if shipped[n].shape != again[n].shape or not (shipped[n] == again[n]).all()]
    assert not [n for n in differ if shipped[n].dtype != np.float32]  # the int8 / uint8 weights: bit for bit
    # floats: a per-tensor scale recomputed from its dequantized values may move in the last bit
    assert all(np.allclose(again[n], shipped[n], rtol=1e-6, atol=0) for n in differ)


@pytest.mark.slow  # 13 s measured alone (loads torch and the shipped reader); 0.1 s after the other warm-start tests
def test_a_warm_start_missing_a_weight_fails(tmp_path):
    import onnx
    from transformers import AutoModelForQuestionAnswering

    from tools.onnx_weights import WarmStartError, load_onnx_weights

    proto = onnx.load(str(SHIPPED))
    gamma = next(t for t in proto.graph.initializer if t.name.endswith("layer.2.output.LayerNorm.weight"))
    proto.graph.initializer.remove(gamma)
    broken = tmp_path / "broken.onnx"
    onnx.save(proto, str(broken))
    model = AutoModelForQuestionAnswering.from_pretrained(str(train_span_reader._base_path()))
    with pytest.raises(WarmStartError, match="layer.2.output.LayerNorm.weight"):
        load_onnx_weights(model, broken)


@pytest.mark.slow
def test_train_from_the_shipped_reader_and_export(tmp_path):
    """A smoke run of the warm start: a new schedule from the shipped weights, exported elsewhere with its origin."""
    import torch

    work = tmp_path / "work"
    train_span_reader.main(["train", "--work", str(work), "--init-from", str(SHIPPED), "--max-steps", "2",
                            "--limit-examples", "40"])
    state = torch.load(work / "checkpoint.pt", weights_only=False)
    assert (state["step"], state["total"]) == (2, 2) and state["optimizer"]["state"]  # a fresh optimiser, 2 steps
    model = tmp_path / "reader.onnx"
    train_span_reader.main(["export", "--work", str(work), "--model-out", str(model)])
    record = json.loads(model.with_suffix(".json").read_text())
    source = json.loads(SHIPPED.with_suffix(".json").read_text())
    assert record["init_from"]["sha256"] == train_span_reader.sha256(SHIPPED)
    assert record["init_from"]["step"] == source["step"] and record["step"] == 2
    history = record["schedule_history"]
    assert history[:-1] == source["schedule_history"] and "warm start" in history[-1]
    assert record["init_from"]["logit_check"]["mean_abs_diff"] <= train_span_reader.CHECK_MEAN_DIFF
    question = "When did Lavrov visit Pakistan?"
    passage = "Russian Foreign Minister Sergey Lavrov visited Islamabad in April."
    assert SpanReader(model).read(question, [passage])[0].text == SpanReader(SHIPPED).read(question, [passage])[0].text
    with pytest.raises(RuntimeError, match="did not start from"):  # a checkpoint from elsewhere is not overwritten
        train_span_reader.main(["train", "--work", str(work), "--init-from", str(model), "--max-steps", "2",
                                "--limit-examples", "40"])
