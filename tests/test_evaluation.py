"""Evaluation: answer matching, ranking metrics, question-set loading, and a full `assistant eval` run on the seeds."""

from __future__ import annotations

import base64
import json
import math
import re

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.core.errors import QuestionSetError
from assistant.evaluation import load_questions, parse_configs
from assistant.evaluation.metrics import contains_answer, first_relevant_rank, ndcg, normalise, token_f1

from conftest import SEED_QUESTIONS, SEED_SOURCE, SEEDS

# ---- answer matching -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, tokens", [
    ("$1.13bn", ["1.13", "billion"]),
    ("1.13 billion", ["1.13", "billion"]),
    ("two-day", ["2", "day"]),
    ("two days", ["2", "day"]),
    ("1,000", ["1000"]),
    ("50%", ["50", "percent"]),
    ("50 per cent", ["50", "percent"]),
    ("£15.8m", ["15.8", "million"]),
    ("The Gouda Festival.", ["gouda", "festival"]),
    ("April 2021", ["april", "2021"]),
])
def test_normalise(text, tokens):
    assert normalise(text) == tokens


@pytest.mark.parametrize("text, expected, found", [
    ("Revenue reached $1.13bn last year.", "1.13 billion", True),
    ("Revenue reached 1.13 billion dollars.", "$1.13bn", True),
    ("Lavrov’s two-day trip to Pakistan", "two days", True),
    ("It lasted two days.", "two-day", True),
    ("About 1,000 people came.", "1000", True),
    ("About 1000 people came.", "1,000", True),
    ("April 2021. Lavrov visited Islamabad.", "April 2021", True),
    ("Revenue reached 1.13 million.", "1.13 billion", False),
    ("The first visit since 2012.", "12", False),  # whole tokens only
    ("April 2021.", "2020", False),
    ("anything", "", False),
    ("", "April", False),
])
def test_contains_answer(text, expected, found):
    assert contains_answer(text, expected) is found


def test_token_f1():
    assert token_f1("April 2021", "April 2021") == 1.0
    assert token_f1("April", "April 2021") == pytest.approx(2 / 3)
    assert token_f1("the $1.13bn deal", "1.13 billion") == pytest.approx(0.8)
    assert token_f1("March", "April 2021") == 0.0
    assert token_f1("", "April") == 0.0
    assert token_f1("April", "") == 0.0


def test_ranking_metrics():
    assert ndcg(["a", "b"], {"a"}, 8) == 1.0
    assert ndcg(["b", "a"], {"a"}, 8) == pytest.approx(1 / math.log2(3))
    assert ndcg(["b", "a"], {"a"}, 1) == 0.0
    assert ndcg(["b", "c"], {"a"}, 8) == 0.0
    assert ndcg(["a", "x", "b"], {"a", "b"}, 8) == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    assert ndcg([], set(), 8) == 0.0
    assert first_relevant_rank(["x", "y", "a"], {"a"}) == 3
    assert first_relevant_rank(["x"], {"a"}) is None


# ---- question sets ---------------------------------------------------------------------------------------


