"""The factory builds an app from the environment and answers health checks."""


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["ok"] is True


def test_unknown_page_is_chinese_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "没有找到" in response.get_data(as_text=True)
