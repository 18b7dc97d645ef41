"""Job: climb the escalation ladder for overdue tickets (and close finished ones nobody rated)."""

from app import clock
from app.services.escalation import run_escalation


def escalate_tickets() -> None:
    """One idempotent escalation run at the current time."""
    run_escalation(clock.now())
