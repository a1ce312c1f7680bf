"""The span reader: a cross-encoder over (question, passage window) that gives the answer span and a "no answer" score.

all-MiniLM-L6-v2 with a start/end head, trained SQuAD 2.0 style by tools/train_span_reader.py ("no answer" is the
[CLS] span) and shipped as one int8 ONNX file beside this package's models; the tokenizer is the packaged model's
own, so nothing is downloaded. A passage longer than one window is read in overlapping windows.

Scores: for each window, `span_score` = start + end logit of its best span and `null_score` = the [CLS] span;
`margin` = span_score - null_score is what the refusal stage calibrates (assistant.reading.refuse).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from assistant.models.embedding import model_path

log = logging.getLogger(__name__)

SPAN_READER_FILE = Path(__file__).resolve().parents[1] / "models" / "span-reader-int8.onnx"
MAX_LENGTH = 256  # word pieces per window (question + passage); the model's limit is 512, trained at 192
STRIDE = 96  # word pieces shared by consecutive windows of one passage
MAX_QUESTION_TOKENS = 64
MAX_ANSWER_TOKENS = 30
TOP_SPANS = 3  # spans kept per window
BATCH = 8

_lock = threading.Lock()
_shared: dict[Path, "SpanReader"] = {}


@dataclass
class Span:
    """One answer candidate: `passage` indexes the texts given to `read`; start/end are characters in that text."""

    passage: int
    start: int
    end: int
    text: str
    span_score: float
    null_score: float  # the [CLS] score of the window it was read in

    @property
    def margin(self) -> float:
        return self.span_score - self.null_score


@dataclass
class WindowReading:
    passage: int
    null_score: float
    spans: list[Span]


class SpanReader:
    def __init__(self, path: Path = SPAN_READER_FILE) -> None:
        self.path = path

    @classmethod
    def shared(cls, path: Path = SPAN_READER_FILE) -> "SpanReader":
        with _lock:
            if path not in _shared:
                _shared[path] = cls(path)
            return _shared[path]

    @classmethod
    def available(cls, path: Path = SPAN_READER_FILE) -> bool:
        return path.is_file()

    @cached_property
    def record(self) -> dict:
        """The training record beside the model (data, settings, calibration)."""
        beside = self.path.with_suffix(".json")
        return json.loads(beside.read_text(encoding="utf-8")) if beside.is_file() else {}

    @cached_property
    def model_id(self) -> str:
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]
        return f"span-reader@{digest}"

    @cached_property
    def session(self):
        import onnxruntime  # heavy: imported when the model is first used

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    @cached_property
    def tokenizer(self):
        from transformers import AutoTokenizer  # heavy: imported when the model is first used


        return AutoTokenizer.from_pretrained(str(model_path()))

    def _question(self, question: str) -> str:
        pieces = self.tokenizer.tokenize(question)
        if len(pieces) <= MAX_QUESTION_TOKENS:
            return question
        return self.tokenizer.convert_tokens_to_string(pieces[:MAX_QUESTION_TOKENS])

    def read_windows(self, question: str, passages: list[str]) -> list[WindowReading]:
        """Every window of every passage, with its best spans and its no-answer score."""
        if not passages:
            return []
        question = self._question(question)
        enc = self.tokenizer([question] * len(passages), passages, truncation="only_second", max_length=MAX_LENGTH,
                             stride=STRIDE, return_overflowing_tokens=True, return_offsets_mapping=True,
                             padding=False)
        count = len(enc["input_ids"])
        order = sorted(range(count), key=lambda i: len(enc["input_ids"][i]))
        readings: list[WindowReading | None] = [None] * count
        for first in range(0, count, BATCH):
            index = order[first:first + BATCH]
            width = max(len(enc["input_ids"][i]) for i in index)
            ids = np.zeros((len(index), width), dtype=np.int64)
            types = np.zeros_like(ids)
            mask = np.zeros_like(ids)
            for row, i in enumerate(index):
                n = len(enc["input_ids"][i])
                ids[row, :n] = enc["input_ids"][i]
                types[row, :n] = enc["token_type_ids"][i]
                mask[row, :n] = 1
            start_logits, end_logits = self.session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
            for row, i in enumerate(index):
                passage = enc["overflow_to_sample_mapping"][i]
                readings[i] = _best_spans(start_logits[row], end_logits[row], enc.sequence_ids(i),
                                          enc["offset_mapping"][i], passages[passage], passage)
        return [r for r in readings if r is not None]

    def read(self, question: str, passages: list[str]) -> list[Span]:
        """All spans found, best margin first; empty when no window holds a span."""
        spans = [s for w in self.read_windows(question, passages) for s in w.spans]
        return sorted(spans, key=lambda s: s.margin, reverse=True)


def _best_spans(start: np.ndarray, end: np.ndarray, sequence: list[int | None], offsets: list[tuple[int, int]],
                text: str, passage: int) -> WindowReading:
    null = float(start[0] + end[0])
    context = np.array([s == 1 for s in sequence], dtype=bool)
    n = len(sequence)
    start = np.where(context, start[:n], -np.inf)
    end = np.where(context, end[:n], -np.inf)
    # every (i, j) with i <= j < i + MAX_ANSWER_TOKENS, scored at once
    grid = start[:, None] + end[None, :]
    i, j = np.indices(grid.shape)
    grid = np.where((j >= i) & (j < i + MAX_ANSWER_TOKENS), grid, -np.inf)
    wanted = min(TOP_SPANS * 4, grid.size)
    best = np.argpartition(grid, grid.size - wanted, axis=None)[grid.size - wanted:]  # the top few, unordered: O(n)
    flat = best[np.argsort(grid.ravel()[best])[::-1]]
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    for k in flat:
        a, b = divmod(int(k), n)
        score = float(grid[a, b])
        if not np.isfinite(score):
            break
        char_start, char_end = offsets[a][0], offsets[b][1]
        if any(char_start < e and s < char_end for s, e in taken):
            continue  # overlaps a better span of this window
        taken.append((char_start, char_end))
        spans.append(Span(passage, char_start, char_end, text[char_start:char_end], score, null))
        if len(spans) == TOP_SPANS:
            break
    return WindowReading(passage, null, spans)
