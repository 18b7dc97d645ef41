"""Gateway errors: each maps to one HTTP status at the webhook boundary."""

from __future__ import annotations


class GatewayError(Exception):
    """A request the webhook refuses; `status` is the HTTP status to answer with."""

    status = 400


class BadSignature(GatewayError):
    """The signature, msg_signature or timestamp does not check out."""

    status = 403


class BadMessage(GatewayError):
    """Undecryptable, foreign-appid, malformed, empty or hostile XML."""

    status = 400


class TooLarge(GatewayError):
    """The body is over the configured limit."""

    status = 413


class ConfigurationError(Exception):
    """A WeChat setting (token, EncodingAESKey, appid) is unusable."""
