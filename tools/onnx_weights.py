"""The weights of an exported int8 ONNX span reader, read back into its torch model (a warm start).

`export_module_int8` (assistant/models/embedding.py) fuses the BERT graph with onnxruntime's transformer optimizer
(EmbedLayerNormalization, one Attention node per layer with the query, key and value matrices side by side,
SkipLayerNormalization carrying the dense bias, BiasGelu) and quantizes it dynamically: the matrices int8 per output
column, the embeddings and their LayerNorm uint8 per tensor (a scale and a zero point each); activations are quantized
only at run time. Reading it back: each quantized tensor is dequantized ((q - zero point) * scale), each weight is
matched to its torch parameter through the node that uses it (the bias its node adds names the torch module; the bias
and LayerNorm initializers keep their torch names), MatMul weights ([in, out]) are transposed to torch.nn.Linear's
[out, in], and the QKV matrix and bias are split into query, key and value. A torch parameter not found, found twice
or with another shape raises: a warm start that quietly kept the fresh head's random weights would be a defect.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

import numpy as np

# the contrib ops' input positions (onnxruntime ContribOperators.md)
EMBED_INPUTS = {2: "word_embeddings.weight", 3: "position_embeddings.weight", 4: "token_type_embeddings.weight",
                5: "LayerNorm.weight", 6: "LayerNorm.bias"}
QEMBED_SCALE, QEMBED_ZERO = 8, 13  # QEmbedLayerNormalization: scales of inputs 2-6 at 8-12, zero points at 13-17
BIAS_INPUT = {"SkipLayerNormalization": 4, "BiasGelu": 1, "FastGelu": 1}
LINEAR_OPS = ("MatMul", "MatMulInteger", "DynamicQuantizeMatMul")
OUTPUT_DEQUANTIZE = ("Cast", "Mul")  # MatMulInteger's int32 output, back to float times the two scales


class WarmStartError(RuntimeError):
    """The ONNX file does not give every torch parameter, with its shape."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int | None = None) -> np.ndarray:
    values = q.astype(np.float32) - zero.astype(np.float32).reshape(_broadcast(q, zero, axis))
    return values * scale.astype(np.float32).reshape(_broadcast(q, scale, axis))


def _broadcast(q: np.ndarray, per: np.ndarray, axis: int | None) -> tuple[int, ...]:
    if per.size == 1:
        return ()
    axis = q.ndim - 1 if axis is None else axis % q.ndim  # per column of a MatMul weight [in, out]
    if per.ndim != 1 or per.size != q.shape[axis]:
        raise WarmStartError(f"a scale or zero point of shape {per.shape} does not fit a tensor of {q.shape}")
    shape = [1] * q.ndim
    shape[axis] = per.size
    return tuple(shape)


