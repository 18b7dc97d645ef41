"""tally() at every boundary of 民法典 Art. 278, in exact arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.voting import RoomVote, VotingError, tally

D = Decimal


def rooms(*specs):
    """specs: (area, choice) per room, each room its own owner."""
    return [RoomVote(f"r{i}", f"o{i}", D(str(area)), choice) for i, (area, choice) in enumerate(specs)]


def test_quorum_exactly_two_thirds_is_met():
    # 3 owners of 100 ㎡: 2 take part → exactly 2/3 of heads and of area.
    result = tally(rooms((100, "agree"), (100, "agree"), (100, None)))
    assert (result.total_heads, result.participating_heads) == (3, 2)
    assert result.total_area == D(300) and result.participating_area == D(200)
    assert result.quorum_met and result.passed


@pytest.mark.parametrize("absent_area, met", [("100.01", False), ("99.99", True)])
def test_quorum_area_boundary_by_a_hundredth(absent_area, met):
    result = tally(rooms((100, "agree"), (100, "agree"), (absent_area, None)))
    assert result.quorum_met is met


def test_quorum_needs_heads_as_well_as_area():
    # Big owners hold the area, but only 1 of 3 heads votes.
    result = tally(rooms((1000, "agree"), (1, None), (1, None)))
    assert 3 * result.participating_area >= 2 * result.total_area
    assert not result.quorum_met and not result.passed


def test_ordinary_exactly_half_fails_and_a_hundredth_more_passes():
    half = tally(rooms((100, "agree"), (100, "disagree")))
    assert half.quorum_met and not half.passed  # exactly 1/2 of heads and area is not "过半数"
    heads_half_area_more = tally(rooms(("100.01", "agree"), (100, "disagree")))
    assert not heads_half_area_more.passed  # heads still exactly 1/2
    area_a_hundredth_short = tally(rooms((100, "agree"), (100, "agree"), ("200.01", "disagree")))
    assert not area_a_hundredth_short.passed  # 2 of 3 heads, but area 200 of 400.01
    area_exactly_half = tally(rooms((100, "agree"), (100, "agree"), (200, "disagree")))
    assert not area_exactly_half.passed
    area_a_hundredth_over = tally(rooms((100, "agree"), ("100.01", "agree"), (200, "disagree")))
    assert area_a_hundredth_over.passed


def test_ordinary_needs_both_area_and_heads_majority():
    # Area majority but head minority.
    result = tally(rooms((300, "agree"), (100, "disagree"), (100, "disagree")))
    assert 2 * result.agree_area > result.participating_area
    assert not result.passed


def test_abstain_participates_but_does_not_agree():
    result = tally(rooms((100, "agree"), (100, "abstain")))
    assert result.participating_heads == 2 and result.agree_heads == 1
    assert result.quorum_met and not result.passed


@pytest.mark.parametrize("agree_area, passed", [("75", True), ("74.99", False)])
def test_major_three_quarters_boundary(agree_area, passed):
    # 4 heads take part; 3 agree (exactly 3/4 of heads); area decides at the boundary.
    disagree_area = D(100) - D(agree_area)
    specs = [(D(agree_area) / 3, "agree")] * 3 + [(disagree_area, "disagree")]
    result = tally([RoomVote(f"r{i}", f"o{i}", area, c) for i, (area, c) in enumerate(specs)], tier="major")
    assert result.quorum_met
    assert 4 * result.agree_heads == 3 * result.participating_heads
    assert result.passed is passed


def test_owner_with_several_rooms_counts_once_with_summed_area():
    votes = [RoomVote("101", "zhang", D("80"), "agree"), RoomVote("102", "zhang", D("60"), "agree"),
             RoomVote("201", "li", D("90"), "disagree")]
    result = tally(votes)
    assert result.total_heads == 2 and result.total_area == D("230")
    assert result.agree_area == D("140") and result.agree_heads == 1


def test_owner_with_several_rooms_voting_differently_is_an_error():
    votes = [RoomVote("101", "zhang", D("80"), "agree"), RoomVote("102", "zhang", D("60"), "disagree")]
    with pytest.raises(VotingError):
        tally(votes)


def test_owner_voting_for_one_of_two_rooms_votes_for_both():
    votes = [RoomVote("101", "zhang", D("80"), "agree"), RoomVote("102", "zhang", D("60"), None),
             RoomVote("201", "li", D("90"), None)]
    result = tally(votes)
    assert result.participating_area == D("140") and result.participating_heads == 1


def test_all_developer_rooms_are_one_person():
    votes = [RoomVote(f"d{i}", f"dev-{i}", D("50"), None, developer_held=True) for i in range(10)]
    votes += [RoomVote("a", "a", D("50"), "agree"), RoomVote("b", "b", D("50"), "agree")]
    result = tally(votes)
    assert result.total_heads == 3 and result.total_area == D("600")
    assert not result.quorum_met  # heads 2/3 met, but area 100/600 is not


def test_nobody_votes_and_no_rooms():
    assert not tally(rooms((100, None))).passed
    empty = tally([])
    assert empty.total_heads == 0 and not empty.quorum_met and not empty.passed


def test_follow_majority_shows_raw_and_adjusted_and_never_makes_quorum():
    base = [(100, "agree"), (100, "agree"), (100, "disagree"), (100, "abstain"), (100, None), (100, None)]
    # 4 of 6 take part: quorum met. Raw: 2 agree of 4 → not > 1/2.
    result = tally(rooms(*base), follow_majority=True)
    assert not result.raw.passed
    assert result.adjusted.participating_heads == 6 and result.adjusted.agree_heads == 4
    assert result.passed and result.adjusted.passed
    assert result.participating_heads == 4  # the top-level figures stay the real ballots
    no_quorum = tally(rooms((100, "agree"), (100, None), (100, None)), follow_majority=True)
    assert not no_quorum.quorum_met and not no_quorum.passed
    assert "不能用于凑足法定人数" in no_quorum.notes[0]


def test_bad_input():
    with pytest.raises(VotingError):
        tally(rooms((100, "yes")))
    with pytest.raises(VotingError):
        tally(rooms((0, "agree")))
    with pytest.raises(VotingError):
        tally(rooms((100, "agree")), tier="super")


@given(st.lists(st.tuples(st.integers(1, 50_000).map(lambda n: D(n) / 100),
                          st.sampled_from(["agree", "disagree", "abstain", None])), min_size=1, max_size=40))
def test_matches_a_fraction_reference(specs):
    from fractions import Fraction as F

    result = tally(rooms(*specs))
    total = sum(F(a) for a, _ in specs)
    part = [(F(a), c) for a, c in specs if c is not None]
    agree = [a for a, c in part if c == "agree"]
    quorum = 3 * sum(a for a, _ in part) >= 2 * total and 3 * len(part) >= 2 * len(specs)
    passed = quorum and bool(part) and 2 * sum(agree) > sum(a for a, _ in part) and 2 * len(agree) > len(part)
    assert (result.quorum_met, result.passed) == (quorum, passed)