def _file(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_questions_load():
    questions = load_questions(SEED_QUESTIONS)
    assert len(questions) == 19
    first = questions[0]
    assert (first.id, first.question, first.answers, first.gold, first.kind) == (
        "seed-01", "When did Lavrov visit Pakistan?", ("April 2021", "April"), (SEED_SOURCE,), "when")
    assert first.answerable
    assert sum(1 for q in questions if not q.answerable) == 4


def test_yaml_question_set_loads(tmp_path):
    path = _file(tmp_path, "set.yaml", """\
questions:
  - id: lavrov
    question: When did Lavrov visit Pakistan?
    answers: [April 2021, April]
    gold: seeds/000_9e654aac1be06df7.txt
    kind: when
  - question: Who won the 2021 Pakistani general election?
    answers: []
""")
    questions = load_questions(path)
    assert [q.id for q in questions] == ["lavrov", "q2"]
    assert questions[0].gold == (SEED_SOURCE,) and questions[0].answers == ("April 2021", "April")
    assert not questions[1].answerable and questions[1].kind is None


def test_yaml_plain_list_loads(tmp_path):
    path = _file(tmp_path, "set.yml", "- question: Q one?\n  answer: Paris\n- question: Q two?\n")
    questions = load_questions(path)
    assert [q.question for q in questions] == ["Q one?", "Q two?"]
    assert questions[0].answers == ("Paris",) and questions[1].answers == ()


@pytest.mark.parametrize(
    "name, text, line, message",
    [
        ("bad.jsonl", '{"id": "a", "question": "Q one?"}\n\n{"id": "b", "question": broken}\n', 3, "invalid JSON"),
        (
            "noq.jsonl",
            '{"id": "a", "question": "Q one?"}\n# a comment\n{"id": "b", "answers": ["x"]}\n',
            3,
            "no 'question' text",
        ),
        (
            "gold.jsonl",
            '{"id": "a", "question": "Q?", "gold": ["x.txt"], "answers": []}\n',
            1,
            "needs at least one expected answer",
        ),
        (
            "kind.jsonl",
            '{"id": "a", "question": "Q?"}\n{"id": "b", "question": "Q?", "kind": "how"}\n',
            2,
            "unknown kind 'how'",
        ),
        ("list.jsonl", '["not", "an", "object"]\n', 1, "must be an object"),
        ("noq.yaml", "- id: a\n  question: Q one?\n- id: b\n  answers: [x]\n", 3, "no 'question' text"),
        ("bad.yaml", "- id: a\n  question: Q one?\n- id: b\n  question: what: now\n", 4, "invalid YAML"),
        ("bad.json", '[\n  {"question": "Q?"},\n  {"question": }\n]\n', 3, "invalid JSON"),
    ],
)
def test_question_set_errors_name_the_line(tmp_path, name, text, line, message):
    path = _file(tmp_path, name, text)
    with pytest.raises(QuestionSetError) as caught:
        load_questions(path)
    assert f"{path}:{line}:" in str(caught.value)
    assert message in str(caught.value)


def test_question_set_file_level_errors(tmp_path):
    with pytest.raises(QuestionSetError, match="does not exist"):
        load_questions(tmp_path / "missing.jsonl")
    with pytest.raises(QuestionSetError, match="holds no questions"):
        load_questions(_file(tmp_path, "empty.jsonl", "\n# nothing\n"))
    with pytest.raises(QuestionSetError, match="duplicate question ids: a"):
        load_questions(_file(tmp_path, "dup.jsonl", '{"id": "a", "question": "Q1?"}\n{"id": "a", "question": "Q2?"}\n'))
    with pytest.raises(QuestionSetError, match="expected a list"):
        load_questions(_file(tmp_path, "map.yaml", "question: Q?\n"))


def test_parse_configs():
    assert [c.name for c in parse_configs(None)] == ["hybrid"]
    configs = parse_configs("dense, bm25,bm25-k1")
    assert [(c.name, c.mode, c.k) for c in configs] == [
        ("dense", "dense", None),
        ("bm25", "bm25", None),
        ("bm25-k1", "bm25", 1),
    ]
    from assistant.core.errors import InputError

    with pytest.raises(InputError, match="Unknown configuration 'gpt'"):
        parse_configs("hybrid,gpt")


# ---- a full run ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_eval_command_writes_reports(tmp_path, embedder):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        [
            "--data-dir",
            str(tmp_path / "data"),
            "eval",
            str(SEED_QUESTIONS),
            "--corpus",
            str(SEEDS),
            "--out",
            str(out),
            "--quiet",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"^hit@k\s+\d\.\d{3}\s*$", result.stdout, re.MULTILINE)
    assert "wrote " in result.stdout
    for name in ("eval.json", "eval.md", "eval.html"):
        assert (out / name).is_file(), name

    report = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    metrics = report["metrics"]["hybrid"]
    for key in ("hit@8", "mrr", "accuracy", "refusal_recall", "groundedness", "latency_p95_ms"):
        assert key in metrics, key
    assert (metrics["questions"], metrics["answerable"], metrics["unanswerable"]) == (19, 15, 4)
    for key in ("hit@8", "mrr", "accuracy", "refusal_recall"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["latency_p95_ms"] > 0
    assert report["k"] == 8
    rows = report["rows"]["hybrid"]
    assert [r["id"] for r in rows] == [f"seed-{i:02d}" for i in range(1, 20)]
    lavrov = rows[0]
    assert lavrov["correct"] is True and lavrov["retrieval_rank"] == 1 and lavrov["cited_gold"] is True

    markdown = (out / "eval.md").read_text(encoding="utf-8")
    assert markdown.startswith(f"# Evaluation of {SEED_QUESTIONS}")
    assert "| metric | hybrid |" in markdown

    page = (out / "eval.html").read_text(encoding="utf-8")
    images = re.findall(r"<img [^>]*src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 3  # metrics per configuration, accuracy per kind, calibration
    assert all(base64.b64decode(data).startswith(b"\x89PNG") for data in images)
