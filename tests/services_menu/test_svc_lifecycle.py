"""The order lifecycle: accept (one winner, also under two threads), decline, propose, reschedule, cancel,
complete, rate, auto-confirm — each with its refusals and the messages it queues."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Order, OutboxMessage, StaffUser
from app.services import orders
from app.services.errors import DomainError, NotFound
from svc_world import NOW

AT = datetime(2026, 11, 24, 10, 0, tzinfo=clock.TZ)


def _place(svc, item=None, key="k", openid="o-zhang", when=AT) -> str:
    with clock.frozen_at(NOW):
        order, _ = orders.place_order(openid, item or svc.unlock, when, client_key=key)
    return order.number


def _user(user_id) -> StaffUser:
    return db.session.get(StaffUser, user_id)


def _messages(openid: str) -> list[str]:
    return [m.payload["text"] for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.openid == openid).order_by(OutboxMessage.id))]


def test_full_path_accept_complete_rate(ctx, svc):
    number = _place(svc)
    with clock.frozen_at(NOW + timedelta(minutes=5)):
        order = orders.accept(_user(svc.worker_a), number)
    assert (order.status, order.provider_id, order.worker_id) == ("accepted", svc.provider_a, svc.worker_a)
    assert "邻家便民维修部已接单" in _messages("o-zhang")[-1] and "0431-88880003" in _messages("o-zhang")[-1]
    with pytest.raises(DomainError, match="已经有师傅接单"):
        orders.accept(_user(svc.worker_b), number)
    with pytest.raises(NotFound):  # the other provider cannot complete someone else's job
        orders.complete(_user(svc.worker_b), number)
    with clock.frozen_at(AT + timedelta(minutes=40)):
        orders.complete(_user(svc.worker_a), number)
        with pytest.raises(DomainError, match="1 到 5 分"):
            orders.confirm("o-zhang", number, 6)
        with pytest.raises(NotFound):
            orders.confirm("o-li", number, 5)  # not her order
        done = orders.confirm("o-zhang", number, 5, "师傅很麻利")
    assert (done.status, done.rating, done.complaint) == ("confirmed", 5, False)
    assert [e.action for e in done.events] == ["place", "accept", "complete", "rate"]
    assert "居民评价：5分" in _messages("o-worker-a")[-1]
    assert not any("评价" in text for text in _messages("o-worker-b"))


def test_low_rating_is_a_complaint(ctx, svc):
    number = _place(svc, svc.drain)
    orders.accept(_user(svc.worker_a), number)
    with clock.frozen_at(AT + timedelta(hours=1)):
        orders.complete(_user(svc.worker_a), number)
        assert orders.confirm("o-zhang", number, 2, "来晚了").complaint is True


def test_cancel_before_acceptance_only(ctx, svc):
    first, second = _place(svc, key="a"), _place(svc, key="b", when=AT + timedelta(hours=2))
    with clock.frozen_at(NOW):
        assert orders.cancel("o-zhang", first).status == "cancelled"
        assert "居民已取消" in _messages("o-worker-b")[-1]
        with pytest.raises(DomainError, match="不能取消"):
            orders.cancel("o-zhang", first)
        with pytest.raises(DomainError, match="居民已取消"):
            orders.accept(_user(svc.worker_a), first)
        orders.accept(_user(svc.worker_a), second)
        with pytest.raises(DomainError, match="师傅已经接单，不能在线取消了，请联系邻家便民维修部（电话 0431-88880003）"):
            orders.cancel("o-zhang", second)
        with pytest.raises(NotFound):
            orders.cancel("o-li", second)


def test_every_provider_declines_then_resident_is_told(ctx, svc):
    number = _place(svc)
    with clock.frozen_at(NOW):
        assert orders.decline(_user(svc.worker_a), number, "没空").status == "ordered"
        assert orders.decline(_user(svc.worker_b), number).status == "declined"
    assert "暂时没有师傅能上门" in _messages("o-zhang")[-1]


def test_provider_proposes_a_time_resident_agrees_or_not(ctx, svc):
    number = _place(svc, svc.drain)
    with clock.frozen_at(NOW):
        with pytest.raises(DomainError, match="服务时间是每天 08:00-18:00"):
            orders.propose(_user(svc.worker_a), number, AT.replace(hour=19))
        order = orders.propose(_user(svc.worker_a), number, AT + timedelta(hours=4))
        assert order.status == "reschedule" and "改到11月24日（周二）14:00" in _messages("o-zhang")[-1]
        order = orders.answer_proposal("o-zhang", number, agree=True)
    assert (order.status, order.scheduled_at, order.proposed_at) == ("accepted", AT + timedelta(hours=4), None)
    assert "居民同意" in _messages("o-worker-a")[-1]
    other = _place(svc, svc.drain, key="2")
    with clock.frozen_at(NOW):
        orders.propose(_user(svc.worker_a), other, AT + timedelta(hours=5))
        order = orders.answer_proposal("o-zhang", other, agree=False)
        assert (order.status, order.scheduled_at) == ("ordered", AT)
        with pytest.raises(DomainError):
            orders.answer_proposal("o-zhang", other, agree=True)  # no proposal is open any more


def test_resident_reschedules_accepted_order_back_to_its_provider(ctx, svc):
    number = _place(svc)
    with clock.frozen_at(NOW):
        orders.accept(_user(svc.worker_b), number)
        with pytest.raises(DomainError, match="已经过去"):
            orders.reschedule("o-zhang", number, NOW - timedelta(hours=1))
        order = orders.reschedule("o-zhang", number, AT + timedelta(days=1))
        assert (order.status, order.provider_id) == ("ordered", svc.provider_b)
        assert "改到11月25日" in _messages("o-worker-b")[-1]
        # Only the provider that had it may accept it again.
        with pytest.raises(DomainError):
            orders.accept(_user(svc.worker_a), number)
        assert orders.accept(_user(svc.worker_b), number).status == "accepted"


def test_auto_confirm_after_three_days_is_idempotent(ctx, svc):
    number = _place(svc)
    orders.accept(_user(svc.worker_a), number)
    with clock.frozen_at(AT + timedelta(hours=1)):
        orders.complete(_user(svc.worker_a), number)
    assert orders.auto_confirm(AT + timedelta(days=2)) == 0
    assert orders.auto_confirm(AT + timedelta(days=3, hours=2)) == 1
    assert orders.auto_confirm(AT + timedelta(days=4)) == 0
    assert db.session.scalar(select(Order.status)) == "confirmed"


def test_two_providers_accepting_at_once_exactly_one_wins(app, svc):
    """Two threads, two sessions, one order, released together by a barrier; repeated to vary the interleaving."""
    with app.app_context():
        numbers = [_place(svc, key=f"race-{i}", when=AT + timedelta(hours=i)) for i in range(6)]
    for number in numbers:
        barrier = threading.Barrier(2)
        results: dict[int, str] = {}

        def take(worker_id: int, number=number, barrier=barrier, results=results) -> None:
            with app.app_context():
                user = db.session.get(StaffUser, worker_id)
                barrier.wait()
                try:
                    orders.accept(user, number)
                    results[worker_id] = "won"
                except DomainError as error:
                    results[worker_id] = error.message
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=take, args=(w,)) for w in (svc.worker_a, svc.worker_b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results.values(), key=len) == ["won", f"{number} 已经有师傅接单了。"], results
        with app.app_context():
            order = db.session.scalar(select(Order).where(Order.number == number))
            winner = next(w for w, r in results.items() if r == "won")
            assert order.worker_id == winner and order.status == "accepted"
            assert [e.action for e in order.events].count("accept") == 1
            accepted_msgs = [t for t in _messages("o-zhang") if "已接单" in t and number in t]
            assert len(accepted_msgs) == 1


def test_double_submit_in_two_threads_creates_one_order(app, svc):
    """The same form posted twice at once: one order, one set of messages."""
    barrier = threading.Barrier(2)
    numbers: list[str] = []

    def submit() -> None:
        with app.app_context():
            barrier.wait()
            order, _ = orders.place_order("o-zhang", svc.unlock, AT, client_key="same-form")
            numbers.append(order.number)
            db.session.remove()

    # Frozen once, here: the clock is process-global, and nested freezes in two threads would not unwind.
    with clock.frozen_at(NOW):
        threads = [threading.Thread(target=submit) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert len(numbers) == 2 and numbers[0] == numbers[1]
    with app.app_context():
        assert db.session.scalar(select(Order.id).where(Order.number == numbers[0])) is not None
        assert len(db.session.scalars(select(Order)).all()) == 1
        assert len(_messages("o-worker-a")) == 1
