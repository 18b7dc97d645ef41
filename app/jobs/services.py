"""Job: close 菜单式 orders the resident never confirmed."""

from app import clock
from app.services.orders import auto_confirm


def auto_confirm_orders() -> None:
    """Confirm orders done more than three days ago (idempotent: a confirmed order is not touched again)."""
    auto_confirm(clock.now())
