"""Voting: open with a register snapshot, cast electronic and paper ballots, receipts, turnout and reminders."""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import clock, privacy
from app.extensions import db
from app.models import (Ballot, BallotScan, Building, Person, ResidentAccount, RoleGrant, Room, SetAsideBallot,
                        StaffUser, Vote, VoteRoll)
from app.models.vote import CHOICE_LABELS
from app.services import audit, binding, outbox
from app.services.errors import DomainError, NotFound, PermissionDenied
from app.services.plans import require_office

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 10
SCAN_MAX_BYTES = 5 * 1024 * 1024
SCAN_TYPES = {"image/jpeg", "image/png", "application/pdf"}
ELECTRONIC = ("chat", "h5")
ZERO = Decimal("0.00")  # so an empty sum prints as "0.00", like the areas
DUPLICATE = "您已经投过票了，每位业主只能投一次，投票后不能更改。"
NO_ROOMS = "您名下没有参加本次表决的房屋。共有的房屋由登记的表决人投票。"


@dataclass
class Voice:
    """One register owner whose vote an account may cast: the owner's rooms in the roll (one ballot covers them
    all, as one owner counts once), the rooms of those the account holds, and the counted ballot, if any."""

    owner_key: str
    rows: list[VoteRoll]
    held: list[VoteRoll]
    ballot: Ballot | None

    @property
    def room_id(self) -> int:
        return self.held[0].room_id

    @property
    def label(self) -> str:
        return "、".join(row.label for row in self.held)

    def done_text(self) -> str:
        """'1号楼1单元101室已投票（纸质票）' — for an owner who has voted."""
        return f"{self.label}已投票（{'纸质票' if self.ballot.channel == 'paper' else '网上投票'}）"


@dataclass
class Cast:
    """A ballot just cast, with its receipt code in plain text (shown once, stored only as a hash)."""

    ballot: Ballot
    receipt: str
    note: str = ""


def _receipt_hash(code: str) -> str:
    return privacy.keyed_hash("vote-receipt|" + "".join(ch for ch in code.upper() if ch.isalnum()))


def _new_receipt() -> tuple[str, str]:
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return code, _receipt_hash(code)


def _owner_key(room: Room) -> tuple[str, int | None, bool]:
    """Who casts this room's vote: co-owners vote once through the designated voter; every developer-held room
    belongs to one "developer" head; a room without a registered owner is its own head."""
    ownerships = sorted(room.ownerships, key=lambda o: (not o.is_designated_voter, o.id))
    if any(o.developer_held or o.person.is_developer for o in ownerships):
        return "developer", ownerships[0].person_id, True
    if not ownerships:
        return f"r{room.id}", None, False
    return f"p{ownerships[0].person_id}", ownerships[0].person_id, False


def open_vote(vote: Vote, now: datetime) -> Vote:
    """Open an announced vote: snapshot every room of the estate (owner, area) and the Art. 278 totals."""
    if vote.status != "announced":
        return vote
    rooms = db.session.scalars(select(Room).where(Room.estate_id == vote.estate_id).order_by(Room.id)).all()
    missing = [room.label for room in rooms if room.area is None or room.area <= 0]
    if missing or not rooms:
        raise DomainError("台账中以下房屋缺少建筑面积，补齐后才能开始表决：" + "、".join(missing[:10])
                          if missing else "本小区台账中没有房屋，不能开始表决。")
    heads, area = set(), Decimal(0)
    for room in rooms:
        key, person_id, developer = _owner_key(room)
        db.session.add(VoteRoll(vote_id=vote.id, room_id=room.id, building_id=room.building_id, owner_key=key,
                                person_id=person_id, area=room.area, developer_held=developer, label=room.label))
        heads.add(key)
        area += room.area
    vote.total_area, vote.total_heads, vote.total_rooms = area, len(heads), len(rooms)
    vote.status, vote.opened_at, vote.open_problem = "open", now, None
    audit.record("system", "votes", "vote_open", "vote", vote.id, total_area=str(area), total_heads=len(heads),
                 total_rooms=len(rooms))
    return vote


def open_due(now: datetime) -> list[int]:
    """Job: open every announced vote whose start has come (each in its own transaction; re-runs do nothing)."""
    opened = []
    due = db.session.scalars(select(Vote.id).where(Vote.status == "announced", Vote.opens_at <= now)).all()
    for vote_id in due:
        # The row lock makes a concurrent run wait, then see the vote already open.
        vote = db.session.scalar(select(Vote).where(Vote.id == vote_id).with_for_update()
                                 .execution_options(populate_existing=True))
        try:
            if vote.status == "announced":
                open_vote(vote, now)
                opened.append(vote_id)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            vote = db.session.get(Vote, vote_id)
            if vote.open_problem != exc.message[:500]:  # keep the reason for staff; audit it once
                vote.open_problem = exc.message[:500]
                audit.record("system", "votes", "vote_open_fail", "vote", vote.id, problem=vote.open_problem)
            db.session.commit()
    return opened


