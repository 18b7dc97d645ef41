"""split_cost(): exact sums, shares within one fen, the tie rules, and refusals."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.fees import split_cost

D = Decimal


def test_even_split():
    assert split_cost(300, [("a", D("50")), ("b", D("50")), ("c", D("50"))]) == {"a": 100, "b": 100, "c": 100}


def test_leftover_goes_to_largest_remainder():
    # 100 fen over 3 equal rooms: 33.33 each, one leftover fen; tie on remainder and area → room id order.
    assert split_cost(100, [("b", D("60")), ("a", D("60")), ("c", D("60"))]) == {"a": 34, "b": 33, "c": 33}


def test_tie_on_remainder_prefers_larger_area():
    # shares 10 * 1/4 = 2.5 and 10 * 3/4 = 7.5: equal remainders .5 → the one leftover fen goes to the larger room
    assert split_cost(10, [("small", D("25")), ("big", D("75"))]) == {"small": 2, "big": 8}
    result = split_cost(1, [("x", D("50")), ("y", D("70.5")), ("z", D("50"))])
    # exact shares 0.29, 0.41, 0.29: y has the largest remainder
    assert result == {"x": 0, "y": 1, "z": 0}
    tie = split_cost(1, [("x", D("50")), ("y", D("50.00"))])
    assert tie == {"x": 1, "y": 0}  # same remainder and area → smaller room id


def test_larger_area_wins_a_remainder_tie():
    # 3 fen over areas 1, 2, 3 (total 6): exact 0.5, 1.0, 1.5 → floors 0, 1, 1, leftover 1;
    # remainders .5 (area 1) and .5 (area 3) tie → the larger area (room "c") gets it.
    assert split_cost(3, [("a", D("1")), ("b", D("2")), ("c", D("3"))]) == {"a": 0, "b": 1, "c": 2}


def test_zero_total():
    assert split_cost(0, [("a", D("80"))]) == {"a": 0}


@pytest.mark.parametrize("total, rooms, message", [
    (-1, [("a", D("80"))], "不能为负数"),
    (100, [], "没有参与分摊"),
    (100, [("a", D("0"))], "面积必须大于0"),
    (100, [("a", D("-5"))], "面积必须大于0"),
    (100, [("a", D("5")), ("a", D("6"))], "重复"),
])
def test_refusals(total, rooms, message):
    with pytest.raises(ValueError, match=message):
        split_cost(total, rooms)


def test_float_total_refused():
    with pytest.raises(TypeError):
        split_cost(100.0, [("a", D("5"))])


areas = st.integers(1, 200_000).map(lambda n: D(n) / 100)


@given(st.integers(0, 10**9), st.lists(areas, min_size=1, max_size=60))
def test_exact_sum_and_each_share_within_one_fen(total, area_list):
    rooms = [(f"r{i:03d}", area) for i, area in enumerate(area_list)]
    shares = split_cost(total, rooms)
    assert sum(shares.values()) == total
    whole = sum(Fraction(a) for _, a in rooms)
    for room_id, area in rooms:
        exact = total * Fraction(area) / whole
        assert exact - 1 < shares[room_id] < exact + 1
        assert shares[room_id] >= 0
