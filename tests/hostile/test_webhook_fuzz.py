"""Property-based fuzzing of the /wechat webhook: whatever arrives, the answer is 200/400/403/413, never a 500.

The properties themselves live in fuzzkit.py; benchmarks/fuzz_webhook.py runs them with many more examples.
"""

from __future__ import annotations

import pytest
from hypothesis import given

import fuzzkit
import wxpeer
from fuzzkit import FUZZ


@pytest.mark.parametrize("name", [prop.name for prop in fuzzkit.PROPERTIES])
def test_webhook_property(app, wx_client, name):
    prop = fuzzkit.BY_NAME[name]

    @FUZZ
    @given(example=prop.strategy)
    def run(example):
        prop.check(app, wx_client, example)

    run()


def test_properties_can_fail(app, wx_client):
    # The checks are not vacuous: a 500, a leaked trace, an HTML error page and a refused push are each caught.
    class Fake:
        def __init__(self, status, body):
            self.status_code, self.body = status, body

        def get_data(self, as_text=False):
            return self.body

    for status, body in [(500, "error"), (400, "Traceback (most recent call last)"), (404, "<!doctype html>")]:
        with pytest.raises(AssertionError):
            fuzzkit.assert_clean(Fake(status, body))
    with pytest.raises(AssertionError):  # an empty FromUserName is no push Linli must answer with 200
        fuzzkit.check_message(app, wx_client, "<xml><MsgType>text</MsgType></xml>")


def test_a_from_user_name_longer_than_an_openid_is_400(app, wx_client):
    # Found by the PostgreSQL fuzz run: a 65+ character FromUserName overflowed the openid column, each push a logged
    # traceback and an apology; it is no openid (WeChat's are 28 characters), so it is refused up front.
    xml = wxpeer.message_xml("o" * 65, "text", {"Content": "hi", "MsgId": 7})
    query, body = wxpeer.push(xml, mode="safe")
    assert wx_client.post(f"/wechat?{query}", data=body, content_type="text/xml").status_code == 400
    assert fuzzkit.check_message(app, wx_client, wxpeer.message_xml("o" * 64, "text", {"Content": "hi"})) == 200
