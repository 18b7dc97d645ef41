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
from dataclasses import dataclass, field
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
    # Derived once: each feature's idf-scaled class weights as a row, and its squared idf, so that scoring a message
    # sums the rows of its features instead of building its TF-IDF vector and indexing columns of coef.
    _rows: np.ndarray = field(init=False, repr=False)
    _idf_squared: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rows = np.ascontiguousarray((self.coef * self.idf).T)
        self._idf_squared = self.idf * self.idf

    def scores(self, text: str) -> np.ndarray:
        """Linear scores per class of a cleaned message: intercept + coef · its L2-normalised TF-IDF vector."""
        # Features are unique, so are their indices; sorted, the sum is the same in every process.
        idx = sorted(i for i in map(self.index.get, features(text)) if i is not None)
        if not idx:
            return self.intercept
        return self.intercept + self._rows[idx].sum(axis=0) / math.sqrt(float(self._idf_squared[idx].sum()))

    def probabilities(self, text: str) -> dict[str, float]:
        """Class probabilities (softmax of the linear scores) for a cleaned message."""
        scores = self.scores(text)
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
