"""The reader: all-MiniLM-L6-v2 fine-tuned to place a question next to the sentence that answers it.

The packaged model puts "Who founded Air Deccan?" closest to the sentence that restates it ("Air Deccan,
India's first low-cost airline, …"), not to the one that answers it ("… set up by army officer Gorur
Gopinath"). tools/train_reader.py fine-tunes it on question sets (the answering sentence against its
article's other sentences) and ships the result as one int8 ONNX file next to this module; the tokenizer
is the packaged model's own. Only the extractive answerer uses it, for the sentences of the retrieved
articles; the store's vectors and retrieval keep the packaged model.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from functools import cached_property
from pathlib import Path

from assistant.models.embedding import MODEL_ID, Embedder

log = logging.getLogger(__name__)

READER_FILE = Path(__file__).with_name("reader-int8.onnx")
_lock = threading.Lock()
_shared: dict[Path, "Reader"] = {}


class Reader(Embedder):
    """Embeddings from the fine-tuned reader model: cosine of question and sentence = how well it answers."""

    def __init__(self, path: Path = READER_FILE, batch_size: int = 64) -> None:
        super().__init__(batch_size, "onnx-int8")
        self.path = path

    @classmethod
    def shared(cls, path: Path = READER_FILE, batch_size: int = 64) -> "Reader":  # type: ignore[override]
        with _lock:
            if path not in _shared:
                _shared[path] = cls(path, batch_size)
            return _shared[path]

    @classmethod
    def available(cls, path: Path = READER_FILE) -> bool:
        return path.is_file()

    def onnx_file(self) -> Path:
        return self.path

    @cached_property
    def model_id(self) -> str:
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]
        return f"{MODEL_ID}+reader@{digest}"
