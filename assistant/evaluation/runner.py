"""Run a question set through one or more configurations and score every answer."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
from tqdm import tqdm

from assistant.core.answer import MAX_ANSWER_WORDS, Answer
from assistant.evaluation.metrics import contains_answer, distinct, first_relevant_rank, ndcg, token_f1
from assistant.evaluation.questions import EvalQuestion
from assistant.text.grounding import answer_claims, citation_numbers, is_supported
from assistant.text.timeframe import day_or_none

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalConfig:
    """A named way of answering: retrieval mode, answer backend and k."""

    name: str
    mode: str = "hybrid"
    backend: str = "extractive"
    k: int | None = None


NAMED_CONFIGS = {
    "hybrid": EvalConfig("hybrid", "hybrid"),
    "dense": EvalConfig("dense", "dense"),
    "bm25": EvalConfig("bm25", "bm25"),
    "bm25-k1": EvalConfig("bm25-k1", "bm25", k=1),  # deliberately weak: one BM25 passage
    "extractive": EvalConfig("extractive", "hybrid", "extractive"),
}


@dataclass
class QuestionResult:
    id: str
    question: str
    kind: str
    answerable: bool
    answer: str
    short_answer: str | None
    refused: bool
    correct: bool
    f1: float
    cited_gold: bool
    citation_precision: float | None
    retrieval_rank: int | None
    ndcg: float
    supported_sentences: int
    answer_sentences: int
    seconds: float
    failure: str | None
    expected: list[str] = field(default_factory=list)
    answer_in_gold: bool | None = None
    cited_dates: list[str] = field(default_factory=list)
    as_of: str | None = None
    confidence: float = 0.0


def gold_article_ids(question: EvalQuestion, article_of_source: dict[str, str]) -> set[str]:
    return {article_of_source[g] for g in question.gold if g in article_of_source}


def score_question(
    q: EvalQuestion, answer: Answer, ranked_articles: list[str], gold: set[str], k: int, seconds: float
) -> QuestionResult:
    correct = (not answer.refused and any(contains_answer(answer.text, form) for form in q.answers)
               and len(answer.text.split()) <= MAX_ANSWER_WORDS) if q.answerable else answer.refused
    f1 = (
        max((token_f1(answer.short_answer or answer.text, form) for form in q.answers), default=0.0)
        if not answer.refused
        else 0.0
    )
    cited = {c.article_id for c in answer.citations}
    cited_gold = bool(cited & gold)
    precision = (
        (sum(1 for c in answer.citations if c.article_id in gold) / len(answer.citations)) if answer.citations else None
    )
    rank = first_relevant_rank(ranked_articles, gold) if gold else None
    supported, total = groundedness(answer)
    failure = None
    if q.answerable:
        if answer.refused:
            failure = "wrongly refused" + ("" if rank else " (gold article not retrieved)")
        elif not rank:
            failure = "wrong passage retrieved"
        elif not cited_gold:
            failure = "right article retrieved, another cited"
        elif not correct:
            failure = "right passage, wrong answer"
    elif not answer.refused:
        failure = "answered an unanswerable question"
    return QuestionResult(
        q.id,
        q.question,
        q.kind or answer.kind,
        q.answerable,
        answer.text,
        answer.short_answer,
        answer.refused,
        bool(correct),
        f1,
        cited_gold,
        precision,
        rank,
        ndcg(ranked_articles, gold, k) if gold else 0.0,
        supported,
        total,
        seconds,
        failure,
        list(q.answers),
        q.answer_in_gold,
        [c.date or "" for c in answer.citations],
        q.as_of,
        round(float(answer.confidence), 4),
    )


def groundedness(answer: Answer) -> tuple[int, int]:
    """(supported, total) answer sentences, each checked against the passages it cites."""
    if answer.refused:
        return 0, 0
    by_number = {c.number: c for c in answer.citations}
    supported = total = 0
    for sentence in answer_claims(answer.text):
        total += 1
        cited = [by_number[n] for n in citation_numbers(sentence) if n in by_number]
        passages = [(c.passage, day_or_none(c.date)) for c in cited]
        if cited and is_supported(sentence, passages):
            supported += 1
    return supported, total


def run_config(
    assistant,
    questions: list[EvalQuestion],
    config: EvalConfig,
    default_k: int,
    article_of_source: dict[str, str],
    progress: bool = True,
    use_as_of: bool = True,
) -> list[QuestionResult]:
    k = config.k or default_k
    results = []
    for q in tqdm(questions, desc=f"eval {config.name}", unit="q", disable=not progress, leave=False):
        as_of = q.as_of if use_as_of else None
        passages = assistant.retrieve(q.question, k, mode=config.mode, as_of=as_of)
        ranked = distinct([p.article_id for p in passages])
        started = time.perf_counter()
        answer = assistant.ask(q.question, k, mode=config.mode, backend=config.backend, as_of=as_of)
        seconds = time.perf_counter() - started
        results.append(score_question(q, answer, ranked, gold_article_ids(q, article_of_source), k, seconds))
    return results


def summarise(results: list[QuestionResult], k: int) -> dict[str, float | int | None]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in answerable if not r.refused]
    refused = [r for r in results if r.refused]
    precisions = [r.citation_precision for r in results if r.citation_precision is not None]
    latencies = [r.seconds for r in results]
    supported = sum(r.supported_sentences for r in results)
    sentences = sum(r.answer_sentences for r in results)
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        f"hit@{k}": _share(answerable, lambda r: r.retrieval_rank is not None and r.retrieval_rank <= k),
        "mrr": _mean([1.0 / r.retrieval_rank if r.retrieval_rank else 0.0 for r in answerable]),
        f"ndcg@{k}": _mean([r.ndcg for r in answerable]),
        "accuracy": _share(answerable, lambda r: r.correct),
        "accuracy_answer_in_gold": _share([r for r in answerable if r.answer_in_gold], lambda r: r.correct),
        "refused_answer_in_gold": _share([r for r in answerable if r.answer_in_gold], lambda r: r.refused),
        "recent_cited_within_8_days": _share([r for r in answerable if r.as_of and _says_recent(r.question)],
                                             lambda r: _cited_within(r, 8)),
        "f1": _mean([r.f1 for r in answerable]),
        "overall_accuracy": _share(results, lambda r: r.correct),
        "gold_cited": _share(answered, lambda r: r.cited_gold),
        "citation_precision": _mean(precisions),
        "refusal_precision": _share(refused, lambda r: not r.answerable) if refused else None,
        "refusal_recall": _share(unanswerable, lambda r: r.refused),
        "false_refusal_rate": _share(answerable, lambda r: r.refused),
        "groundedness": supported / sentences if sentences else None,
        "answers_at_0.9": sum(1 for r in results if not r.refused and r.confidence >= 0.9),
        "right_at_0.9": _share([r for r in results if not r.refused and r.confidence >= 0.9], _answered_right),
        "latency_p50_ms": float(np.percentile(latencies, 50) * 1000) if latencies else None,
        "latency_p95_ms": float(np.percentile(latencies, 95) * 1000) if latencies else None,
    }


def _answered_right(result: QuestionResult) -> bool:
    """An answer shown (not refused) that is right: an accepted form for an answerable question; never for an
    unanswerable one."""
    return result.answerable and result.correct


CONFIDENCE_BINS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 1.01)


def calibration_table(results: list[QuestionResult]) -> list[dict]:
    """Answers shown, per confidence bin: how many, and the share right (of answers shown at 0.9, nine in ten should
    be right)."""
    shown = [r for r in results if not r.refused]
    table = []
    for low, high in zip(CONFIDENCE_BINS, CONFIDENCE_BINS[1:]):
        inside = [r for r in shown if low <= r.confidence < high]
        table.append({"from": low, "to": min(high, 1.0), "answers": len(inside),
                      "right": _share(inside, _answered_right)})
    return table


def _says_recent(question: str) -> bool:
    return bool(re.search(r"\bthis week\b", question, re.IGNORECASE))


def _cited_within(result: QuestionResult, days: int) -> bool:
    asked = day_or_none(result.as_of)
    dated = [day_or_none(d) for d in result.cited_dates]
    return asked is not None and any(d is not None and 0 <= (asked - d).days <= days for d in dated)


def _share(items: list, test: Callable) -> float | None:
    return sum(1 for item in items if test(item)) / len(items) if items else None


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def result_dict(result: QuestionResult) -> dict:
    return asdict(result)
