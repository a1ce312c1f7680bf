"""`assistant eval`: run a question set, print the table, write JSON/Markdown/HTML, gate on thresholds."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from assistant.cli_common import _assistant, _fail, _settings, user_errors
from assistant.core.answer import Answer
from assistant.core.errors import InputError
from assistant.evaluation import evaluate, parse_configs
from assistant.evaluation.metrics import contains_answer
from assistant.evaluation.report import failures, metric_rows, pyplot, write_report
from assistant.history import Feedback, History

if TYPE_CHECKING:
    from assistant.api import Assistant

THRESHOLDS = {
    "min_accuracy": ("accuracy", "answer accuracy"),
    "min_hit": ("hit@k", "retrieval hit@k"),
    "min_cited": ("gold_cited", "gold article cited"),
    "min_refusal": ("refusal_recall", "unanswerable questions refused"),
    "max_false_refusal": ("false_refusal_rate", "answerable questions refused"),
}

_MARKER = re.compile(r"\s*\[\d{1,3}\]")


@click.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option("--corpus", type=click.Path(exists=True), help="Ingest this folder first (skipped when unchanged).")
@click.option("-k", type=click.IntRange(1, 100), help="Passages retrieved per question (setting k).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write eval.json, eval.md and eval.html here.")
@click.option(
    "--compare",
    help="Comma-separated configurations run side by side: hybrid, dense, bm25, bm25-k1, or a backend name.",
)
@click.option("--min-accuracy", type=float, help="Exit 1 if answer accuracy is below this.")
@click.option("--min-hit", type=float, help="Exit 1 if retrieval hit@k is below this.")
@click.option("--min-cited", type=float, help="Exit 1 if the share of answers citing a gold article is below this.")
@click.option("--min-refusal", type=float, help="Exit 1 if fewer unanswerable questions than this are refused.")
@click.option("--max-false-refusal", type=float, help="Exit 1 if more answerable questions than this are refused.")
@click.option("--quiet", is_flag=True, help="No per-question failure table.")
@click.option("--ignore-as-of", is_flag=True, help="Ask without each question's date of asking (as_of / asked_on).")
@click.option("--from-feedback", "feedback_out", type=click.Path(dir_okay=False),
              help="Instead of evaluating: write the answers rated in the chat page (DATA_DIR/history.sqlite3) to this "
                   "JSONL question set and exit. Thumbs up: the answer shown is expected, its cited articles are gold; "
                   "thumbs down: the correct answer given is expected (no correct answer: left out).")
@click.pass_context
@user_errors
def eval_command(ctx, questions, corpus, k, out_dir, compare, quiet, ignore_as_of, feedback_out, **thresholds) -> None:
    """Measure retrieval, answers, citations, refusals, groundedness and speed on QUESTIONS (JSONL or YAML).

    With --from-feedback OUT.jsonl, write the chat page's thumbs up/down as a question set instead
    (run it afterwards with `assistant eval OUT.jsonl`)."""

    if feedback_out:
        _write_feedback(ctx, feedback_out)
        return
    if questions is None:
        raise click.UsageError("Missing argument 'QUESTIONS' (or give --from-feedback OUT.jsonl).")
    configs = parse_configs(compare)
    if out_dir:
        pyplot()  # the report's charts need matplotlib: say so before the run, not after it
    with _assistant(ctx) as assistant:
        result = evaluate(assistant, questions, corpus=corpus, k=k, configs=configs, progress=True,
                          use_as_of=not ignore_as_of)
    header, rows = metric_rows(result)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
    if not quiet:
        for name in result.rows:
            failed = failures(result, name)
            if failed:
                click.echo(f"\n{name}: {len(failed)} failed")
                for qid, kind, why, question, answer, expected in failed:
                    click.echo(
                        f"  {qid} [{kind}] {why}: {question}\n      answer: {answer}\n      expected: {expected}"
                    )
    if out_dir:
        paths = write_report(result, out_dir)
        click.echo("\nwrote " + ", ".join(str(p) for p in paths.values()))
    broken = _check(result, thresholds)
    if broken:
        _fail("quality below thresholds: " + "; ".join(broken))


def _write_feedback(ctx, out: str) -> None:
    """The stored feedback as a question set; a thumbs-down whose correct answer no cited passage says gets the
    articles whose retrieved passages say it as gold (the store is opened only then)."""
    settings = _settings(ctx)
    feedback = History.in_data_dir(settings.data_dir).feedback()
    if not feedback:
        raise InputError(f"No feedback is stored in {settings.data_dir} yet: rate answers in the chat page "
                         "(thumbs up or down), then run this again.")
    opened: list[Assistant] = []

    def find_gold(question: str, answer: str, options: dict) -> list[str]:
        if not opened:
            opened.append(_assistant(ctx))
        filters = {name: options[name] for name in ("date_from", "date_to", "source", "as_of") if options.get(name)}
        passages = opened[0].retrieve(question, **filters)
        return [p.source for p in passages if contains_answer(p.text, answer)]

    try:
        entries, skipped = feedback_question_set(feedback, find_gold)
    finally:
        for assistant in opened:
            assistant.close()
    for why in skipped:
        click.echo(f"left out {why}", err=True)
    if not entries:
        raise InputError(f"None of the {len(feedback)} ratings makes a question (see above); nothing written.")
    path = write_question_set(entries, out)
    click.echo(f"wrote {len(entries)} question{'s' if len(entries) != 1 else ''} from {len(feedback)} rating"
               f"{'s' if len(feedback) != 1 else ''} to {path} (run it with `assistant eval {path}`)")


def shown_answer(answer: Answer) -> str:
    """The form of an answer to expect again: its short answer, else its text without the [n] markers."""
    return answer.short_answer or _MARKER.sub("", answer.text).strip()


def feedback_question_set(feedback: list[Feedback],
                          find_gold: Callable[[str, str, dict[str, Any]], list[str]] | None = None
                          ) -> tuple[list[dict[str, Any]], list[str]]:
    """Ratings as question-set entries (assistant.evaluation.questions format), and why any were left out.

    Thumbs up on an answer: the answer shown is expected again (its short answer, or a correct answer given
    with the rating) and its cited sources are the gold articles. Thumbs up on a refusal: the question is one the
    collection cannot answer (no answers, no gold). Thumbs down with a correct answer: that answer is expected; the
    gold articles are the cited ones that say it, else those `find_gold(question, answer, options)` finds.
    Thumbs down without one says only that the answer was wrong, so it is left out, as is an entry without gold.
    The question is the one actually asked of the collection (a follow-up with the context it was read with);
    `as_of` is kept, other filters are not part of a question set.
    """
    entries, skipped = [], []
    for item in feedback:
        answer, correction = item.answer, item.correction
        entry: dict[str, Any] = {"id": f"feedback-{item.id}", "question": item.standalone}
        cited = list(dict.fromkeys(c.source for c in answer.citations))
        if item.rating > 0 and answer.refused and not correction:
            entry.update(answers=[], gold=[])
        elif item.rating > 0:
            entry.update(answers=[correction or shown_answer(answer)], gold=cited)
        elif correction:
            gold = [c.source for c in answer.citations if contains_answer(c.passage, correction)]
            if not gold and find_gold is not None:
                gold = find_gold(item.standalone, correction, item.options)
            entry.update(answers=[correction], gold=list(dict.fromkeys(gold)))
        else:
            skipped.append(f"{entry['id']}: thumbs down without a correct answer ({item.question!r})")
            continue
        if entry["answers"] and not entry["gold"]:
            skipped.append(f"{entry['id']}: no article found that says {entry['answers'][0]!r} ({item.question!r})")
            continue
        if item.options.get("as_of"):
            entry["as_of"] = item.options["as_of"]
        entry["rating"] = "up" if item.rating > 0 else "down"
        entries.append(entry)
    return entries, skipped


def write_question_set(entries: list[dict[str, Any]], path: str | Path) -> Path:
    """Write entries as JSONL (one question per line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    return path


def _check(result, thresholds: dict) -> list[str]:
    broken = []
    for option, (metric, label) in THRESHOLDS.items():
        limit = thresholds.get(option)
        if limit is None:
            continue
        for name, metrics in result.metrics.items():
            key = next((m for m in metrics if m.startswith("hit@")), metric) if metric == "hit@k" else metric
            value = metrics.get(key)
            if value is None:
                continue
            if (option.startswith("min") and value < limit) or (option.startswith("max") and value > limit):
                broken.append(f"{name}: {label} {value:.3f} ({'<' if option.startswith('min') else '>'} {limit})")
    return broken
