"""The account's message mode (plain / compat / safe): which pushes the webhook accepts."""

from __future__ import annotations

from app.wechat.errors import BadSignature, ConfigurationError

PLAIN, COMPAT, SAFE = "plain", "compat", "safe"
MODES = (PLAIN, COMPAT, SAFE)


def webhook_mode(config) -> str:
    """The configured WECHAT_MODE, or the default: safe when an EncodingAESKey is set, plain otherwise."""
    mode = config.get("WECHAT_MODE")
    if mode is None:
        return SAFE if config.get("WECHAT_AES_KEY") else PLAIN
    if mode not in MODES:
        raise ConfigurationError(f"unknown WECHAT_MODE {mode!r}")
    return mode


def admit(mode: str, encrypted: bool) -> None:
    """Refuse a plaintext push in safe mode.

    The mode is a setting of the account: once it is safe, WeChat only ever sends encrypted pushes, so a plaintext
    one is forged. Its `signature` covers token, timestamp and nonce but not the body: one captured URL would sign
    any body, as any resident, for the whole timestamp window.
    """
    if mode == SAFE and not encrypted:
        raise BadSignature("plaintext push in safe mode")
