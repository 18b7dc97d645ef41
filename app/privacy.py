"""Personal-data protection: phone encryption at rest, keyed hashes for matching, and masking for display."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")

_keys: dict[str, bytes] = {}


def configure(secret_key: str) -> None:
    """Derive the encryption and hashing keys from SECRET_KEY (once per app)."""
    _keys["enc"] = base64.urlsafe_b64encode(_derive(secret_key, b"linli-phone-encryption"))
    _keys["mac"] = _derive(secret_key, b"linli-identity-hash")


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"linli", info=info).derive(secret.encode())


def _key(name: str) -> bytes:
    if name not in _keys:
        raise RuntimeError("privacy keys are not configured: create the app first")
    return _keys[name]


def normalise_phone(raw: str) -> str | None:
    """Return an 11-digit mainland mobile number, or None when the text is not one."""
    digits = re.sub(r"[\s\-()+]", "", str(raw or ""))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if PHONE_RE.match(digits) else None


def encrypt(value: str) -> str:
    """Encrypt a short text (a phone number) for storage."""
    return Fernet(_key("enc")).encrypt(value.encode()).decode()


def decrypt(token: str) -> str | None:
    """Decrypt a stored value; None when it cannot be decrypted (wrong key or erased)."""
    try:
        return Fernet(_key("enc")).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def keyed_hash(value: str) -> str:
    """A stable keyed hash for matching without storing the value (identity keys, phone lookup)."""
    return hmac.new(_key("mac"), value.strip().encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str | None) -> str:
    """138****1234 — the only way a phone number is shown to someone who does not need it."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str | None) -> str:
    """张** — the first character of a name, the rest hidden."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
