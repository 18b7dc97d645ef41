"""The classifier artefact and the labelled data: reproducible training, data sizes, jieba kept private."""

from __future__ import annotations

from collections import Counter

from app.nlp import INTENTS
from app.nlp.dataset import DEV_PATH, SMP_SOURCE, TRAIN_PATH, dev_examples, read_tsv, smp_examples, training_examples
from app.nlp.model import MODEL_PATH, model


def test_training_is_reproducible_and_the_committed_artefact_is_current():
    from app.nlp.train import artefact_differences, build_artefact

    # The committed artefact was built in another process, on another machine: the same vocabulary, idf and data
    # digest, and weights equal up to float32 rounding, show that training is reproducible from the locked versions.
    assert artefact_differences(MODEL_PATH.read_bytes(), build_artefact()) == [], "model.json.gz is stale: run `linli nlu train`"
    assert model().classes == sorted(INTENTS)


def test_artefact_comparison_sees_a_changed_weight_and_a_changed_vocabulary():
    import base64
    import gzip
    import json

    import numpy as np

    from app.nlp.train import WEIGHT_TOLERANCE, artefact_differences

    committed = MODEL_PATH.read_bytes()
    payload = json.loads(gzip.decompress(committed))

    def variant(**changes) -> bytes:
        return gzip.compress(json.dumps({**payload, **changes}).encode())

    coef = np.frombuffer(base64.b64decode(payload["coef"]), dtype="<f4").copy()
    coef[7] += 10 * WEIGHT_TOLERANCE
    assert artefact_differences(committed, variant(coef=base64.b64encode(coef.tobytes()).decode())) == ["coef"]
    coef[7] -= 10 * WEIGHT_TOLERANCE
    coef[7] = np.nextafter(coef[7], np.float32(np.inf))  # one ulp: what another BLAS kernel may give
    assert artefact_differences(committed, variant(coef=base64.b64encode(coef.tobytes()).decode())) == []
    assert artefact_differences(committed, variant(features=payload["features"][1:])) == ["features"]


def test_enough_varied_examples_per_intent():
    ours = Counter(ex.intent for ex in read_tsv(TRAIN_PATH)[0])
    for intent in INTENTS:
        assert ours[intent] >= 60, intent
    assert sum(1 for ex in training_examples() if ex.intent == "other") >= 300


def test_dev_set_is_never_trained_on():
    train_texts = {ex.text for ex in training_examples()}
    dev, now = dev_examples()
    assert now is not None and now.tzinfo is not None
    assert not train_texts & {ex.text for ex in dev}
    assert all(ex.slots or ex.intent for ex in read_tsv(DEV_PATH)[0])


def test_smp_greetings_are_not_labelled_other():
    texts = {ex.text for ex in smp_examples("train") + smp_examples("dev")}
    assert "你能干什么啊" not in texts and "哈喽好久不见你开心吗" not in texts
    assert all(ex.source == SMP_SOURCE for ex in smp_examples("dev"))


def test_jieba_global_tokenizer_is_untouched():
    import jieba

    from app.nlp.features import tokenizer

    assert tokenizer() is not jieba.dt
    assert "一小区一方案" in tokenizer().FREQ
    assert "一小区一方案" not in jieba.dt.FREQ


def test_create_app_preloads_the_model_when_asked(tmp_path, monkeypatch):
    import app.nlp

    from app import create_app

    calls = []
    monkeypatch.setattr(app.nlp, "warm_up", lambda: calls.append("warm"))
    db_url = f"sqlite:///{tmp_path}/preload.sqlite3"
    create_app({"SQLALCHEMY_DATABASE_URI": db_url, "LINLI_NLP_PRELOAD": True, "TESTING": True})
    create_app({"SQLALCHEMY_DATABASE_URI": db_url, "LINLI_NLP_PRELOAD": False, "TESTING": True})
    assert calls == ["warm"]
