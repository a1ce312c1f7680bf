"""Run every benchmark and print the results table (markdown) for benchmarks/README.md.

    python -m benchmarks [--repeat 1] [--target-chunks 100000] [--skip-ingest] [--skip-sessions] [--table-only]

The last part is the page's load test (benchmarks/sessions.py: 20 concurrent gradio_client sessions for 60 s).

Results (JSON, profiles, the table) go to $BENCH_WORK (default /tmp/news-assistant-bench).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

from benchmarks import ingest, query, sessions
from benchmarks.common import WORK


def _ms(summary: dict | None, key: str) -> str:
    return "—" if not summary else f"{summary[key]:.0f}"


def table(ingest_result: dict, query_result: dict) -> str:
    n, p = ingest_result["naive"], ingest_result["project"]
    lines = [
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; load average during the runs: "
        f"ingest {ingest_result['load_average_during']}, query {query_result['load_average_during']} (other work was "
        f"running).",
        "",
        "| measure | naive LangChain recipe | project | ratio (project vs naive) |",
        "|---|---|---|---|",
        f"| ingest BBC: files | {n['files']} | {p['files']} ({p['articles_stored']} articles, {p['duplicates']} "
        f"duplicates stored once) | |",
        f"| ingest BBC: chunks | {n['chunks']} | {p['chunks']} | |",
        f"| ingest BBC: seconds (model load apart) | {n['ingest_seconds']:.1f} | {p['ingest_seconds']:.1f} | |",
        f"| ingest BBC: CPU seconds | {n['ingest_cpu_seconds']:.1f} | {p['ingest_cpu_seconds']:.1f} | "
        f"{ingest_result['cpu_ratio']:.2f}x less CPU |",
        f"| ingest BBC: articles / min | {n['articles_per_min']:.0f} | {p['articles_per_min']:.0f} | "
        f"**{ingest_result['throughput_ratio']:.2f}x** |",
        f"| ingest BBC: chunks / s | {n['chunks_per_s']:.1f} | {p['chunks_per_s']:.1f} | "
        f"{ingest_result['chunks_per_s_ratio']:.2f}x |",
        f"| ingest BBC: peak memory (MB) | {n['peak_rss_mb']:.0f} | {p['peak_rss_mb']:.0f} | |",
        f"| ingest BBC: model load (s) | {n['load_seconds']:.1f} | {p['load_seconds']:.1f} | |",
        f"| hit@5, gold article, bbc_dev ({p['questions']} questions) | {n['hit_at_5']:.3f} | {p['hit_at_5']:.3f} "
        f"(dense only: {p['hit_at_5_dense']:.3f}) | {ingest_result['hit_at_5_delta']:+.3f} |",
        f"| hit@1, same questions | {n.get('hit_at_1', float('nan')):.3f} | {p.get('hit_at_1', float('nan')):.3f} "
        f"(dense only: {p.get('hit_at_1_dense', float('nan')):.3f}) | |",
        f"| re-ingest unchanged BBC (s) | (no skip logic: a full re-ingest) | {p['reingest_seconds']:.2f} | "
        f"{ingest_result['reingest_speedup']:.0f}x faster than the first ingest |",
        f"| BM25 build over BBC chunks (s) | — | {p['bm25_build_seconds']:.2f} | |",
    ]
    for scale, label in (("bbc", "BBC"), ("100k", "100k+ chunks")):
        nq, pq = query_result[f"naive-{scale}"], query_result[f"project-{scale}"]
        lines += [
            f"| {label}: chunks in store | {nq['chunks']} | {pq['chunks']} | |",
            f"| {label}: retrieve p50 / p95 (ms) | {_ms(nq['retrieve'], 'p50_ms')} / {_ms(nq['retrieve'], 'p95_ms')} "
            f"(similarity_search, k=8) | "
            f"{_ms(pq['retrieve'], 'p50_ms')} / {_ms(pq['retrieve'], 'p95_ms')} (hybrid dense+BM25, k=8) | "
            f"p95 {query_result[f'retrieve_p95_ratio_{scale}']:.2f}x |",
            f"| {label}: ask p50 / p95 (ms) | — (no answerer) | {_ms(pq['ask'], 'p50_ms')} / "
            f"{_ms(pq['ask'], 'p95_ms')} (extractive) | |",
            f"| {label}: CPU time per retrieve / ask, p50 / p95 (ms) | — | {_ms(pq['retrieve_cpu'], 'p50_ms')} / "
            f"{_ms(pq['retrieve_cpu'], 'p95_ms')}"
            f" ; {_ms(pq['ask_cpu'], 'p50_ms')} / {_ms(pq['ask_cpu'], 'p95_ms')} | |",
            f"| {label}: ANN recall@10 vs exact | {nq['recall_at_10']:.3f} (ef_search {nq['ef_search']}) | "
            f"{pq['recall_at_10']:.3f} (ef_search {pq['ef_search']}) | |",
            f"| {label}: peak memory of the query process (MB) | {nq['peak_rss_mb']:.0f} | {pq['peak_rss_mb']:.0f} | |",
            f"| {label}: BM25 first build / rebuild after a write (s) | — | {pq['bm25_cold_build_seconds']:.2f} / "
            f"{pq['bm25_rebuild_seconds']:.2f} | |",
        ]
    return "\n".join(lines)


def profile_table(query_result: dict, scale: str = "100k") -> str:
    rows = query_result[f"project-{scale}"]["profile"]
    lines = ["| part | ms per question |", "|---|---|"]
    lines += [f"| {row['part'].replace('  ', '&nbsp;&nbsp;')} | {row['ms_per_question']:.1f} |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="ingest runs per contender (median reported)")
    parser.add_argument("--target-chunks", type=int, default=100_000)
    parser.add_argument("--skip-ingest", action="store_true", help="reuse $BENCH_WORK/ingest.json and its stores")
    parser.add_argument("--table-only", action="store_true", help="print the table from the saved JSON results")
    parser.add_argument(
        "--skip-sessions", action="store_true", help="leave out the page's load test (benchmarks.sessions)"
    )
    args = parser.parse_args(argv)
    if args.table_only:
        ingest_result = json.loads((WORK / "ingest.json").read_text())
        query_result = json.loads((WORK / "query.json").read_text())
    else:
        ingest_result = (
            json.loads((WORK / "ingest.json").read_text())
            if args.skip_ingest
            else ingest.main(["--repeat", str(args.repeat)])
        )
        query_result = query.main(["--target-chunks", str(args.target_chunks), "--rebuild-big"])
    text = (
        table(ingest_result, query_result)
        + "\n\nWhere the time of retrieve and ask goes at 100k chunks (cProfile, cumulative ms per question; indented "
          "rows are part of the row above):\n\n"
        + profile_table(query_result)
    )
    sessions_result = None
    if args.table_only:
        if (WORK / "sessions.json").exists():
            sessions_result = json.loads((WORK / "sessions.json").read_text())
    elif not args.skip_sessions:
        sessions_result = sessions.main([])
    if sessions_result:
        text += (
            "\n\nThe page under concurrent sessions (benchmarks/sessions.py):\n\n"
            + sessions.TABLE_HEAD
            + "\n"
            + sessions.row(sessions_result)
        )
    (WORK / "results.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    sys.exit(main())
