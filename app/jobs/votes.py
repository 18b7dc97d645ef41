"""Jobs: open announced votes and close due ones at their times; remind non-voters through building heads."""

from app import clock
from app.services import ballots, vote_results


def open_and_close_votes() -> None:
    """Open votes whose start has come (snapshot), then close votes past their deadline (count with tally())."""
    ballots.open_due(clock.now())
    vote_results.close_due(clock.now())


def remind_non_voters() -> None:
    """Send each building head today's list of their building's rooms that have not voted."""
    ballots.remind_non_voters(clock.now())