class _Graph:
    def __init__(self, path: Path) -> None:
        import onnx
        from onnx import numpy_helper

        self.graph = onnx.load(str(path)).graph
        self.inits = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.producer = {out: node for node in self.graph.node for out in node.output}
        self.consumers: dict[str, list] = defaultdict(list)
        for node in self.graph.node:
            for name in node.input:
                self.consumers[name].append(node)

    def value(self, name: str) -> np.ndarray:
        """A constant input as float: an initializer, or an initializer through DequantizeLinear."""
        if name in self.inits:
            return self.inits[name]
        node = self.producer.get(name)
        if node is not None and node.op_type == "DequantizeLinear" and node.input[0] in self.inits:
            import onnx

            axis = next((onnx.helper.get_attribute_value(a) for a in node.attribute if a.name == "axis"), 1)
            zero = self.inits[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros(1, np.int8)
            return _dequantize(self.inits[node.input[0]], self.inits[node.input[1]], zero, axis)
        raise WarmStartError(f"{name!r} is not a constant of the graph")

    def quantized(self, node, weight: int, scale: int | None, zero: int) -> np.ndarray:
        """A quantized weight input; MatMulInteger has no scale input: the quantizer's `<w>_scale` beside
        `<w>_quantized` (the Mul after it uses that one)."""
        q_name = node.input[weight]
        scale_name = node.input[scale] if scale is not None else q_name.removesuffix("_quantized") + "_scale"
        if q_name not in self.inits or scale_name not in self.inits:
            raise WarmStartError(f"{node.op_type} {node.name!r}: no scale {scale_name!r} for weight {q_name!r}")
        zero_point = self.inits[node.input[zero]] if len(node.input) > zero and node.input[zero] else np.zeros(1)
        return _dequantize(self.inits[q_name], self.inits[scale_name], zero_point)

    def bias_after(self, tensor: str, through: tuple[str, ...]) -> str:
        """The bias initializer the first bias-adding node downstream of `tensor` adds, passing only `through`."""
        queue, seen = [tensor], {tensor}
        while queue:
            for node in self.consumers[queue.pop(0)]:
                if node.op_type in BIAS_INPUT and len(node.input) > BIAS_INPUT[node.op_type]:
                    return node.input[BIAS_INPUT[node.op_type]]
                if node.op_type == "Add":
                    constant = [n for n in node.input if n in self.inits]
                    if constant:
                        return constant[0]
                if node.op_type in through:
                    queue += [out for out in node.output if out not in seen]
                    seen.update(node.output)
        raise WarmStartError(f"no bias found after {tensor!r}")


def _torch_name(onnx_name: str, torch_names: set[str]) -> str:
    """`inner.bert.encoder.layer.0.output.dense.bias` -> `bert.encoder.layer.0.output.dense.bias` (the export wraps
    the model in a module: its names gain a prefix)."""
    parts = onnx_name.split(".")
    for first in range(len(parts)):
        if ".".join(parts[first:]) in torch_names:
            return ".".join(parts[first:])
    raise WarmStartError(f"the ONNX tensor {onnx_name!r} names no parameter of the torch model")


def onnx_state(path: Path, torch_names: set[str]) -> dict[str, np.ndarray]:
    """torch parameter name -> its value (torch layout) from the ONNX file at `path`."""
    g = _Graph(path)
    found: dict[str, np.ndarray] = {}
    used: set[str] = set()

    def put(name: str, value: np.ndarray, *sources: str) -> None:
        if name in found:
            raise WarmStartError(f"{name} found twice in the ONNX graph")
        found[name] = np.ascontiguousarray(value, dtype=np.float32)
        used.update(sources)

    for node in g.graph.node:
        if node.op_type in ("EmbedLayerNormalization", "QEmbedLayerNormalization"):
            words = [n for n in torch_names if n.endswith("embeddings.word_embeddings.weight")]
            if len(words) != 1:
                raise WarmStartError(f"the torch model has {len(words)} word embeddings, not one")
            prefix = words[0].removesuffix("word_embeddings.weight")
            for at, suffix in EMBED_INPUTS.items():
                if node.op_type == "QEmbedLayerNormalization":
                    value = _dequantize(g.inits[node.input[at]], g.inits[node.input[QEMBED_SCALE + at - 2]],
                                        g.inits[node.input[QEMBED_ZERO + at - 2]])
                else:
                    value = g.value(node.input[at])
                put(prefix + suffix, value, node.input[at])
        elif node.op_type in ("Attention", "QAttention"):
            qkv = (g.quantized(node, 1, 4, 7) if node.op_type == "QAttention" else g.value(node.input[1]))
            bias = g.value(node.input[2])
            # the next bias downstream is the attention output dense's: its module names the layer
            dense = _torch_name(g.bias_after(node.output[0], ("DynamicQuantizeLinear",) + LINEAR_OPS
                                             + OUTPUT_DEQUANTIZE), torch_names)
            if not dense.endswith("attention.output.dense.bias"):
                raise WarmStartError(f"{node.name!r} is followed by {dense}, not an attention output")
            own = dense.removesuffix("output.dense.bias") + "self."
            for part, name in zip(np.split(qkv, 3, axis=1), ("query", "key", "value")):
                put(f"{own}{name}.weight", part.T, node.input[1])
            for part, name in zip(np.split(bias, 3), ("query", "key", "value")):
                put(f"{own}{name}.bias", part, node.input[2])
        elif node.op_type in LINEAR_OPS and not _activation(g, node):
            if node.op_type == "MatMulInteger":
                weight = g.quantized(node, 1, None, 3)
            elif node.op_type == "DynamicQuantizeMatMul":
                weight = g.quantized(node, 1, 2, 3)
            else:
                weight = g.value(node.input[1])
            if node.op_type == "DynamicQuantizeMatMul" and len(node.input) > 4 and node.input[4]:
                bias = node.input[4]
            else:
                bias = g.bias_after(node.output[0], OUTPUT_DEQUANTIZE)
            module = _torch_name(bias, torch_names).removesuffix("bias")
            put(module + "weight", weight.T, node.input[1])
    for name, value in g.inits.items():  # the float biases and LayerNorm weights keep their torch names
        if name not in used and value.dtype == np.float32 and value.ndim >= 1 and not _quantizer_tensor(name):
            put(_torch_name(name, torch_names), value, name)
    return found


def _activation(g: _Graph, node) -> bool:
    """A MatMul of two activations (attention scores in an unfused graph): no weight."""
    return node.input[1] not in g.inits and g.producer.get(node.input[1], None) is not None \
        and g.producer[node.input[1]].op_type != "DequantizeLinear"


def _quantizer_tensor(name: str) -> bool:
    return name.endswith(("_scale", "_zero_point", "_quantized"))


def load_onnx_weights(model, path: Path) -> int:
    """Every parameter of `model` (a torch QA model of the exported shape) set from the ONNX file; returns the count."""
    import torch

    params = dict(model.named_parameters())
    state = onnx_state(path, set(params))
    missing = sorted(set(params) - set(state))
    wrong = [f"{n} {tuple(state[n].shape)} != {tuple(p.shape)}" for n, p in params.items()
             if n in state and tuple(state[n].shape) != tuple(p.shape)]
    if missing or wrong:
        raise WarmStartError(f"{path.name} does not give the torch model's weights: missing {missing}, "
                             f"wrong shape {wrong}")
    with torch.no_grad():
        for name, param in params.items():
            param.copy_(torch.tensor(state[name]))
    return len(params)


def compare_logits(model, path: Path, tokenizer, pairs: list[tuple[str, str]]) -> dict:
    """The torch model (in eval mode) and the ONNX file on the same (question, passage) windows, read as the span
    reader reads them: start/end logit differences where the reader scores ([CLS] and the passage's tokens), the
    no-answer ([CLS]) score's, and whether both pick the same best span and make the same answer / no-answer call
    (best span score vs the [CLS] score)."""
    import onnxruntime
    import torch

    from assistant.reading.read import MAX_LENGTH, _best_spans

    enc = tokenizer([q for q, _ in pairs], [p for _, p in pairs], truncation="only_second", max_length=MAX_LENGTH,
                    return_offsets_mapping=True, padding=True, return_tensors="np")
    feeds = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    onnx_start, onnx_end = session.run(None, feeds)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(**{k: torch.from_numpy(v) for k, v in feeds.items()})
    model.train(was_training)
    torch_start, torch_end = out.start_logits.numpy(), out.end_logits.numpy()
    mask = feeds["attention_mask"].astype(bool)
    read = np.array([[s == 1 for s in enc.sequence_ids(row)] for row in range(len(pairs))], dtype=bool)
    read[:, 0] = True  # the positions the reader scores: the passage's tokens and [CLS] (no answer)
    diffs = np.concatenate([np.abs(torch_start - onnx_start)[read], np.abs(torch_end - onnx_end)[read]])
    spread = float(np.concatenate([onnx_start[read], onnx_end[read]]).std())
    same_span = same_call = 0
    null_diff = margin_diff = 0.0
    for row, (_, passage) in enumerate(pairs):
        n = int(mask[row].sum())
        sequence, offsets = enc.sequence_ids(row)[:n], [tuple(o) for o in enc["offset_mapping"][row][:n]]
        a = _best_spans(torch_start[row], torch_end[row], sequence, offsets, passage, 0)
        b = _best_spans(onnx_start[row], onnx_end[row], sequence, offsets, passage, 0)
        same_span += bool(a.spans and b.spans and (a.spans[0].start, a.spans[0].end) == (b.spans[0].start,
                                                                                      b.spans[0].end))
        same_call += bool(a.spans and b.spans and (a.spans[0].margin > 0) == (b.spans[0].margin > 0))
        null_diff = max(null_diff, abs(a.null_score - b.null_score))
        if a.spans and b.spans:
            margin_diff = max(margin_diff, abs(a.spans[0].margin - b.spans[0].margin))
    return {"windows": len(pairs), "max_abs_diff": round(float(diffs.max()), 4),
            "mean_abs_diff": round(float(diffs.mean()), 4), "logit_std": round(spread, 3),
            "no_answer_max_diff": round(null_diff, 4), "margin_max_diff": round(margin_diff, 4),
            "same_best_span": same_span / len(pairs), "same_answer_call": same_call / len(pairs)}
