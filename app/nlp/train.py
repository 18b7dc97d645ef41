"""Training the intent classifier with scikit-learn and writing the reproducible artefact data/model.json.gz."""

from __future__ import annotations

import base64
import gzip
import io
import json
import math
from pathlib import Path

import numpy as np

from app.nlp.dataset import data_digest, training_examples
from app.nlp.features import features
from app.nlp.model import MODEL_PATH, encode_array
from app.nlp.text import clean

MIN_DF = 2  # a feature seen once cannot generalise; dropping them also makes the artefact 4× smaller
C = 8.0
# `other` has thirty times more examples than an intent; balanced weights would make it too weak to reject
# out-of-scope text, so it keeps part of its weight.
OTHER_WEIGHT = 3.0


def build_artefact() -> bytes:
    """Train on the data in the repo and return the gzip'd artefact; same data → same bytes."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    examples = training_examples()
    docs = [features(clean(ex.text)) for ex in examples]
    df: dict[str, int] = {}
    for doc in docs:
        for name in doc:
            df[name] = df.get(name, 0) + 1
    vocabulary = sorted(name for name, count in df.items() if count >= MIN_DF)
    index = {name: i for i, name in enumerate(vocabulary)}
    n = len(docs)
    # Smoothed idf exactly as model.IntentModel.scores expects it.
    idf = np.array([math.log((1 + n) / (1 + df[name])) + 1 for name in vocabulary], dtype=np.float32)
    idf = idf.astype(np.float64)
    rows, cols, vals = [], [], []
    for row, doc in enumerate(docs):
        idx = sorted({index[f] for f in doc if f in index})
        weights = idf[idx]
        norm = math.sqrt(float(weights @ weights)) or 1.0
        rows += [row] * len(idx)
        cols += idx
        vals += list(weights / norm)
    matrix = csr_matrix((vals, (rows, cols)), shape=(n, len(vocabulary)))
    labels = [ex.intent for ex in examples]
    counts = {label: labels.count(label) for label in set(labels)}
    weights = {label: n / (len(counts) * count) for label, count in counts.items()}
    weights["other"] *= OTHER_WEIGHT
    classifier = LogisticRegression(C=C, max_iter=3000, class_weight=weights)
    classifier.fit(matrix, labels)
    payload = {
        "format": 1,
        "trained_on": {"examples": n, "features": len(vocabulary)},
        "data_digest": data_digest(),
        "classes": [str(c) for c in classifier.classes_],
        "features": vocabulary,
        "idf": encode_array(idf),
        "coef": encode_array(classifier.coef_),
        "intercept": encode_array(classifier.intercept_),
    }
    buffer = io.BytesIO()
    # mtime=0 and sorted keys: the bytes depend on the data only.
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as handle:
        handle.write(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return buffer.getvalue()


# Two builds from the same data with the same locked library versions may still differ in the last bit of a few
# float32 weights when the BLAS kernel differs between processors; that changes no score that matters.
WEIGHT_TOLERANCE = 1e-5


def artefact_differences(committed: bytes, built: bytes) -> list[str]:
    """What differs between two artefacts beyond float rounding: empty when the committed one is current."""
    old, new = (json.loads(gzip.decompress(blob)) for blob in (committed, built))
    problems = [key for key in sorted(old.keys() | new.keys())
                if key not in ("coef", "intercept") and old.get(key) != new.get(key)]
    for key in ("coef", "intercept"):
        a, b = (np.frombuffer(base64.b64decode(d[key]), dtype="<f4") for d in (old, new))
        if a.shape != b.shape or float(np.abs(a - b).max(initial=0.0)) > WEIGHT_TOLERANCE:
            problems.append(key)
    return problems


def train(path: Path = MODEL_PATH) -> dict:
    """Build the artefact and write it; returns a short summary."""
    blob = build_artefact()
    path.write_bytes(blob)
    with gzip.open(io.BytesIO(blob), "rt", encoding="utf-8") as handle:
        meta = json.load(handle)
    return {"path": str(path), "bytes": len(blob), **meta["trained_on"], "classes": meta["classes"]}
