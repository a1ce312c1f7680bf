"""Question sets: JSONL or YAML entries with the question, acceptable answers, gold articles and kind."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import yaml

from assistant.core.errors import QuestionSetError
from assistant.reading.analyse import KINDS


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: tuple[str, ...] = ()
    gold: tuple[str, ...] = ()  # source paths of the articles that answer it; empty = the collection cannot answer
    kind: str | None = None
    as_of: str | None = None  # the date of asking (`as_of` or `asked_on`), passed to ask() unless told not to
    answer_in_gold: bool | None = None  # `answer_in_doc`: the answer stands word for word in the gold article

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read a .jsonl, .json or .yaml/.yml question set; a malformed entry is an error naming its line."""
    path = Path(path)
    if not path.is_file():
        raise QuestionSetError(f"Question set {path} does not exist.")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        entries = _yaml_entries(text, path)
    elif path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
        entries = [(i + 1, item) for i, item in enumerate(data if isinstance(data, list) else [data])]
    else:
        entries = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                entries.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise QuestionSetError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
    questions = [_entry(path, number, item, index) for index, (number, item) in enumerate(entries, start=1)]
    if not questions:
        raise QuestionSetError(f"{path} holds no questions.")
    ids = [q.id for q in questions]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise QuestionSetError(f"{path}: duplicate question ids: {', '.join(duplicates)}.")
    return questions


def _yaml_entries(text: str, path: Path) -> list[tuple[int, object]]:
    try:
        # None only for a text with no document, whose data (None) is refused below before nodes is read
        nodes = cast(yaml.Node, yaml.compose(text))
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise QuestionSetError(f"{path}:{mark.line + 1 if mark else '?'}: invalid YAML: {exc}") from None
    if isinstance(data, dict) and "questions" in data:
        data = data["questions"]
        nodes = next(v for k, v in nodes.value if k.value == "questions")
    if not isinstance(data, list):
        raise QuestionSetError(f"{path}: expected a list of questions.")
    return [(node.start_mark.line + 1, item) for node, item in zip(nodes.value, data)]


def _entry(path: Path, line: int, item: object, index: int) -> EvalQuestion:
    where = f"{path}:{line}"
    if not isinstance(item, dict):
        raise QuestionSetError(f"{where}: each entry must be an object with at least a 'question' field.")
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise QuestionSetError(f"{where}: the entry has no 'question' text.")
    answers = item.get("answers", item.get("answer", []))
    answers = [answers] if isinstance(answers, str) else answers
    gold = item.get("gold", item.get("gold_articles", []))
    gold = [gold] if isinstance(gold, str) else gold
    if "doc" in item and not gold:  # RealTime QA style: a gold file name in the corpus, and more in also_docs
        gold = [g for g in [item.get("doc"), *(item.get("also_docs") or [])] if g]
    if not isinstance(answers, list) or not all(isinstance(a, (str, int, float)) for a in answers):
        raise QuestionSetError(f"{where}: 'answers' must be a list of strings.")
    if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
        raise QuestionSetError(f"{where}: 'gold' must be a list of article source paths.")
    if gold and not answers:
        raise QuestionSetError(f"{where}: a question with gold articles needs at least one expected answer.")
    kind = item.get("kind")
    if kind is None and item.get("type") in KINDS:
        kind = item["type"]
    if kind is not None and kind not in KINDS:
        raise QuestionSetError(f"{where}: unknown kind {kind!r}; use one of {', '.join(KINDS)}.")
    as_of = item.get("as_of", item.get("asked_on"))
    in_gold = item.get("answer_in_doc")
    return EvalQuestion(str(item.get("id", f"q{index}")), question.strip(), tuple(str(a) for a in answers), tuple(gold),
                        kind, str(as_of) if as_of else None, bool(in_gold) if in_gold is not None else None)
