"""Demo data of the ledger: a few tickets of 幸福里小区 and 和平街17号楼 in different states, and a notice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Building, Estate, StaffUser
from app.models.notice import Notice
from app.services import notices, tickets_flow
from app.services.demo import OLD_ESTATE, SINGLE_BUILDING
from app.services.tickets import create_ticket

# key, estate, building, kind, category, description, spot, days ago, steps [(staff, action, note)], rating
DEMO = [
    ("demo-t1", OLD_ESTATE, "1", "report", "lighting", "1单元三楼楼道灯不亮，晚上上楼看不见", "楼道", 6,
     [("lzz1", "assign:fuwu", ""), ("fuwu", "accept", ""), ("fuwu", "done", "已更换声控灯泡")], "satisfied"),
    ("demo-t2", OLD_ESTATE, "2", "report", "security", "单元门禁关不上，陌生人随便进", "单元门口", 2,
     [("lzz2", "accept", ""), ("lzz2", "start", "已联系门禁厂家，配件明天到")], None),
    ("demo-t3", OLD_ESTATE, "3", "report", "water", "地下室下水道堵了，有异味", "地下室", 3, [], None),
    ("demo-t4", OLD_ESTATE, "1", "complaint", "noise", "楼上晚上十点以后还在装修，很吵", "", 1,
     [("shequ", "accept", "")], None),
    ("demo-t5", SINGLE_BUILDING, "1", "report", "structure", "楼顶防水层破了，顶楼下雨渗水", "楼顶", 4,
     [("shequ", "assign:fuwu", ""), ("fuwu", "accept", ""), ("fuwu", "done", "已补刷防水涂料，请雨后观察")], None),
]


def _staff(username: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def seed() -> None:
    """Add the demo tickets and notice (safe to run twice: client keys and titles make it idempotent)."""
    now = clock.now()
    for key, estate_name, number, kind, category, text, spot, days, steps, rating in DEMO:
        building_id = db.session.scalar(select(Building.id).join(Estate, Estate.id == Building.estate_id)
                                        .where(Estate.name == estate_name, Building.number == number))
        if building_id is None:
            continue
        with clock.frozen_at(now - timedelta(days=days)):
            result = create_ticket(openid=f"o-demo-{key}", kind=kind, category=category, description=text,
                                   building_id=building_id, spot=spot, client_key=key, source="h5",
                                   confirmed_new=True)
            if result.outcome != "created":
                continue  # seeded before
            for hours, (username, action, note) in enumerate(steps, start=2):
                clock.advance(timedelta(hours=hours))
                user = _staff(username)
                if action.startswith("assign:"):
                    tickets_flow.assign(user, result.ticket.id, _staff(action.split(":")[1]).id)
                else:
                    tickets_flow.transition(user, result.ticket.id, action, note)
            if rating:
                clock.advance(timedelta(hours=3))
                tickets_flow.rate(f"o-demo-{key}", result.ticket.id, rating, "师傅来得很快")
    estate = db.session.scalar(select(Estate).where(Estate.name == OLD_ESTATE))
    title = "1号楼、2号楼明天停水"
    if estate is not None and db.session.scalar(select(Notice.id).where(Notice.title == title)) is None:
        buildings = db.session.scalars(select(Building.id).where(Building.estate_id == estate.id,
                                                                 Building.number.in_(["1", "2"]))).all()
        notices.publish_notice(_staff("shequ"), estate.id, kind="water", title=title,
                               body="因供水管网检修，明天 9:00 至 15:00 停水，请提前储水。给您带来不便，敬请谅解。",
                               building_ids=list(buildings), valid_until=now + timedelta(days=2))