def _open_vote_for_casting(vote_id: int, now: datetime) -> Vote:
    vote = db.session.get(Vote, vote_id)
    if vote is None:
        raise NotFound("没有找到这次表决。")
    if vote.status == "announced" or now < vote.opens_at:
        raise DomainError(f"表决还没有开始，{vote.opens_at:%m月%d日 %H:%M}开始。")
    if vote.status != "open" or now >= vote.closes_at:
        raise DomainError("表决已经截止，不能再投票了。")
    return vote


def voices(account: ResidentAccount, vote: Vote) -> list[Voice]:
    """The owners this account votes for in a vote: one per register owner of the rooms it holds as owner.

    Keyed by room, not by the account's first owner: an account that staff let hold two owners' rooms votes once
    for each owner. Developer rooms and rooms without a registered owner have no voice here."""
    room_ids = sorted({b.room_id for b in account.active_bindings() if b.relation == "owner"})
    if not room_ids:
        return []
    held = db.session.scalars(select(VoteRoll).where(VoteRoll.vote_id == vote.id, VoteRoll.room_id.in_(room_ids),
                                                     VoteRoll.person_id.is_not(None),
                                                     VoteRoll.developer_held.is_(False))
                              .order_by(VoteRoll.room_id)).all()
    keys = list(dict.fromkeys(row.owner_key for row in held))
    if not keys:
        return []
    rows = db.session.scalars(select(VoteRoll).where(VoteRoll.vote_id == vote.id, VoteRoll.owner_key.in_(keys))
                              .order_by(VoteRoll.room_id)).all()
    counted = {b.owner_key: b for b in db.session.scalars(select(Ballot).where(Ballot.vote_id == vote.id,
                                                                                 Ballot.owner_key.in_(keys)))}
    return [Voice(key, [r for r in rows if r.owner_key == key], [r for r in held if r.owner_key == key],
                  counted.get(key)) for key in keys]


def _pick(mine: list[Voice], room_id: int | None) -> Voice:
    if room_id is None:
        if len(mine) == 1:
            return mine[0]
        raise DomainError("您名下有几户房屋参加表决，每户单独投票，请先选择为哪套房屋投票。")
    for voice in mine:
        if any(row.room_id == room_id for row in voice.held):
            return voice
    raise PermissionDenied("您没有以业主身份绑定这套房屋，不能为它投票。")


def _set_aside(ballot: Ballot, reason: str, **detail) -> None:
    db.session.add(SetAsideBallot(vote_id=ballot.vote_id, owner_key=ballot.owner_key, choice=ballot.choice,
                                  channel=ballot.channel, cast_at=ballot.cast_at, entered_by=ballot.entered_by,
                                  scan_id=ballot.scan_id, receipt_hash=ballot.receipt_hash, reason=reason,
                                  detail=detail))


def _kind(channel: str) -> str:
    return "paper" if channel == "paper" else "electronic"


