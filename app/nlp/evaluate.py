"""Scoring understand() on a labelled file: intent accuracy, macro-F1, per-intent P/R, OOS false accepts, slots, latency."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime

from app.clock import TZ, localize
from app.nlp.dataset import INTENTS, Example

PLACE_SLOTS = ("building", "unit", "room")
SCORED_SLOTS = PLACE_SLOTS + ("service", "when")


@dataclass
class Report:
    """The figures of one evaluation run."""

    total: int = 0
    correct: int = 0
    in_scope_total: int = 0
    in_scope_correct: int = 0
    per_intent: dict = field(default_factory=dict)  # intent -> {"tp", "fp", "fn"}
    oos_total: int = 0
    oos_accepted: int = 0
    slot_total: dict = field(default_factory=dict)
    slot_exact: dict = field(default_factory=dict)
    latencies_ms: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def precision_recall(self, intent: str) -> tuple[float, float, float]:
        """Precision, recall and F1 of one intent."""
        counts = self.per_intent.get(intent, {"tp": 0, "fp": 0, "fn": 0})
        tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    @property
    def macro_f1(self) -> float:
        present = [i for i in INTENTS if i in self.per_intent]
        return sum(self.precision_recall(i)[2] for i in present) / len(present) if present else 0.0

    @property
    def false_accept_rate(self) -> float:
        return self.oos_accepted / self.oos_total if self.oos_total else 0.0

    def slot_rate(self, slot: str) -> float | None:
        total = self.slot_total.get(slot, 0)
        return self.slot_exact.get(slot, 0) / total if total else None

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def evaluate(examples: list[Example], now: datetime | None) -> Report:
    """Run understand() on every example (after a warm-up) and collect the figures."""
    from app.nlp import understand, warm_up

    warm_up()
    now = localize(now) if now is not None else None
    report = Report()
    for ex in examples:
        started = time.perf_counter()
        result = understand(ex.text, now=now)
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        gold = ex.intent.split("|")
        if len(gold) > 1:
            ok = result.intent in gold and set(result.alternatives) == set(gold)
            predicted_label = result.intent if not result.alternatives else "|".join(sorted(result.alternatives))
            gold_label = "|".join(sorted(gold))
        else:
            ok = result.intent == gold[0]
            predicted_label, gold_label = result.intent, gold[0]
        report.total += 1
        report.correct += ok
        if ex.intent != "other":
            report.in_scope_total += 1
            report.in_scope_correct += ok
        if not ok:
            report.errors.append((ex.text, ex.intent, result.intent, result.confidence))
        for label in {predicted_label, gold_label}:
            counts = report.per_intent.setdefault(label, {"tp": 0, "fp": 0, "fn": 0})
            if label == gold_label and ok:
                counts["tp"] += 1
            elif label == gold_label:
                counts["fn"] += 1
            else:
                counts["fp"] += 1
        if ex.intent == "other":
            report.oos_total += 1
            report.oos_accepted += result.intent != "other" and result.sure
        if ex.source == "linli":
            _score_slots(report, ex, result.slots)
    return report


def _score_slots(report: Report, ex: Example, predicted: dict) -> None:
    # A slot counts where the gold or the prediction has it: a wrong or spurious value is a miss.
    for slot in SCORED_SLOTS:
        gold = ex.slots.get(slot)
        got = predicted.get(slot)
        if gold is None and got is None:
            continue
        if slot == "when" and gold is not None:
            gold = datetime.fromisoformat(gold).replace(tzinfo=TZ)
        report.slot_total[slot] = report.slot_total.get(slot, 0) + 1
        if gold == got:
            report.slot_exact[slot] = report.slot_exact.get(slot, 0) + 1
        else:
            report.errors.append((ex.text, f"slot {slot}={gold}", got, None))


def summary(report: Report) -> list[str]:
    """The report as printable lines."""
    lines = [f"examples: {report.total}",
             f"intent accuracy: {report.accuracy:.1%}",
             f"in-scope intent accuracy: {report.in_scope_correct / max(1, report.in_scope_total):.1%} "
             f"(n={report.in_scope_total})",
             f"macro-F1: {report.macro_f1:.3f}",
             f"out-of-scope false-accept: {report.false_accept_rate:.1%} ({report.oos_accepted}/{report.oos_total})",
             "per intent (precision / recall / F1):"]
    for label in sorted(report.per_intent, key=lambda k: (k not in INTENTS, INTENTS.index(k) if k in INTENTS else 0)):
        p, r, f = report.precision_recall(label)
        lines.append(f"  {label:<28} {p:6.1%} {r:6.1%} {f:6.3f}")
    lines.append("slots (exact match):")
    for slot in SCORED_SLOTS:
        rate = report.slot_rate(slot)
        total = report.slot_total.get(slot, 0)
        lines.append(f"  {slot:<10} {'—' if rate is None else f'{rate:.1%}'} (n={total})")
    lines.append(f"latency per message: p50 {report.percentile(0.5):.2f} ms, p99 {report.percentile(0.99):.2f} ms, "
                 f"mean {statistics.fmean(report.latencies_ms) if report.latencies_ms else 0:.2f} ms")
    return lines
