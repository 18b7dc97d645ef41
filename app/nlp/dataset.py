"""The labelled data of app/nlp/data/: our own examples, the dev set, and the SMP2017-ECDT out-of-scope text.

smp2017_ecdt_task1.tsv is the public SMP2017-ECDT task 1 data (NOXITONG/SMP2017-ECDT-task1,
preprocessing/Chinese_data.csv), used as real out-of-scope text for the `other` intent. Its `chat` tag also holds
greetings and "what can you do" questions, which are in scope here (greeting), so those lines are left out rather than
labelled `other`. Every fifth kept line goes to the dev set and is never trained on.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.nlp.features import DATA_DIR

INTENTS = ("report_issue", "order_service", "complaint", "fee", "vote", "notice", "progress", "bind", "human",
           "greeting", "other")
TRAIN_PATH = DATA_DIR / "train.tsv"
DEV_PATH = DATA_DIR / "dev.tsv"
SMP_PATH = DATA_DIR / "smp2017_ecdt_task1.tsv"
SMP_SOURCE = "SMP2017-ECDT task 1 (github.com/NOXITONG/SMP2017-ECDT-task1)"
DEV_EVERY = 5

# Lines of the SMP `chat` tag that are greetings or capability questions: in scope for Linli, so never `other`.
_SMP_GREETING = re.compile(
    r"^(你好|您好|嗨|哈喽|hello|hi)|谢谢|多谢|再见|拜拜|晚安|早上好|晚上好|中午好|在吗|在不在|你是谁|你叫什么|"
    r"叫啥|名字|(能|可以|会|都会)(做|干|帮)|能干(嘛|什么|啥)|干啥的|做什么的|还能(做|干|聊)|会什么|会啥|"
    r"有什么用|帮助|菜单|功能|好久不见", re.IGNORECASE)


@dataclass(frozen=True)
class Example:
    """One labelled message; slots are the gold slots of dev examples (when as an ISO string)."""

    intent: str
    text: str
    slots: dict = field(default_factory=dict)
    source: str = "linli"


def read_tsv(path: Path) -> tuple[list[Example], dict]:
    """Examples of a `intent<TAB>text[<TAB>slots JSON]` file, and its `# key: value` header settings."""
    examples, settings = [], {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep and key.strip().isidentifier():
                settings[key.strip()] = value.strip()
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not all(name in INTENTS for name in parts[0].split("|")):
            raise ValueError(f"{path.name}:{number}: expected intent<TAB>text, got {line!r}")
        slots = json.loads(parts[2]) if len(parts) > 2 and parts[2].strip() else {}
        examples.append(Example(parts[0], parts[1], slots))
    return examples, settings


def smp_examples(part: str) -> list[Example]:
    """Out-of-scope SMP2017-ECDT lines for `train` or `dev` (greeting-like chat lines left out)."""
    kept = []
    for line in SMP_PATH.read_text(encoding="utf-8").splitlines()[1:]:
        sentence, _, tag = line.partition("\t")
        sentence = sentence.strip()
        if not sentence or (tag.strip() == "chat" and _SMP_GREETING.search(sentence)):
            continue
        kept.append(Example("other", sentence, source=SMP_SOURCE))
    return [ex for i, ex in enumerate(kept) if (i % DEV_EVERY == 0) == (part == "dev")]


def training_examples() -> list[Example]:
    """Everything the classifier is trained on: our examples plus the training share of SMP2017-ECDT."""
    return read_tsv(TRAIN_PATH)[0] + smp_examples("train")


def dev_examples(path: Path = DEV_PATH) -> tuple[list[Example], datetime | None]:
    """The dev set (our annotated examples plus the dev share of SMP2017-ECDT) and its reference `now`."""
    examples, settings = read_tsv(path)
    now = datetime.fromisoformat(settings["now"]) if "now" in settings else None
    if Path(path).resolve() == DEV_PATH:
        examples += smp_examples("dev")
    return examples, now


def data_digest() -> str:
    """A hash of every file (data and feature code) training reads, stored in the artefact to detect a stale model."""
    digest = hashlib.sha256()
    code = Path(__file__).resolve().parent
    for path in (TRAIN_PATH, SMP_PATH, DATA_DIR / "userdict.txt", code / "features.py", code / "text.py",
                 code / "slots.py"):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
