"""FinBERT headline sentiment through ONNX Runtime and ``tokenizers``, from a local model folder.

No PyTorch and no download at run time: the folder holds an ONNX export of a BERT sequence classifier
(ProsusAI/finbert; the README shows how to export it on a connected machine) and its tokenizer:

    model.onnx          inputs input_ids, attention_mask (and token_type_ids if exported), output logits
    tokenizer.json      the fast tokenizer (or vocab.txt: a BERT WordPiece vocabulary, lower-cased)
    config.json         "id2label": {"0": "positive", "1": "negative", "2": "neutral"} (FinBERT's order)

The score of a text is P(positive) - P(negative) from the softmax of the logits, in [-1, 1] like
VADER's compound score, so the two can be blended (``collectors/sentiment.py``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from mastertrade.errors import ConfigError
from mastertrade.extras import FINBERT_MODULES, require

MAX_TOKENS = 128
"""Headlines are short; longer texts (post bodies) are truncated to this many tokens."""
BATCH = 16


class FinBert:
    """A loaded FinBERT classifier."""

    def __init__(self, folder: Path, *, max_tokens: int = MAX_TOKENS, threads: int = 1) -> None:
        require(*FINBERT_MODULES)
        import onnxruntime
        from tokenizers import Tokenizer
        from tokenizers.implementations.bert_wordpiece import BertWordPieceTokenizer

        self.folder = folder
        model = folder / "model.onnx"
        if not model.is_file():
            raise ConfigError(
                f"finbert_model_dir {folder}: no model.onnx there (see the README's FinBERT export)"
            )
        if (folder / "tokenizer.json").is_file():
            self.tokenizer: Any = Tokenizer.from_file(str(folder / "tokenizer.json"))
        elif (folder / "vocab.txt").is_file():
            self.tokenizer = BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=True)
        else:
            raise ConfigError(f"finbert_model_dir {folder}: neither tokenizer.json nor vocab.txt is there")
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding()
        self.positive, self.negative, self.classes = self._labels(folder / "config.json")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
            raise ConfigError(f"finbert_model_dir {folder}: model.onnx does not load ({exc})") from None
        self.inputs = {i.name for i in self.session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self.inputs
        if missing:
            raise ConfigError(f"finbert_model_dir {folder}: model.onnx lacks the inputs {sorted(missing)}")
        self._probe()

    def _probe(self) -> None:
        """Score two texts once at load: a model of another shape (a token classifier, one with another
        number of labels than config.json names, int32 inputs) is refused here, naming what it gives,
        instead of failing on the first headline or, with fewer labels, scoring them by the wrong ones."""
        where = f"finbert_model_dir {self.folder}: model.onnx"
        try:
            logits = np.asarray(self._logits(["probe", "probe two"]))
        except Exception as exc:  # onnxruntime raises its own untyped errors for inputs it does not take
            raise ConfigError(f"{where} does not run on tokenised text ({exc})") from None
        if logits.shape != (2, self.classes):
            raise ConfigError(
                f"{where} gives an output of shape {list(logits.shape)} for 2 texts, not [2, {self.classes}]"
                f" (one logit per label of config.json's id2label): is it a sequence classifier?"
            )

    def _logits(self, texts: list[str]) -> Any:
        encoded = self.tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
        }
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.array([e.type_ids for e in encoded], dtype=np.int64)
        return self.session.run(None, feed)[0]

    @staticmethod
    def _labels(path: Path) -> tuple[int, int, int]:
        """The indices of the positive and negative labels, and how many labels there are."""
        labels = {0: "positive", 1: "negative", 2: "neutral"}
        if path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8")).get("id2label", {})
                labels = {int(k): str(v).lower() for k, v in raw.items()} or labels
            except (ValueError, AttributeError) as exc:
                raise ConfigError(f"{path}: unreadable id2label ({exc})") from None
        by_name = {name: index for index, name in labels.items()}
        if "positive" not in by_name or "negative" not in by_name:
            raise ConfigError(f"{path}: id2label must name 'positive' and 'negative' (got {labels})")
        if sorted(labels) != list(range(len(labels))):
            raise ConfigError(f"{path}: id2label must number its labels 0, 1, 2, ... (got {labels})")
        return by_name["positive"], by_name["negative"], len(labels)

    def probabilities(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Class probabilities, one row per text (columns in the model's label order)."""
        rows: list[np.ndarray[Any, np.dtype[np.float64]]] = []
        for start in range(0, len(texts), BATCH):
            logits = np.asarray(self._logits(texts[start : start + BATCH]), dtype=np.float64)
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            rows.append(shifted / shifted.sum(axis=1, keepdims=True))
        return np.concatenate(rows) if rows else np.zeros((0, 3))

    def scores(self, texts: list[str]) -> list[float]:
        """P(positive) - P(negative) of each text, in [-1, 1]."""
        probs = self.probabilities(texts)
        return [float(v) for v in probs[:, self.positive] - probs[:, self.negative]]

    def score(self, text: str) -> float:
        return self.scores([text])[0]


def missing_files(folder: str | Path) -> str | None:
    """What keeps ``folder`` from being a FinBERT model folder, found by looking (nothing is loaded):
    None when the files are there (they may still fail to load: :func:`load` says so)."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        return "no such folder"
    if not (path / "model.onnx").is_file():
        return "no model.onnx there"
    if not (path / "tokenizer.json").is_file() and not (path / "vocab.txt").is_file():
        return "neither tokenizer.json nor vocab.txt is there"
    return None


@cache
def load(folder: str) -> FinBert:
    """The classifier of ``folder``, loaded once per process."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ConfigError(f"finbert_model_dir {folder}: no such folder")
    return FinBert(path)
