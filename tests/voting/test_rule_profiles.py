"""Local rule profiles on top of Art. 278: stricter or equal, never looser."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.voting import RULE_PROFILES, RoomVote, VotingError, apply_profile, tally

D = Decimal


def rooms(*specs):
    return [RoomVote(f"r{i}", f"o{i}", D(str(area)), choice) for i, (area, choice) in enumerate(specs)]


def test_half_of_all_owners_boundary_is_included():
    # 4 owners; 2 agree with exactly half of all heads and area, 1 disagrees with less: Art. 278 needs > 1/2 of
    # participants (2 of 3 heads, 200 of 290 ㎡) → passes; "半数以上" of all owners includes the boundary → passes.
    result = tally(rooms((100, "agree"), (100, "agree"), (90, "disagree"), (110, None)))
    assert result.passed
    assert apply_profile(result, "half_of_all").passed


def test_half_of_all_owners_fails_a_hundredth_short():
    result = tally(rooms((100, "agree"), ("99.99", "agree"), (90, "disagree"), ("110.01", None)))
    assert result.passed
    stricter = apply_profile(result, "half_of_all")
    assert not stricter.passed and "半数以上业主同意" in stricter.notes[-1]


def test_follow_majority_never_counts_towards_the_local_rule():
    # 4 owners: 2 agree (120 ㎡), 1 disagrees (50), 1 silent (71). Quorum met by real ballots (3 of 4 heads,
    # 170 of 241 ㎡); 从众 adds the silent owner to "agree". Real agreement is 120 of 241 ㎡ — under half of all.
    result = tally(rooms((60, "agree"), (60, "agree"), (50, "disagree"), (71, None)), follow_majority=True)
    assert result.raw.quorum_met and result.adjusted.agree_heads == 3 and result.passed
    assert not apply_profile(result, "half_of_all").passed


def test_unknown_profile_is_an_error():
    with pytest.raises(VotingError):
        apply_profile(tally(rooms((1, "agree"))), "lenient")


choices = st.sampled_from(["agree", "disagree", "abstain", None])
areas = st.decimals(min_value=D("0.01"), max_value=D("300"), places=2)


@given(st.lists(st.tuples(areas, choices), min_size=1, max_size=12), st.sampled_from(["ordinary", "major"]),
       st.booleans(), st.sampled_from(sorted(RULE_PROFILES)))
def test_no_profile_is_looser_than_art_278(specs, tier, follow, profile):
    base = tally(rooms(*specs), tier=tier, follow_majority=follow)
    assert apply_profile(base, profile).passed <= base.passed