def _record(vote: Vote, roll: list[VoteRoll], choice: str, channel: str, now: datetime, *, account_id=None,
            entered_by=None, scan_id=None, label: str = "") -> Cast:
    """Insert or (where the estate's rule allows) replace the owner's ballot; the caller commits.

    `label` names the rooms in refusals, for an account that votes for more than one owner."""
    duplicate = f"{label}已经投过票了，每位业主只能投一次，投票后不能更改。" if label else DUPLICATE
    if choice not in CHOICE_LABELS:
        raise DomainError("请选择：同意、反对或弃权。")
    owner_key = roll[0].owner_key
    existing = db.session.scalar(select(Ballot).where(Ballot.vote_id == vote.id, Ballot.owner_key == owner_key)
                                 .with_for_update())
    code, digest = _new_receipt()
    note = ""
    if existing is not None:
        same_kind = _kind(existing.channel) == _kind(channel)
        if same_kind and not vote.allow_change_until_close:
            raise DomainError(duplicate)
        if not same_kind and _kind(channel) != vote.both_ways_rule:
            if channel in ELECTRONIC:
                raise DomainError(f"{label or '您'}的纸质表决票已登记，按本小区规则以纸质票为准，网上不能再投。")
            # A paper ballot that loses under the estate's rule: keep it and its scan on file, count the other.
            loser = Ballot(vote_id=vote.id, owner_key=owner_key, choice=choice, channel=channel, cast_at=now,
                           entered_by=entered_by, scan_id=scan_id, receipt_hash=digest)
            _set_aside(loser, "both_ways", counted_channel=existing.channel)
            return Cast(existing, code, note="该业主已通过其他方式投票，按本小区规则以原票为准，本票存档不计入。")
        _set_aside(existing, "changed" if same_kind else "both_ways", replaced_by_channel=channel)
        existing.choice, existing.channel, existing.cast_at = choice, channel, now
        existing.account_id, existing.entered_by, existing.scan_id = account_id, entered_by, scan_id
        existing.receipt_hash = digest
        note = "已更改，以本次为准。"
        return Cast(existing, code, note=note)
    ballot = Ballot(vote_id=vote.id, owner_key=owner_key, person_id=roll[0].person_id,
                    rooms=[row.room_id for row in roll], choice=choice, channel=channel, account_id=account_id,
                    entered_by=entered_by, scan_id=scan_id, receipt_hash=digest, cast_at=now)
    db.session.add(ballot)
    try:
        db.session.flush()
    except IntegrityError:
        # Two casts raced: the database constraint let exactly one in; undo everything of this one.
        db.session.rollback()
        raise DomainError(duplicate) from None
    return Cast(ballot, code, note=note)


def cast(openid: str, vote_id: int, choice: str, channel: str = "h5", room_id: int | None = None) -> Cast:
    """An owner votes electronically (chat or H5) for the owner of `room_id` (needed when the account holds rooms
    of several owners); refused with a message, nothing written, when not allowed."""
    if channel not in ELECTRONIC:
        raise PermissionDenied("纸质票只能由工作人员登记。")
    try:
        now = clock.now()
        vote = _open_vote_for_casting(vote_id, now)
        binding.require_owner_binding(openid)
        account = binding.account_for(openid)
        mine = voices(account, vote)
        if not mine:
            raise PermissionDenied(NO_ROOMS)
        voice = _pick(mine, room_id)
        result = _record(vote, voice.rows, choice, channel, now, account_id=account.id,
                         label=voice.label if len(mine) > 1 else "")
        audit.record("resident", account.id, "ballot_cast", "vote", vote.id, owner_key=result.ballot.owner_key,
                     channel=channel, rooms=len(voice.rows), note=result.note)
        db.session.commit()
        return result
    except DomainError:
        db.session.rollback()
        raise


def enter_paper(user, vote_id: int, room_id: int, choice: str, scan: bytes, filename: str,
                mimetype: str) -> Cast:
    """Staff enter a paper ballot for the owner of a room, with the scan of the paper; recorded as theirs."""
    try:
        vote = db.session.get(Vote, vote_id)
        if vote is None:
            raise NotFound()
        require_office(user, vote.estate_id)
        now = clock.now()
        _open_vote_for_casting(vote_id, now)
        if not scan:
            raise DomainError("请上传纸质表决票的扫描件或照片。")
        if len(scan) > SCAN_MAX_BYTES or mimetype not in SCAN_TYPES:
            raise DomainError("扫描件须为 JPG、PNG 或 PDF，且不超过 5MB。")
        row = db.session.scalar(select(VoteRoll).where(VoteRoll.vote_id == vote.id, VoteRoll.room_id == room_id))
        if row is None:
            raise DomainError("这个房屋不在本次表决的名册中。")
        roll = list(db.session.scalars(select(VoteRoll).where(VoteRoll.vote_id == vote.id,
                                                              VoteRoll.owner_key == row.owner_key)))
        stored = BallotScan(filename=(filename or "scan")[-120:], mimetype=mimetype, data=scan,
                            sha256=hashlib.sha256(scan).hexdigest())
        db.session.add(stored)
        db.session.flush()
        result = _record(vote, roll, choice, "paper", now, entered_by=user.id, scan_id=stored.id, label=row.label)
        audit.record_staff(user, "ballot_paper", "vote", vote.id, owner_key=row.owner_key, room_id=room_id,
                           scan_id=stored.id, scan_sha256=stored.sha256, note=result.note)
        db.session.commit()
        return result
    except DomainError:
        db.session.rollback()
        raise


