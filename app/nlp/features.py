"""Features of a message for the intent classifier: jieba words (with the estate dictionary) plus character n-grams.

The same code builds features at training and at prediction time, so the two can never drift apart.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from app.nlp.text import digits

DATA_DIR = Path(__file__).resolve().parent / "data"
USER_DICT = DATA_DIR / "userdict.txt"

_tokenizer = None
_lock = threading.Lock()
_DIGIT_RUN = re.compile(r"\d+")
_LETTER_RUN = re.compile(r"[a-z]+")


def tokenizer():
    """Our own jieba Tokenizer with the estate dictionary (jieba's global tokenizer stays untouched)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                # jieba logs its dictionary loading at DEBUG on its own logger; keep it out of the app log.
                logging.getLogger("jieba").setLevel(logging.WARNING)
                instance = jieba.Tokenizer()
                instance.load_userdict(str(USER_DICT))
                _tokenizer = instance
    return _tokenizer


def shape(text: str) -> str:
    """The classification view of a cleaned message: addresses become one mark, other numbers '0'."""
    from app.nlp.slots import mask_place

    view = mask_place(digits(text))
    view = _DIGIT_RUN.sub("0", view)
    return re.sub(r"\s+", " ", view).strip()


def features(text: str) -> list[str]:
    """Feature strings of a cleaned message, each once: words ("w:"), word pairs ("b:") and character 1–3-grams with
    edges ("c:"). Their order means nothing (training sorts the vocabulary, scoring sums)."""
    view = shape(text)
    compact = view.replace(" ", "")
    words = [w for w in tokenizer().lcut(view, HMM=True) if w.strip()]
    found = {f"w:{_LETTER_RUN.sub('a', w) if w.isascii() else w}" for w in words}
    found.update([f"b:{left}|{right}" for left, right in zip(words, words[1:])])
    padded = f"^{compact}$"
    end = len(padded)
    found.update(["c:" + char for char in padded if char not in "^$"])  # the edges alone are no feature
    found.update(["c:" + padded[start:start + 2] for start in range(end - 1)])
    found.update(["c:" + padded[start:start + 3] for start in range(end - 2)])
    return list(found)
