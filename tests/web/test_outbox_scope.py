"""The outbox page shows staff only the messages of residents in their own estates (openids and texts are personal)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ResidentAccount, RoomBinding
from app.services import outbox
from app.services.demo import DEMO_PASSWORD, seed_demo
from factories import make_community, make_staff_user


def _login(app, username, password=DEMO_PASSWORD):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    return client


def test_office_staff_see_and_resend_only_their_residents_messages(app):
    with app.app_context():
        seed_demo()
        make_staff_user("outsider", role="community_staff", scope=make_community(name="别的社区"),
                        password="linli-test-pass")
        bound = db.session.scalar(select(ResidentAccount.openid).join(RoomBinding)
                                  .where(RoomBinding.status == "bound"))
        mine = outbox.enqueue(bound, "text", {"text": "您的报修已受理"}, key="scope-test:bound")
        stray = outbox.enqueue("o-nobody-bound-here", "text", {"text": "欢迎关注"}, key="scope-test:stray")
        mine.status = stray.status = "failed"
        db.session.commit()
        mine_id, stray_id = mine.id, stray.id

    community = _login(app, "shequ").get("/admin/outbox/").get_data(as_text=True)
    assert "您的报修已受理" in community and "欢迎关注" not in community
    street = _login(app, "jiedao").get("/admin/outbox/").get_data(as_text=True)
    assert "您的报修已受理" in street and "欢迎关注" in street  # a street office also sees unplaced openids

    outsider = _login(app, "outsider", "linli-test-pass")
    page = outsider.get("/admin/outbox/")
    assert page.status_code == 200 and "您的报修已受理" not in page.get_data(as_text=True)
    assert outsider.post(f"/admin/outbox/{mine_id}/retry").status_code == 404
    assert outsider.post(f"/admin/outbox/{stray_id}/retry").status_code == 404
    assert _login(app, "shequ").post(f"/admin/outbox/{mine_id}/retry").status_code == 302
