"""Write an evaluation as JSON (machines), Markdown and self-contained HTML with plots (people)."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path

from assistant.core.extras import require
from assistant.evaluation import EvalResult
from assistant.evaluation.runner import calibration_table

HEADLINE = [
    "accuracy",
    "f1",
    "gold_cited",
    "citation_precision",
    "refusal_recall",
    "false_refusal_rate",
    "groundedness",
    "mrr",
]


def metric_rows(result: EvalResult) -> tuple[list[str], list[list[str]]]:
    """One row per metric, one column per configuration; hit@N and ndcg@N line up as hit@k and ndcg@k."""
    names = list(result.metrics)
    generic = {n: {_generic(key): value for key, value in result.metrics[n].items()} for n in names}
    keys = list(generic[names[0]].keys()) if names else []
    rows = [[key] + [_fmt(generic[n].get(key)) for n in names] for key in keys]
    if names:
        rows.insert(3, ["k"] + [str(result.rows_k.get(n, result.k)) for n in names])
    return ["metric"] + names, rows


def _generic(key: str) -> str:
    return re.sub(r"@\d+$", "@k", key)


def failures(result: EvalResult, config: str) -> list[list[str]]:
    return [
        [r.id, r.kind, r.failure or "", r.question, r.answer[:160], "; ".join(r.expected[:3])]
        for r in result.rows[config]
        if r.failure
    ]


def markdown(result: EvalResult) -> str:
    header, rows = metric_rows(result)
    lines = [
        f"# Evaluation of {result.questions_file}",
        "",
        f"k = {result.k}; ingest {result.ingest_seconds:.1f}s",
        "",
        _md_table(header, rows),
    ]
    for name in result.rows:
        lines += ["", f"## By kind: {name}", ""]
        kinds = result.by_kind[name]
        lines.append(
            _md_table(
                ["kind", "questions", "accuracy", "gold cited", "refusal recall"],
                [
                    [k, str(m["questions"]), _fmt(m["accuracy"]), _fmt(m["gold_cited"]), _fmt(m["refusal_recall"])]
                    for k, m in kinds.items()
                ],
            )
        )
        lines += ["", f"## Calibration: {name}", "",
                  "Answers shown (refusals left out) by the confidence they were shown with, and the share right.", ""]
        lines.append(_md_table(["confidence", "answers", "right"],
                               [[f"{b['from']:.1f}-{b['to']:.1f}", str(b["answers"]), _fmt(b["right"])]
                                for b in calibration_table(result.rows[name])]))
        failed = failures(result, name)
        lines += ["", f"## What failed: {name} ({len(failed)})", ""]
        lines.append(
            _md_table(["id", "kind", "why", "question", "answer", "expected"], failed) if failed else "Nothing failed."
        )
    return "\n".join(lines) + "\n"


def write_report(result: EvalResult, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "eval.json", "markdown": out / "eval.md", "html": out / "eval.html"}
    paths["json"].write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    paths["markdown"].write_text(markdown(result), encoding="utf-8")
    paths["html"].write_text(_html(result), encoding="utf-8")
    return paths


def _html(result: EvalResult) -> str:
    header, rows = metric_rows(result)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Evaluation</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:4px "
        "8px;font-size:14px;text-align:left}th{background:#f3f3f3}img{max-width:100%}</style></head><body>",
        f"<h1>Evaluation of {html.escape(result.questions_file)}</h1><p>k = {result.k}; ingest "
        f"{result.ingest_seconds:.1f}s</p>",
        _html_table(header, rows),
        f"<h2>Metrics per configuration</h2><img alt='metrics per configuration' "
        f"src='data:image/png;base64,{_plot_configs(result)}'>",
        f"<h2>Accuracy per question kind</h2><img alt='accuracy per kind' "
        f"src='data:image/png;base64,{_plot_kinds(result)}'>",
        f"<h2>Calibration</h2><p>Of the answers shown with a confidence in each bin, the share that was right; the "
        f"diagonal is perfect calibration.</p><img alt='calibration' "
        f"src='data:image/png;base64,{_plot_calibration(result)}'>",
    ]
    for name in result.rows:
        failed = failures(result, name)
        parts.append(f"<h2>What failed: {html.escape(name)} ({len(failed)})</h2>")
        parts.append(
            _html_table(["id", "kind", "why", "question", "answer", "expected"], failed)
            if failed
            else "<p>Nothing failed.</p>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _plot_configs(result: EvalResult) -> str:
    plt = pyplot()
    names = list(result.metrics)
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        values = [result.metrics[name].get(key) or 0.0 for key in HEADLINE]
        ax.bar([x + i * width for x in range(len(HEADLINE))], values, width, label=name)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(HEADLINE))], HEADLINE, rotation=20)
    ax.set_ylim(0, 1)
    ax.legend()
    return _png(fig)


def _plot_kinds(result: EvalResult) -> str:
    plt = pyplot()
    names = list(result.by_kind)
    kinds = sorted({k for by in result.by_kind.values() for k in by})
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        values = [(result.by_kind[name].get(kind, {}).get("overall_accuracy") or 0.0) for kind in kinds]
        ax.bar([x + i * width for x in range(len(kinds))], values, width, label=name)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(kinds))], kinds)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share answered right (refusals count for unanswerable)")
    ax.legend()
    return _png(fig)


def _plot_calibration(result: EvalResult) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    for name, rows in result.rows.items():
        table = [b for b in calibration_table(rows) if b["answers"]]
        centres = [(b["from"] + b["to"]) / 2 for b in table]
        ax.plot(centres, [b["right"] for b in table], marker="o", label=name)
        for x, b in zip(centres, table):
            ax.annotate(str(b["answers"]), (x, b["right"]), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("confidence shown")
    ax.set_ylabel("share of those answers that were right")
    ax.legend()
    return _png(fig)


def pyplot():
    """matplotlib's pyplot, drawing off screen; BackendError naming the extra when matplotlib is not installed."""
    require("matplotlib", "plots", "The charts of the eval report (eval --out)")
    import matplotlib  # the plots extra, only for a report with charts

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> str:
    plt = pyplot()
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.0f}"
    return str(value)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def clean(cell: str) -> str:
        return str(cell).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(clean(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
