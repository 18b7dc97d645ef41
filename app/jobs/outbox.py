"""Job: send what waits in the outbox."""

from app.services.outbox import send_pending


def send_outbox() -> None:
    """Send one batch of pending messages (the sender claims rows, so overlapping runs are safe)."""
    send_pending(limit=100)
