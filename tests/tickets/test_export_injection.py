"""The monthly ticket ledger never carries a resident's text as a live spreadsheet formula."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from app import clock
from app.services.tickets import create_ticket
from app.services.tickets_flow import rate
from factories import login

HYPERLINK = '=HYPERLINK("http://x","点我")'


def test_description_and_rating_comment_are_exported_as_quoted_text(app, client, tw):
    with app.app_context():
        ticket_id = create_ticket(openid="o-res1", kind="report", category="water", description=HYPERLINK,
                                  building_id=tw.b1).ticket.id
    login(client, "shequ")
    client.post(f"/admin/tickets/{ticket_id}/act", data={"action": "accept"})
    client.post(f"/admin/tickets/{ticket_id}/act", data={"action": "done", "note": "好了"})
    with app.app_context():
        rate("o-res1", ticket_id, "basic", "+1+1")
    month = clock.now().strftime("%Y-%m")
    response = client.get(f"/admin/tickets/export.xlsx?estate={tw.estate}&month={month}")
    sheet = load_workbook(io.BytesIO(response.data))["投诉台账"]
    header = [cell.value for cell in sheet[2]]
    row = sheet[3]
    description, comment = row[header.index("问题描述")], row[header.index("评价意见")]
    assert (description.data_type, description.value) == ("s", "'" + HYPERLINK)
    assert (comment.data_type, comment.value) == ("s", "'+1+1")
