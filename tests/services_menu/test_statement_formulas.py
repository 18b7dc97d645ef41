"""The provider statement quotes formula-like 公益岗 task text; hours and money stay numbers."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook

from app import clock
from app.extensions import db
from app.models import Provider, StaffUser
from app.services import providers


def test_task_text_like_a_formula_is_quoted(ctx, svc):
    provider = db.session.get(Provider, svc.provider_a)
    with clock.frozen_at(datetime(2026, 11, 24, 18, 0, tzinfo=clock.TZ)):
        providers.record_hours(db.session.get(StaffUser, svc.office), provider, estate_id=svc.estate,
                               worked_on=date(2026, 11, 20), hours="2", task="-2+3", rate_yuan="15")
    hours = load_workbook(io.BytesIO(providers.statement_xlsx(provider, "2026-11")))["公益岗工时"]
    row = hours[2]
    assert (row[1].data_type, row[1].value) == ("s", "'-2+3")
    assert (row[2].value, row[4].value) == (2, 30)
