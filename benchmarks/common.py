"""Shared helpers: paths, child processes (one per contender, so peak memory is its own), percentiles, hit@k."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BBC = REPO.parent / "shared" / "corpora" / "bbc"
DEV = REPO / "tests" / "data" / "bbc_test.jsonl"
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/news-assistant-bench"))
RESULT_MARK = "BENCH-RESULT "

# The naive recipe, as the issue states it.
NAIVE_CHUNK_SIZE = 1000
NAIVE_CHUNK_OVERLAP = 200


def offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(result: dict) -> None:
    """A child's result: one marked JSON line on stdout."""
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(RESULT_MARK + json.dumps(result), flush=True)


def run_child(module: str, *args: str, timeout: float = 3600) -> dict:
    """Run `python -m benchmarks.<module> args` in its own process and return the result it emitted."""
    command = [sys.executable, "-m", f"benchmarks.{module}", *args]
    started = time.perf_counter()
    process = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    lines = [line for line in process.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if process.returncode != 0 or not lines:
        raise RuntimeError(
            f"{' '.join(command)} failed ({process.returncode}):\n{process.stdout[-3000:]}\n{process.stderr[-5000:]}"
        )
    result = json.loads(lines[-1][len(RESULT_MARK):])
    result["child_seconds"] = round(time.perf_counter() - started, 2)
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100.0
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "mean_ms": round(statistics.fmean(ms), 1), "max_ms": round(max(ms), 1)}


def load_questions(path: Path = DEV) -> list[dict]:
    """The dev questions; $BENCH_QUESTIONS=N keeps the first N (for a quick smoke run)."""
    questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    limit = int(os.environ.get("BENCH_QUESTIONS", "0") or 0)
    return questions[:limit] if limit > 0 else questions


def corpus_files(corpus: Path = BBC) -> list[Path]:
    return sorted(p for p in corpus.rglob("*.txt") if p.name.upper() != "README.TXT")


def source_of(path: Path, corpus: Path = BBC) -> str:
    """The source path the project gives a file: the corpus folder's name, then the path inside it."""
    return f"{corpus.name}/{path.relative_to(corpus).as_posix()}"


def article_classes(corpus: Path = BBC) -> dict[str, str]:
    """source -> a key shared by files with the same text (the BBC set has duplicate articles), for a fair hit@k."""
    classes = {}
    for path in corpus_files(corpus):
        text = " ".join(path.read_text(encoding="utf-8", errors="replace").split())
        classes[source_of(path, corpus)] = hashlib.sha1(text.encode()).hexdigest()
    return classes


def hit_at_k(retrieved_sources: list[list[str]], golds: list[list[str]], classes: dict[str, str]) -> float:
    """Share of questions with a gold article (or an identical copy of it) among the retrieved passages."""
    hits = 0
    for sources, gold in zip(retrieved_sources, golds):
        wanted = {classes.get(g, g) for g in gold}
        hits += any(classes.get(s, s) in wanted for s in sources)
    return hits / max(1, len(golds))


def machine_load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
