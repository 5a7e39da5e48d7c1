"""A tiny BERT-shaped ONNX sequence classifier, built here with the ``onnx`` helper API (no download).

Same interface as an export of ProsusAI/finbert: int64 inputs ``input_ids``, ``attention_mask`` and
``token_type_ids`` of shape (batch, sequence), output ``logits`` (batch, 3) in FinBERT's label order
(positive, negative, neutral). Inside: a token embedding, a mask-weighted mean over the sequence and a
linear head. The embedding gives bullish words a positive direction and bearish words a negative one,
so the scores are predictable.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BULLISH = ["surges", "rally", "gains", "record", "soars"]
BEARISH = ["crash", "plunges", "losses", "hack", "fear"]
NEUTRAL = ["bitcoin", "ether", "market", "today", "the", "in", "to", "a", "##s"]
VOCAB = SPECIAL + BULLISH + BEARISH + NEUTRAL
HIDDEN = 4


def build(folder: Path, *, tokenizer_json: bool = False) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    embedding = np.zeros((len(VOCAB), HIDDEN), dtype=np.float32)
    for word in BULLISH:
        embedding[VOCAB.index(word), 0] = 8.0
    for word in BEARISH:
        embedding[VOCAB.index(word), 1] = 8.0
    embedding[:, 2] = 0.5  # every token nudges towards neutral
    head = np.zeros((HIDDEN, 3), dtype=np.float32)
    head[0, 0] = head[1, 1] = head[2, 2] = 1.0
    nodes = [
        helper.make_node("Gather", ["embedding", "input_ids"], ["tokens"]),  # (B, S, H)
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "axis2"], ["mask3"]),  # (B, S, 1)
        helper.make_node("Mul", ["tokens", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),  # (B, H)
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),  # (B, 1)
        helper.make_node("Div", ["summed", "count"], ["pooled"]),
        helper.make_node("Cast", ["token_type_ids"], ["types_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["types_f", "axis1"], ["types_sum"], keepdims=1),  # read, like BERT
        helper.make_node("Mul", ["types_sum", "zero"], ["types_zero"]),
        helper.make_node("MatMul", ["pooled", "head"], ["raw"]),
        helper.make_node("Add", ["raw", "types_zero"], ["logits"]),
    ]
    ints = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_bert",
        ints,
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        initializer=[
            numpy_helper.from_array(embedding, "embedding"),
            numpy_helper.from_array(head, "head"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
            numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    (folder / "config.json").write_text(
        json.dumps({"id2label": {"0": "positive", "1": "negative", "2": "neutral"}}), encoding="utf-8"
    )
    if tokenizer_json:
        from tokenizers.implementations import BertWordPieceTokenizer

        BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=True).save(str(folder / "tokenizer.json"))
        (folder / "vocab.txt").unlink()
    return folder


def build_other_shape(
    folder: Path, *, classes: int = 3, per_token: bool = False, int32: bool = False
) -> Path:
    """A FinBERT folder (vocabulary and config.json of three labels) whose model.onnx is of another
    shape: ``classes`` logits, one row of them per token (a token classifier), or int32 inputs."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    build(folder)
    embedding = np.ones((len(VOCAB), HIDDEN), dtype=np.float32)
    head = np.ones((HIDDEN, classes), dtype=np.float32)
    nodes = [helper.make_node("Gather", ["embedding", "input_ids"], ["tokens"])]  # (B, S, H)
    if per_token:
        nodes.append(helper.make_node("MatMul", ["tokens", "head"], ["logits"]))  # (B, S, classes)
    else:
        nodes.append(helper.make_node("ReduceSum", ["tokens", "axis1"], ["pooled"], keepdims=0))
        nodes.append(helper.make_node("MatMul", ["pooled", "head"], ["logits"]))  # (B, classes)
    nodes.append(helper.make_node("Identity", ["attention_mask"], ["mask_out"]))
    kind = TensorProto.INT32 if int32 else TensorProto.INT64
    inputs = [
        helper.make_tensor_value_info(name, kind, ["batch", "sequence"])
        for name in ("input_ids", "attention_mask")
    ]
    shape = ["batch", "sequence", classes] if per_token else ["batch", classes]
    graph = helper.make_graph(
        nodes,
        "other_shape",
        inputs,
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, shape),
            helper.make_tensor_value_info("mask_out", kind, ["batch", "sequence"]),
        ],
        initializer=[
            numpy_helper.from_array(embedding, "embedding"),
            numpy_helper.from_array(head, "head"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(folder / "model.onnx"))
    return folder
