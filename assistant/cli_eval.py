"""`assistant eval`: run a question set, print the table, write JSON/Markdown/HTML, gate on thresholds."""

from __future__ import annotations

import sys

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
@click.argument("questions", type=click.Path(exists=True, dir_okay=False))
@click.option("--corpus", type=click.Path(exists=True), help="Ingest this folder first (skipped when unchanged).")
@click.option("-k", type=click.IntRange(1, 100), help="Passages retrieved per question (setting k).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write eval.json, eval.md and eval.html here.")
@click.option("--compare", help="Comma-separated configurations run side by side: hybrid, dense, bm25, bm25-k1, or a backend name.")
@click.option("--min-accuracy", type=float, help="Exit 1 if answer accuracy is below this.")
@click.option("--min-hit", type=float, help="Exit 1 if retrieval hit@k is below this.")
@click.option("--min-cited", type=float, help="Exit 1 if the share of answers citing a gold article is below this.")
@click.option("--min-refusal", type=float, help="Exit 1 if fewer unanswerable questions than this are refused.")
@click.option("--max-false-refusal", type=float, help="Exit 1 if more answerable questions than this are refused.")
@click.option("--quiet", is_flag=True, help="No per-question failure table.")
@click.option("--ignore-as-of", is_flag=True, help="Ask without each question's date of asking (as_of / asked_on).")
@click.pass_context
@user_errors
def eval_command(ctx, questions, corpus, k, out_dir, compare, quiet, ignore_as_of, **thresholds) -> None:
    """Measure retrieval, answers, citations, refusals, groundedness and speed on QUESTIONS (JSONL or YAML)."""
    from assistant.evaluation import evaluate, parse_configs
    from assistant.evaluation.report import failures, metric_rows, write_report

    configs = parse_configs(compare)
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
                    click.echo(f"  {qid} [{kind}] {why}: {question}\n      answer: {answer}\n      expected: {expected}")
    if out_dir:
        paths = write_report(result, out_dir)
        click.echo("\nwrote " + ", ".join(str(p) for p in paths.values()))
    broken = _check(result, thresholds)
    if broken:
        _fail("quality below thresholds: " + "; ".join(broken))


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
