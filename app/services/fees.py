"""Fee arithmetic in integer fen: 一事一议 cost sharing by area (largest-remainder, always summing exactly)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def split_cost(total_fen: int, rooms: list[tuple[str, Decimal]]) -> dict[str, int]:
    """Share total_fen among rooms by area: floor each exact share, then hand out the leftover fen one at a time
    by largest fractional remainder (ties: larger area, then room id). The shares sum exactly to the total."""
    if not isinstance(total_fen, int) or isinstance(total_fen, bool):
        raise TypeError("total_fen must be an integer number of fen")
    if total_fen < 0:
        raise ValueError("分摊总额不能为负数。")
    if not rooms:
        raise ValueError("没有参与分摊的房屋。")
    ids = [room_id for room_id, _ in rooms]
    if len(set(ids)) != len(ids):
        raise ValueError("参与分摊的房屋有重复。")
    areas = {room_id: Fraction(Decimal(area)) for room_id, area in rooms}
    bad = [room_id for room_id, area in areas.items() if area <= 0]
    if bad:
        raise ValueError(f"房屋 {bad[0]} 的面积必须大于0。")
    total_area = sum(areas.values())
    exact = {room_id: total_fen * area / total_area for room_id, area in areas.items()}
    shares = {room_id: value.numerator // value.denominator for room_id, value in exact.items()}
    leftover = total_fen - sum(shares.values())
    order = sorted(areas, key=lambda r: (-(exact[r] - shares[r]), -areas[r], r))
    for room_id in order[:leftover]:
        shares[room_id] += 1
    return shares