def check_receipt(code: str, person_ids: Collection[int] | int | None = None) -> dict:
    """What a receipt code proves: the ballot counts (and, to its owner — one of `person_ids` — how they voted)."""
    owners = {person_ids} if isinstance(person_ids, int) else set(person_ids or ())
    digest = _receipt_hash(code or "")
    ballot = db.session.scalar(select(Ballot).where(Ballot.receipt_hash == digest))
    if ballot is None:
        aside = db.session.scalar(select(SetAsideBallot).where(SetAsideBallot.receipt_hash == digest))
        if aside is not None:
            return {"status": "set_aside", "message": "这张票已被更改或按规则不计入，以您最后一次有效投票为准。"}
        raise NotFound("没有找到这个回执码，请核对后重新输入。")
    vote = db.session.get(Vote, ballot.vote_id)
    info = {"status": "counted", "plan": vote.plan.title, "cast_at": ballot.cast_at, "channel": ballot.channel,
            "message": "您的表决票已记录，将计入结果。"}
    if ballot.person_id is not None and ballot.person_id in owners:
        info["choice"] = CHOICE_LABELS[ballot.choice]
    return info


def receipt_owners(account: ResidentAccount) -> set[int]:
    """The register persons whose ballots this account casts (their receipts may show the choice to it)."""
    return {_owner_key(b.room)[1] for b in account.active_bindings() if b.relation == "owner"} - {None}


def turnout(vote: Vote) -> dict:
    """Live turnout (staff only): per building and overall, rooms, area and owners who voted — no choices."""
    rows = db.session.scalars(select(VoteRoll).where(VoteRoll.vote_id == vote.id)).all()
    voted = set(db.session.scalars(select(Ballot.owner_key).where(Ballot.vote_id == vote.id)))
    names = {b.id: b.name for b in db.session.scalars(select(Building).where(Building.estate_id == vote.estate_id))}
    per = defaultdict(lambda: {"rooms": 0, "voted_rooms": 0, "area": ZERO, "voted_area": ZERO})
    for row in rows:
        item = per[row.building_id]
        item["rooms"] += 1
        item["area"] += row.area
        if row.owner_key in voted:
            item["voted_rooms"] += 1
            item["voted_area"] += row.area
    buildings = [{"building": names.get(bid, str(bid)), **item} for bid, item in
                 sorted(per.items(), key=lambda kv_: names.get(kv_[0], ""))]
    heads = {row.owner_key for row in rows}
    voted_area = sum((row.area for row in rows if row.owner_key in voted), ZERO)
    return {"buildings": buildings, "total_heads": len(heads), "voted_heads": len(voted & heads),
            "total_area": sum((row.area for row in rows), ZERO), "voted_area": voted_area}


def remind_non_voters(now: datetime) -> int:
    """Job: send each building head the rooms of their own building that have not voted (no phones); once a day."""
    sent = 0
    for vote in db.session.scalars(select(Vote).where(Vote.status == "open", Vote.opens_at <= now,
                                                      Vote.closes_at > now)).all():
        voted = set(db.session.scalars(select(Ballot.owner_key).where(Ballot.vote_id == vote.id)))
        missing = defaultdict(list)
        for row in db.session.scalars(select(VoteRoll).where(VoteRoll.vote_id == vote.id)
                                      .order_by(VoteRoll.building_id, VoteRoll.room_id)):
            if row.owner_key not in voted and row.person_id is not None and not row.developer_held:
                missing[row.building_id].append(row.label)
        for building_id, labels in missing.items():
            heads = db.session.scalars(select(StaffUser).join(RoleGrant, RoleGrant.user_id == StaffUser.id)
                                       .where(RoleGrant.role == "building_head", RoleGrant.scope_type == "building",
                                              RoleGrant.scope_id == building_id, StaffUser.openid.is_not(None),
                                              StaffUser.active.is_(True))).all()
            shown = "、".join(labels[:30]) + (f" 等{len(labels)}户" if len(labels) > 30 else "")
            text = (f"【表决提醒】《{vote.plan.title}》{vote.closes_at:%m月%d日 %H:%M}截止，本楼还有{len(labels)}户"
                    f"未投票：{shown}。请提醒业主本人投票（不能代投）。")
            for head in heads:
                outbox.enqueue(head.openid, "text", {"text": text},
                               key=f"vote-remind:{vote.id}:{building_id}:{head.id}:{now:%Y%m%d}")
                sent += 1
        audit.record("system", "votes", "vote_remind", "vote", vote.id, buildings=len(missing))
    db.session.commit()
    return sent


def owner_label(owner_key: str) -> str:
    """A name for an owner key in the committee export ('开发商' for developer rooms)."""
    if owner_key == "developer":
        return "开发商（未售房屋）"
    if owner_key.startswith("p") and owner_key[1:].isdigit():
        person = db.session.get(Person, int(owner_key[1:]))
        return person.name if person else owner_key
    return "（台账未登记业主）"
