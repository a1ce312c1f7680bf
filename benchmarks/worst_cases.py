"""Worst-case files beside the normal corpus: how long ingest takes on the inputs that once made it quadratic.

    python -m benchmarks.worst_cases [--cases prose-2mb,one-line-4.9mb,...]

Each case is generated here (nothing large is committed) and ingested alone into a fresh store with the per-file time
budget off, so the figure is the real cost, not the budget. Beside the whole ingest, each stage is timed on its own:
reading the file (decode + parse), chunking, and embedding the chunks; what is left is writing to Chroma and the rest.
A BBC article is the normal case for scale. Results go to $BENCH_WORK/worst_cases.json and .md.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path

from benchmarks.common import BBC, WORK, machine_load, offline

HARBOUR = "Dredging of Nordport harbour will start in June and cost 3 million euros, the port authority said."


def news_prose(size: int, seed: int, paragraphs: bool = True) -> str:
    """About `size` characters of varied news-like prose (no two sentences alike), optionally on one line."""
    rng = random.Random(seed)
    subjects = ["The minister", "A council spokesman", "The company", "Police", "The mayor of Nordby", "Local farmers",
                "The union", "Shareholders", "The court", "Officials in Haverford", "The port authority", "Residents"]
    verbs = ["said", "announced", "denied", "confirmed", "warned", "reported", "argued", "agreed", "estimated"]
    objects = ["that prices would rise", "a new bridge", "the plan for the harbour", "talks with the union",
               "a fall in sales", "the ruling", "an inquiry into the storm", "that schools would reopen",
               "a rise in water bills", "the sale of the club", "new rules for the market", "a delay to the rail line"]
    times = ["on Monday", "last week", "in June", "this year", "on Tuesday evening", "after the vote", "in 2021"]
    pieces, length = [], 0
    while length < size:
        sentence = (f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} {rng.choice(times)}, "
                    f"with {rng.randint(2, 99_999):,} people affected and costs of {rng.randint(1, 999)} million.")
        if paragraphs and rng.random() < 0.15:
            sentence += "\n\n"
        pieces.append(sentence)
        length += len(sentence) + 1
    text = " ".join(pieces)[:size]
    return text if paragraphs else text.replace("\n", " ")


def nested_divs(depth: int) -> str:
    return "<!DOCTYPE html><html><body>" + "<div>" * depth + f"<p>{HARBOUR}</p>" + "</div>" * depth + "</body></html>"


def _bbc_article() -> tuple[str, str]:
    first = sorted(BBC.glob("*/*.txt"))[0]
    return "bbc-article.txt", first.read_text(encoding="utf-8", errors="replace")


CASES = {
    "bbc-article": _bbc_article,
    "prose-400kb": lambda: ("prose-400kb.txt", "Long report\n\n" + news_prose(400_000, seed=400)),
    "prose-2mb": lambda: ("prose-2mb.txt", "Huge report\n\n" + news_prose(2_000_000, seed=2_000_000)),
    "one-line-4.9mb": lambda: ("one-line.txt", "Huge report\n\n" + news_prose(4_900_000, 4_900_000, paragraphs=False)),
    "nested-divs-100k": lambda: ("nested.html", nested_divs(100_000)),
}


def run_case(name: str, work: Path) -> dict:
    from assistant import Assistant
    from ingest.loaders import load_bytes

    file_name, text = CASES[name]()
    folder = work / name / "news"
    shutil.rmtree(work / name, ignore_errors=True)
    folder.mkdir(parents=True)
    path = folder / file_name
    path.write_text(text, encoding="utf-8")
    with Assistant(data_dir=work / name / "data", file_time_budget_seconds=0) as assistant:  # closed before rmtree
        embedder = assistant.embedder
        embedder.embed(["warm up"])  # model loading is not part of any figure

        started = time.perf_counter()
        articles = load_bytes(path.read_bytes(), path.suffix, f"news/{file_name}").articles
        read_seconds = time.perf_counter() - started
        chunker = assistant.chunker
        started = time.perf_counter()
        chunks = [chunk for article in articles for chunk in chunker.chunk(article.text)]
        chunk_seconds = time.perf_counter() - started
        started = time.perf_counter()
        embedder.embed([chunk.text for chunk in chunks], cache=False)
        embed_seconds = time.perf_counter() - started

        started = time.perf_counter()
        summary = assistant.ingest(folder)
        ingest_seconds = time.perf_counter() - started
    result = {
        "case": name, "bytes": len(text.encode("utf-8")), "chunks": len(chunks),
        "read_seconds": round(read_seconds, 2), "chunk_seconds": round(chunk_seconds, 2),
        "embed_seconds": round(embed_seconds, 2), "ingest_seconds": round(ingest_seconds, 2),
        "chunks_per_second": round(len(chunks) / embed_seconds, 1) if embed_seconds else None,
        "added": len(summary.added), "failed": summary.failed,
    }
    shutil.rmtree(work / name, ignore_errors=True)
    return result


def table(results: list[dict]) -> str:
    lines = ["| case | size | chunks | read s | chunk s | embed s (chunks/s) | whole ingest s | stored |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        size = f"{r['bytes'] / 1e6:.2f} MB" if r["bytes"] >= 100_000 else f"{r['bytes'] / 1e3:.1f} KB"
        lines.append(f"| {r['case']} | {size} | {r['chunks']} | {r['read_seconds']:.2f} | {r['chunk_seconds']:.2f} | "
                     f"{r['embed_seconds']:.2f} ({r['chunks_per_second']}) | {r['ingest_seconds']:.2f} | "
                     f"{'yes' if r['added'] else 'no: ' + '; '.join(reason for _, reason in r['failed'])} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, from: " + ", ".join(CASES))
    args = parser.parse_args()
    offline()
    work = WORK / "worst-cases"
    results = []
    for name in args.cases.split(","):
        results.append(run_case(name.strip(), work))
        print(json.dumps(results[-1]), flush=True)
    report = {"load_average_during": machine_load(), "results": results}
    work.mkdir(parents=True, exist_ok=True)
    (work.parent / "worst_cases.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    markdown = table(results) + f"\n\nLoad average during the run: {report['load_average_during']}.\n"
    (work.parent / "worst_cases.md").write_text(markdown, encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
