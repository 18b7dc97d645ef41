"""The monthly 收支 workbook quotes formula-like descriptions and counterparties; amounts stay numbers."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook

from app import clock
from app.extensions import db
from app.models import Estate, StaffUser
from app.services import ledger
from fee_world import build


def test_description_and_counterparty_are_quoted_and_amounts_stay_numbers(ctx):
    world = build(schedule=False)
    estate, office = db.session.get(Estate, world.estate_id), db.session.get(StaffUser, world.users["shequ"])
    with clock.frozen_at(datetime(2026, 5, 20, 10, tzinfo=clock.TZ)):
        ledger.record_entry(office, estate, "income", "parking", 1800,
                            date(2026, 5, 10), "=1+1", "@SUM(A1)")
    detail = load_workbook(io.BytesIO(ledger.ledger_xlsx(estate, 2026, 5)))["收支明细"]
    row = detail[2]
    assert [(c.data_type, c.value) for c in row[3:5]] == [("s", "'=1+1"), ("s", "'@SUM(A1)")]
    assert (row[5].data_type, row[5].value) == ("n", 18)
