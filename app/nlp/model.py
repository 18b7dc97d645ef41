"""The trained intent classifier at run time: a linear model over TF-IDF features, scored with numpy only.

The artefact (data/model.json.gz) is built by `linli nlu train` (app/nlp/train.py, scikit-learn) and committed;
loading it needs neither scikit-learn nor training, so the app starts fast.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.nlp.features import DATA_DIR, features

MODEL_PATH = DATA_DIR / "model.json.gz"

_model = None
_lock = threading.Lock()


@dataclass
class IntentModel:
    """Vocabulary, idf weights and the linear layer of the classifier."""

    classes: list[str]
    index: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray  # (n_classes, n_features)
    intercept: np.ndarray
    data_digest: str

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Feature indices and L2-normalised TF-IDF values of a cleaned message (binary term frequency)."""
        idx = np.array(sorted({self.index[f] for f in features(text) if f in self.index}), dtype=np.int64)
        if idx.size == 0:
            return idx, np.zeros(0, dtype=np.float64)
        values = self.idf[idx]
        return idx, values / math.sqrt(float(values @ values))

    def probabilities(self, text: str) -> dict[str, float]:
        """Class probabilities (softmax of the linear scores) for a cleaned message."""
        idx, values = self.vector(text)
        scores = self.intercept + (self.coef[:, idx] @ values if idx.size else 0.0)
        scores = scores - scores.max()
        exp = np.exp(scores)
        probs = exp / exp.sum()
        return {name: float(p) for name, p in zip(self.classes, probs)}


def encode_array(array: np.ndarray) -> str:
    """Little-endian float32 bytes as base64 text (compact and byte-for-byte reproducible)."""
    return base64.b64encode(np.asarray(array, dtype="<f4").tobytes()).decode("ascii")


def decode_array(text: str, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of encode_array, as float64 for scoring."""
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float64).reshape(shape)


def load_model(path: Path = MODEL_PATH) -> IntentModel:
    """Read a model artefact."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        raw = json.load(handle)
    vocabulary = raw["features"]
    classes = raw["classes"]
    return IntentModel(
        classes=classes,
        index={name: i for i, name in enumerate(vocabulary)},
        idf=decode_array(raw["idf"], (len(vocabulary),)),
        coef=decode_array(raw["coef"], (len(classes), len(vocabulary))),
        intercept=decode_array(raw["intercept"], (len(classes),)),
        data_digest=raw["data_digest"],
    )


def model() -> IntentModel:
    """The classifier of this process, loaded once."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = load_model()
    return _model
