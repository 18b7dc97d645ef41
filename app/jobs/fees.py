"""Jobs of the fees capability: generate bills, climb the reminder ladder, build the street office's monthly report."""

from app import clock


def generate_bills() -> None:
    """Bill every started, unbilled period of every active schedule, then offset bills with credits."""
    from app.services.payments import generate_and_offset

    generate_and_offset(clock.now().date())


def remind() -> None:
    """One idempotent pass of the reminder ladder (estates in quiet hours wait for the next run)."""
    from app.services.reminders import run_reminders

    run_reminders(clock.now())


def monthly_report() -> None:
    """Last month's report for every street, once."""
    from app.services.ledger import generate_monthly_reports

    generate_monthly_reports(clock.now().date())
