"""The benchmark scripts run (on a tiny corpus, a few questions), and the fast embedding backend agrees with torch.

The numbers themselves are not tested: benchmarks/README.md has them from a full run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import LAVROV_Q, REPO, SEED_FILE

BBC = REPO.parent / "shared" / "corpora" / "bbc"


def test_the_default_backend_agrees_with_torch(embedder):
    from assistant.models.embedding import Embedder
    from assistant.text.sentences import split_sentences

    text = SEED_FILE.read_text(encoding="utf-8")
    sentences = [text[s.start:s.end] for s in split_sentences(text)][:40]
    reference = Embedder(backend="torch")
    expected, got = reference.embed([LAVROV_Q] + sentences), embedder.embed([LAVROV_Q] + sentences)
    assert got.shape == expected.shape and got.dtype == np.float32
    cosines = (expected * got).sum(axis=1)
    assert cosines.min() > 0.95, cosines.min()  # int8 vs fp32 torch; the lowest chunk measured 0.966 (2026-11-30)
    # the sentence that answers the question is the nearest one either way
    assert int(np.argmax(expected[1:] @ expected[0])) == int(np.argmax(got[1:] @ got[0]))
    assert embedder.model_id.startswith(reference.model_id)


def test_cached_embeddings_are_the_same_vectors(embedder):
    first = embedder.embed(["Lavrov visited Islamabad in April.", "Putin spoke to Khan."])
    hits = embedder.cache_hits
    second = embedder.embed(["Putin spoke to Khan.", "Lavrov visited Islamabad in April."])
    assert embedder.cache_hits == hits + 2
    assert np.array_equal(first[::-1], second)


@pytest.mark.slow
@pytest.mark.skipif(not BBC.is_dir(), reason="the BBC corpus is not beside the repository")
def test_the_ingest_benchmark_runs_on_a_small_corpus(tmp_path):
    corpus = tmp_path / "bbc"
    for folder in ("business", "sport"):
        (corpus / folder).mkdir(parents=True)
        for path in sorted((BBC / folder).glob("*.txt"))[:4]:
            shutil.copy(path, corpus / folder / path.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")} | {
        "BENCH_WORK": str(tmp_path / "work"),
        "BENCH_QUESTIONS": "3",
    }
    result = subprocess.run([sys.executable, "-m", "benchmarks.ingest", "--corpus", str(corpus)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "work" / "ingest.json").read_text())
    assert summary["naive"]["files"] == summary["project"]["files"] == 8
    assert summary["project"]["chunks"] > 0 and summary["naive"]["chunks"] > 0
    assert summary["project"]["reingest_unchanged"] == 8
    assert summary["throughput_ratio"] > 0
