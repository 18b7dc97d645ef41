"""Demo data for votes: a 幸福里小区 plan (菜单式 + 楼栋长志愿, 0.30 元/㎡/月 quarterly) with a vote under way."""

from __future__ import annotations

import io
import random
from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Estate, Plan, ResidentAccount, Room, RoomBinding, StaffUser
from app.services import ballots, plans
from app.services.demo import OLD_ESTATE
from app.services.fonts import pil_font

TITLE = "幸福里小区物业管理方案（菜单式服务+楼栋长志愿服务）"
BODY = """一、管理区域：光明路88号院内1-6号楼，东、北两侧加装围栏，南门设门岗，西门封闭。
二、设施完善：南门门岗一处（含道闸），院内及楼道口加装监控12路，补齐路灯6盏，划定车位40个。
三、管理方式：楼栋长志愿服务负责日常巡查和报事；保洁、维修采用菜单式服务，按次付费，价格公示。
四、服务内容：门岗值守（7:00-22:00）、公共区域每日清扫、绿化每月修剪一次、公共设施维修。
五、收费标准：0.30元/㎡/月，按季度收取；公共收益（广告位、快递柜）全部用于小区，每季度公示。
六、资金来源：业主缴纳的服务费、公共收益、街道“六有”奖补资金。
七、本方案经业主表决通过后实施，试行一年后重新征求意见。"""


def _scan_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 120), "white")
    ImageDraw.Draw(image).text((10, 44), "纸质表决票（演示）", font=pil_font(24), fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def seed() -> None:
    """Add the plan, an open vote and some ballots; does nothing if the demo plan already exists."""
    estate = db.session.scalar(select(Estate).where(Estate.name == OLD_ESTATE))
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == "shequ"))
    if estate is None or staff is None:
        return
    if db.session.scalar(select(Plan.id).where(Plan.estate_id == estate.id, Plan.title == TITLE)) is not None:
        return
    now = clock.now()
    with clock.frozen_at(now - timedelta(days=20)):
        plan = plans.create_plan(
            staff, estate.id, title=TITLE, tier="ordinary", body=BODY,
            area_scope="光明路88号院内1-6号楼（东、北两侧加装围栏）", six_haves=["gate", "cleaning", "security", "parking"],
            facilities=["gatehouse", "barrier", "cctv", "lighting"], facilities_note="南门门岗含道闸；监控12路",
            management_modes=["menu", "volunteer"], services=["门岗值守", "公共区域清扫", "绿化修剪", "公共设施维修"],
            fee_mode="per_area", fee_amount_fen=30, fee_cycle="quarterly",
            funding=["业主缴纳服务费", "公共收益（广告位、快递柜）", "街道六有奖补资金"])
        plans.publish(staff, plan.id)
    with clock.frozen_at(now - timedelta(days=17)):
        vote = plans.put_to_vote(staff, plan.id, now - timedelta(days=1), now + timedelta(days=14))
    ballots.open_due(now)
    db.session.refresh(vote)
    _cast_some(vote, staff, now)


def _cast_some(vote, staff, now) -> None:
    """Bind demo owner accounts to about half of the owners and let most of them vote; two paper ballots."""
    rng = random.Random(278)
    rooms = db.session.scalars(select(Room).where(Room.estate_id == vote.estate_id).order_by(Room.id)).all()
    seen, owners = set(), []
    for room in rooms:
        voter = next((o for o in room.ownerships if o.is_designated_voter and not o.developer_held), None)
        if voter is not None and voter.person_id not in seen:
            seen.add(voter.person_id)
            owners.append((room, voter))
    for index, (room, voter) in enumerate(owners[: len(owners) // 2]):
        account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == f"demo-owner-{index}"))
        if account is None:
            account = ResidentAccount(openid=f"demo-owner-{index}", subscribed=True, person_id=voter.person_id)
            db.session.add(account)
            db.session.flush()
            db.session.add(RoomBinding(account_id=account.id, room_id=room.id, relation="owner", status="bound",
                                       method="demo", decided_at=now))
    db.session.commit()
    for index in range(len(owners) // 2):
        if rng.random() < 0.75:
            choice = rng.choices(["agree", "disagree", "abstain"], weights=[7, 2, 1])[0]
            ballots.cast(f"demo-owner-{index}", vote.id, choice, channel=rng.choice(["h5", "chat"]))
    scan = _scan_png()
    for room, _voter in owners[len(owners) // 2: len(owners) // 2 + 2]:
        ballots.enter_paper(staff, vote.id, room.id, "agree", scan, "paper-ballot.png", "image/png")

