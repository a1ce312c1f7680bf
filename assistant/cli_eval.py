"""`assistant eval`: run a question set, print the table, write JSON/Markdown/HTML, gate on thresholds."""

from __future__ import annotations

import click

from assistant.cli import _assistant, _fail, user_errors

THRESHOLDS = {
    "min_accuracy": ("accuracy", "answer accuracy"),
    "min_hit": ("hit@k", "retrieval hit@k"),
    "min_cited": ("gold_cited", "gold article cited"),
    "min_refusal": ("refusal_recall", "unanswerable questions refused"),
    "max_false_refusal": ("false_refusal_rate", "answerable questions refused"),
}


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
    from assistant.evaluation import evaluate, parse_configs
    from assistant.evaluation.report import failures, metric_rows, pyplot, write_report

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
    from assistant.cli import _settings
    from assistant.core.errors import InputError
    from assistant.evaluation.metrics import contains_answer
    from assistant.history import History, feedback_question_set, write_question_set

    settings = _settings(ctx)
    feedback = History.in_data_dir(settings.data_dir).feedback()
    if not feedback:
        raise InputError(f"No feedback is stored in {settings.data_dir} yet: rate answers in the chat page "
                         "(thumbs up or down), then run this again.")
    opened = []

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
