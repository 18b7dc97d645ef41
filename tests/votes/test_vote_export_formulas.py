"""The committee's vote workbook quotes formula-like text (a plan title here); counts stay numbers."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from app.extensions import db
from app.services import vote_results
from votes_world import open_vote


def test_plan_title_like_a_formula_is_quoted(world, staff):
    vote = open_vote(staff, world["estate_id"])
    vote.plan.title = "=1+1"
    db.session.commit()
    summary = load_workbook(io.BytesIO(vote_results.export_xlsx(staff, vote.id)))["概况"]
    values = {row[0].value: row[1] for row in summary.iter_rows(min_row=2)}
    assert values["方案"].data_type == "s" and values["方案"].value.startswith("'=1+1")
    assert values["总人数"].data_type == "n"
