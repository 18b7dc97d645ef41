"""Configuration read from the environment (and an optional .env file); the only reader of os.environ."""

from __future__ import annotations

import json
import os
from pathlib import Path

from app.wechat.modes import MODES

TIMEZONE = "Asia/Shanghai"
DEFAULT_API_BASE = "https://api.weixin.qq.com"
DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # public: fine for the demo and tests, never for production
# Template messages: our name → the account's template id and which value fills which template field.
DEFAULT_TEMPLATES = json.dumps({"notice": {"template_id": "linli-notice-template",
                                           "fields": {"first": "title", "keyword1": "summary", "keyword2": "time",
                                                      "remark": "remark"}}})


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_dotenv_file() -> None:
    """Load .env from the working directory when python-dotenv finds one; real env vars win."""
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"LOG_LEVEL 只能是 {'、'.join(LOG_LEVELS)} 之一，现在是 {value!r}")
    return level


def _wechat_mode(value: str | None, aes_key: str | None, demo: bool) -> str | None:
    """WECHAT_MODE checked at start; None leaves the default (safe with an EncodingAESKey, plain without)."""
    if value is None:
        return None
    mode = value.strip().lower()
    if mode not in MODES:
        raise ValueError(f"WECHAT_MODE 只能是 {'、'.join(MODES)} 之一，现在是 {value!r}")
    # The demo brings its own key (app.web.simulator); anywhere else an encrypted mode without a key answers nothing.
    if mode != "plain" and not aes_key and not demo:
        raise ValueError(f"WECHAT_MODE={mode} 需要同时设置 WECHAT_AES_KEY（公众号后台的 EncodingAESKey）")
    return mode


def from_environment(instance_path: str) -> dict:
    """Build the Flask config mapping from environment variables."""
    sqlite_path = Path(instance_path) / "linli.sqlite3"
    return {
        "SECRET_KEY": _env("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(_env("DATABASE_URL", f"sqlite:///{sqlite_path}")),
        # A connection the database dropped (a restart, a failover) is noticed at checkout, not by a request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": _env("REDIS_URL"),
        "REDIS_PREFIX": _env("REDIS_PREFIX", "linli:"),
        "WECHAT_TOKEN": _env("WECHAT_TOKEN", "linli-dev-token"),
        "WECHAT_APPID": _env("WECHAT_APPID", "wxlinlidemo0000001"),
        "WECHAT_SECRET": _env("WECHAT_SECRET", "linli-dev-secret"),
        "WECHAT_AES_KEY": _env("WECHAT_AES_KEY"),
        "WECHAT_PREVIOUS_AES_KEY": _env("WECHAT_PREVIOUS_AES_KEY"),
        # plain / compat / safe, as set in the account's console; compat only while switching over (see README).
        "WECHAT_MODE": _wechat_mode(_env("WECHAT_MODE"), _env("WECHAT_AES_KEY"), _flag("LINLI_DEMO")),
        "WECHAT_API_BASE": _env("WECHAT_API_BASE", DEFAULT_API_BASE),
        "WECHAT_REPLY_DEADLINE": float(_env("WECHAT_REPLY_DEADLINE", "4.0")),
        "WECHAT_TIMESTAMP_WINDOW": int(_env("WECHAT_TIMESTAMP_WINDOW", "600")),
        "WECHAT_MAX_BODY": int(_env("WECHAT_MAX_BODY", str(1024 * 1024))),
        "WECHAT_API_TIMEOUT": float(_env("WECHAT_API_TIMEOUT", "5.0")),
        "WECHAT_SEND_RATE": int(_env("WECHAT_SEND_RATE", "20")),  # outbox sends per second, all processes
        "WECHAT_TEMPLATES": json.loads(_env("WECHAT_TEMPLATES", DEFAULT_TEMPLATES)),
        "WECHAT_FALLBACK_TEMPLATE": _env("WECHAT_FALLBACK_TEMPLATE", "notice"),
        "MAX_CONTENT_LENGTH": int(_env("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        "REGISTER_MAX_UPLOAD": int(_env("REGISTER_MAX_UPLOAD", str(20 * 1024 * 1024))),
        "PUBLIC_BASE_URL": _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "WECHAT_PARAMETRIC_QR": _flag("WECHAT_PARAMETRIC_QR"),  # a real account: building QR sheets use WeChat codes
        "TICKET_PHOTO_MAX": int(_env("TICKET_PHOTO_MAX", str(5 * 1024 * 1024))),  # bytes per uploaded ticket photo
        "TICKET_UPLOAD_DIR": _env("TICKET_UPLOAD_DIR"),  # where ticket photos go (default: instance/uploads/tickets)
        "LINLI_DEMO": _flag("LINLI_DEMO"),
        "LOG_LEVEL": _log_level(_env("LOG_LEVEL", "INFO")),  # DEBUG adds a line per chat message (with its openid)
        # How many reverse proxies (nginx) stand in front: their X-Forwarded-For gives the real client address.
        "TRUSTED_PROXIES": int(_env("TRUSTED_PROXIES", "0")),
        "LINLI_NLP_PRELOAD": _flag("LINLI_NLP_PRELOAD", True),
        "LINLI_OFFICE_INFO": _env("LINLI_OFFICE_INFO", ""),  # office address/hours shown to unbound residents
        "TIMEZONE": TIMEZONE,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        "WTF_CSRF_TIME_LIMIT": None,
        "API_TITLE": "Linli API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }


def _normalise_db_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgres:// URLs would pick psycopg2.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
