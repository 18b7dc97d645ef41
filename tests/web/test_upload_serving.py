"""Uploaded files are served with nosniff, a sandbox policy and a type read from their verified content: a GIF/HTML
polyglot stays an image, anything that is not a known image is a download."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import TicketPhoto
from app.services import ledger
from app.services.tickets import create_ticket, store_photo
from factories import login, make_building, make_estate, make_staff_user, make_unit

SCRIPT = b"<script>alert(document.domain)</script>"


def polyglot_gif() -> bytes:
    """A real GIF (Pillow reads and verifies it) that carries HTML in its comment and after its trailer."""
    buffer = io.BytesIO()
    Image.new("P", (8, 8), 3).save(buffer, format="GIF", comment=b"<html><body>" + SCRIPT)
    return buffer.getvalue() + b"<html>" + SCRIPT


def test_polyglot_gif_is_served_as_an_image_that_cannot_run(app, client):
    data = polyglot_gif()
    assert data.startswith(b"GIF89a") and SCRIPT in data
    with Image.open(io.BytesIO(data)) as image:
        image.verify()  # a real image: the upload check accepts it
    with app.app_context():
        estate = make_estate()
        building = make_building(estate, "1")
        make_unit(building, "1")
        make_staff_user("head", role="building_head", scope=building)
        db.session.commit()
        ticket = create_ticket(openid="o-res", kind="report", category="other", description="楼道门坏了",
                               building_id=building.id, uploads=[store_photo(data, "x.html")]).ticket
        photo_id = db.session.scalar(select(TicketPhoto.id).where(TicketPhoto.ticket_id == ticket.id))
    login(client, "head")
    response = client.get(f"/admin/tickets/photos/{photo_id}")
    assert response.status_code == 200 and response.data == data
    assert response.mimetype == "image/gif"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert ".html" not in response.headers["Content-Disposition"]
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy


def test_a_pdf_receipt_is_downloaded_and_an_image_shown(app, client):
    pdf, png = b"%PDF-1.4 receipt", b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    with app.app_context():
        estate = make_estate()
        staff = make_staff_user("office", role="community_staff", scope=estate.community)
        db.session.commit()
        names = [ledger.record_entry(staff, estate, "expense", "cleaning", 100, date(2026, 1, 5), "保洁",
                                     receipt=body).receipt_file for body in (pdf, png)]
        estate_id = estate.id
    as_pdf, as_png = (client.get(f"/h5/fees/ledger/{estate_id}/receipt/{name}") for name in names)
    assert as_pdf.mimetype == "application/pdf" and as_pdf.headers["Content-Disposition"].startswith("attachment")
    assert as_png.mimetype == "image/png" and as_png.headers["Content-Disposition"].startswith("inline")
    for response in (as_pdf, as_png):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
