"""The owners' vote under 民法典 Art. 278: tally() is a pure function over rooms, in exact arithmetic."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction

CHOICES = ("agree", "disagree", "abstain")
DEVELOPER_KEY = "\x00developer"


class VotingError(ValueError):
    """The ballots cannot be counted as given (e.g. one owner voted two ways)."""


@dataclass(frozen=True)
class RoomVote:
    """One room's vote: co-owners cast one; rooms with the same owner_key are one owner."""

    room_id: str
    owner_key: str
    area: Decimal
    choice: str | None
    developer_held: bool = False


@dataclass(frozen=True)
class Figures:
    """Area and headcount totals of one count."""

    participating_area: Decimal
    participating_heads: int
    agree_area: Decimal
    agree_heads: int
    quorum_met: bool
    passed: bool


@dataclass(frozen=True)
class TallyResult:
    """The outcome: totals, participation, agreement, quorum and the decision (raw, and adjusted if 从众)."""

    tier: str
    total_area: Decimal
    total_heads: int
    participating_area: Decimal
    participating_heads: int
    agree_area: Decimal
    agree_heads: int
    quorum_met: bool
    passed: bool
    raw: Figures | None = None
    adjusted: Figures | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Owner:
    area: Decimal
    choice: str | None


def _owners(rooms) -> dict[str, _Owner]:
    """Merge rooms into owners: the same owner_key (or every developer-held room) is one person."""
    owners: dict[str, _Owner] = {}
    voted: dict[str, str | None] = {}
    for room in rooms:
        if room.choice not in CHOICES and room.choice is not None:
            raise VotingError(f"room {room.room_id}: unknown choice {room.choice!r}")
        area = Decimal(room.area)
        if area <= 0:
            raise VotingError(f"room {room.room_id}: area must be positive")
        key = DEVELOPER_KEY if room.developer_held else room.owner_key
        owner = owners.get(key)
        if owner is None:
            owners[key] = _Owner(area, room.choice)
            voted[key] = room.choice
            continue
        owner.area += area
        if room.choice is not None:
            if voted[key] is not None and voted[key] != room.choice:
                raise VotingError(f"owner of room {room.room_id} cast different choices for different rooms")
            voted[key] = owner.choice = room.choice
    return owners


def _decide(tier: str, total_area: Decimal, total_heads: int, part_area: Decimal, part_heads: int,
            agree_area: Decimal, agree_heads: int, quorum_met: bool) -> bool:
    if not quorum_met or part_heads == 0:
        return False
    if tier == "major":  # ≥ 3/4 of participating area and heads ("以上" includes the boundary)
        return 4 * agree_area >= 3 * part_area and 4 * agree_heads >= 3 * part_heads
    # ordinary: more than half ("过半数" excludes the boundary)
    return 2 * agree_area > part_area and 2 * agree_heads > part_heads


def tally(rooms, tier: str = "ordinary", follow_majority: bool = False) -> TallyResult:
    """Count a vote: quorum 2/3 of area and of heads; ordinary > 1/2, major ≥ 3/4 of participants' area and heads."""
    if tier not in ("ordinary", "major"):
        raise VotingError(f"unknown tier {tier!r}")
    owners = _owners(list(rooms))
    total_area = sum((o.area for o in owners.values()), Decimal(0))
    total_heads = len(owners)
    voters = [o for o in owners.values() if o.choice is not None]
    part_area = sum((o.area for o in voters), Decimal(0))
    part_heads = len(voters)
    agree = [o for o in voters if o.choice == "agree"]
    agree_area = sum((o.area for o in agree), Decimal(0))
    agree_heads = len(agree)
    # Decimal sums of exact inputs are exact; comparisons are integer multiples, never floats.
    quorum = total_heads > 0 and 3 * part_area >= 2 * total_area and 3 * part_heads >= 2 * total_heads
    passed = _decide(tier, total_area, total_heads, part_area, part_heads, agree_area, agree_heads, quorum)
    raw = Figures(part_area, part_heads, agree_area, agree_heads, quorum, passed)
    result = dict(tier=tier, total_area=total_area, total_heads=total_heads, participating_area=part_area,
                  participating_heads=part_heads, agree_area=agree_area, agree_heads=agree_heads,
                  quorum_met=quorum, passed=passed)
    if not follow_majority:
        return TallyResult(**result)
    return _with_follow_majority(result, raw, owners, tier)


def _with_follow_majority(result: dict, raw: Figures, owners: dict[str, _Owner], tier: str) -> TallyResult:
    """从众: non-voters follow the majority of voters — only once the quorum was met by real ballots."""
    notes = []
    if not raw.quorum_met:
        notes.append("未达到参与表决的法定人数，从众规则不适用（不能用于凑足法定人数）。")
        return TallyResult(**result, raw=raw, adjusted=raw, notes=notes)
    voters = [o for o in owners.values() if o.choice is not None]
    counts = {c: sum(1 for o in voters if o.choice == c) for c in CHOICES}
    majority = max(CHOICES, key=lambda c: (Fraction(counts[c]), c == "agree"))
    if list(counts.values()).count(counts[majority]) > 1:
        notes.append("参与表决者意见持平，未投票者不计入任何一方。")
        return TallyResult(**result, raw=raw, adjusted=raw, notes=notes)
    silent = [o for o in owners.values() if o.choice is None]
    add_area = sum((o.area for o in silent), Decimal(0))
    part_area, part_heads = raw.participating_area + add_area, raw.participating_heads + len(silent)
    agree_area = raw.agree_area + (add_area if majority == "agree" else 0)
    agree_heads = raw.agree_heads + (len(silent) if majority == "agree" else 0)
    passed = _decide(tier, result["total_area"], result["total_heads"], part_area, part_heads, agree_area,
                     agree_heads, True)
    adjusted = Figures(part_area, part_heads, agree_area, agree_heads, True, passed)
    notes.append(f"按本小区从众规则，{len(silent)} 位未投票业主计入多数意见（{majority}）。")
    result.update(passed=passed)
    return TallyResult(**result, raw=raw, adjusted=adjusted, notes=notes)


# Local rule profiles: each adds conditions on top of Art. 278 (never removes one), so none is looser.
RULE_PROFILES = {
    "art278": {"label": "民法典第二百七十八条（默认）", "notice_days": 15},
    "half_of_all": {"label": "地方规则：半数以上业主同意（按全体业主计，且须符合民法典）", "notice_days": 15},
}


def apply_profile(result: TallyResult, profile: str) -> TallyResult:
    """Apply an estate's local rule profile to an Art. 278 result; the outcome can only get stricter.

    "half_of_all" (seed 002, "经半数以上业主同意"): real agree ballots must also reach half of ALL owners by
    headcount and half of the total area ("以上" includes the boundary); 从众 votes never count towards it."""
    if profile not in RULE_PROFILES:
        raise VotingError(f"unknown rule profile {profile!r}")
    if profile == "art278" or not result.passed:
        return result
    raw_agree_area = result.raw.agree_area if result.raw else result.agree_area
    raw_agree_heads = result.raw.agree_heads if result.raw else result.agree_heads
    local_ok = 2 * raw_agree_heads >= result.total_heads and 2 * raw_agree_area >= result.total_area
    if local_ok:
        return result
    notes = list(result.notes) + ["未达到本小区规则“半数以上业主同意”（按全体业主人数和总面积计）。"]
    return replace(result, passed=False, notes=notes)
