"""Measure retrieval and answers on a question set: `evaluate(...)` returns the same results `assistant eval`
reports."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from assistant.backends import backend_names
from assistant.core.errors import InputError
from assistant.evaluation.questions import EvalQuestion, load_questions
from assistant.evaluation.runner import NAMED_CONFIGS, EvalConfig, QuestionResult, result_dict, run_config, summarise

log = logging.getLogger(__name__)

__all__ = ["EvalConfig", "EvalResult", "evaluate", "load_questions", "parse_configs"]


@dataclass
class EvalResult:
    """Metrics per configuration, the per-question rows behind them, and the ingest time."""

    questions_file: str
    k: int
    metrics: dict[str, dict] = field(default_factory=dict)
    by_kind: dict[str, dict[str, dict]] = field(default_factory=dict)
    rows: dict[str, list[QuestionResult]] = field(default_factory=dict)
    rows_k: dict[str, int] = field(default_factory=dict)  # k used by each configuration
    ingest_seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "questions_file": self.questions_file,
            "k": self.k,
            "ingest_seconds": self.ingest_seconds,
            "metrics": self.metrics,
            "by_kind": self.by_kind,
            "rows": {name: [result_dict(r) for r in rows] for name, rows in self.rows.items()},
        }


def parse_configs(spec: str | None) -> list[EvalConfig]:
    """"dense,bm25,hybrid" -> configurations; a backend name (e.g. "openai") runs hybrid retrieval with that backend."""
    if not spec:
        return [NAMED_CONFIGS["hybrid"]]
    configs = []
    for name in (part.strip() for part in spec.split(",") if part.strip()):
        if name in NAMED_CONFIGS:
            configs.append(NAMED_CONFIGS[name])
        elif name in backend_names():
            configs.append(EvalConfig(name, "hybrid", name))
        else:
            raise InputError(
                f"Unknown configuration {name!r}; choose from {', '.join(list(NAMED_CONFIGS) + backend_names())}."
            )
    return configs


def _gold_by_file_name(items: list[EvalQuestion], article_of_source: dict[str, str]) -> dict[str, str]:
    """Gold given as a path inside the corpus ("1507.txt") matches the one stored source ending in it."""
    found = {}
    wanted = {g for q in items for g in q.gold if g not in article_of_source}
    for gold in wanted:
        matches = [s for s in article_of_source if s.endswith("/" + gold)]
        if len(matches) == 1:
            found[gold] = article_of_source[matches[0]]
    return found


def evaluate(
    assistant,
    questions: str | Path | list[EvalQuestion],
    corpus: str | Path | None = None,
    k: int | None = None,
    configs: list[EvalConfig] | None = None,
    progress: bool = False,
    use_as_of: bool = True,
) -> EvalResult:
    """Ingest `corpus` if given (a no-op when unchanged), ask every question under each configuration, score it all."""
    source = str(questions) if not isinstance(questions, list) else "(list)"
    items = load_questions(questions) if not isinstance(questions, list) else questions
    k = k or assistant.settings.k
    started = time.perf_counter()
    if corpus is not None:
        summary = assistant.ingest(corpus, progress=progress)
        log.info("corpus: %s", summary.describe().splitlines()[0])
    else:
        assistant.ensure_collection()
    result = EvalResult(source, k, ingest_seconds=time.perf_counter() - started)
    article_of_source = {r.source: r.article_id for r in assistant.store.source_records().values()}
    article_of_source.update(_gold_by_file_name(items, article_of_source))
    unknown = sorted({g for q in items for g in q.gold if g not in article_of_source})
    if unknown:
        log.warning("%d gold source(s) are not in the collection, e.g. %s", len(unknown), ", ".join(unknown[:3]))
    for config in configs or [NAMED_CONFIGS["hybrid"]]:
        rows = run_config(assistant, items, config, k, article_of_source, progress, use_as_of)
        config_k = config.k or k
        result.rows[config.name] = rows
        result.rows_k[config.name] = config_k
        result.metrics[config.name] = summarise(rows, config_k)
        kinds = sorted({r.kind for r in rows})
        result.by_kind[config.name] = {kind: summarise([r for r in rows if r.kind == kind], config_k) for kind in kinds}
    return result
