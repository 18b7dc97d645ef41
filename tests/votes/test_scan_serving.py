"""A paper ballot's scan is served by what its bytes are, never by the type the uploading browser claimed."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Ballot, StaffUser
from factories import login
from votes_world import OPENS, build_estate, open_vote


def test_a_scan_claimed_as_png_that_is_html_is_only_a_download(app, client):
    with app.app_context():
        world = build_estate()
        vote = open_vote(db.session.get(StaffUser, world["staff_id"]), world["estate_id"])
        vote_id = vote.id
    login(client, "shequ")
    with clock.frozen_at(OPENS + timedelta(days=1)):
        client.post(f"/admin/votes/{vote_id}/paper", data={
            "room_id": str(world["room_202"]), "choice": "agree",
            "scan": (io.BytesIO(b"<html><script>alert(1)</script>"), "scan.html", "image/png")},
            content_type="multipart/form-data")
    with app.app_context():
        scan_id = db.session.scalar(select(Ballot.scan_id))
    response = client.get(f"/admin/votes/{vote_id}/scans/{scan_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert ".html" not in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
