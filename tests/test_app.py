"""The factory builds an app from the environment and answers health checks."""


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["ok"] is True


def test_unknown_page_is_chinese_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "没有找到" in response.get_data(as_text=True)


def test_trusted_proxy_gives_the_client_address(tmp_path):
    from flask import request

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.sqlite3", "LINLI_NLP_PRELOAD": False,
                      "REDIS_URL": None, "TRUSTED_PROXIES": 1})
    app.add_url_rule("/_ip", "ip", lambda: request.remote_addr)
    answer = app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert answer.get_data(as_text=True) == "203.0.113.9"


def test_healthz_says_which_dependency_is_down(client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.extensions import db

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(db.session, "execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"ok": False, "db": False, "kv": True}


def test_log_level_comes_from_the_environment_and_is_checked(monkeypatch, tmp_path):
    import pytest

    from app import config

    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert config.from_environment(str(tmp_path))["LOG_LEVEL"] == "WARNING"
    monkeypatch.setenv("LOG_LEVEL", "verbose")
    with pytest.raises(ValueError, match="LOG_LEVEL 只能是"):
        config.from_environment(str(tmp_path))
