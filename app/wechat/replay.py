"""One message per (timestamp, nonce): the mark that refuses a signed query string reused for another body."""

from __future__ import annotations

import hashlib

# Without a timestamp window (WECHAT_TIMESTAMP_WINDOW=0) a pair never goes stale; remember it as long as a reply.
FALLBACK_TTL = 600.0


def nonce_mark(timestamp: str, nonce: str, message: bytes, now: float, window: int) -> tuple[str, str, float]:
    """(store key, value, ttl) of the mark: the pair names the message it first came with, by a digest.

    `message` is what the handlers will read (the decrypted XML of an encrypted push), so a retry that WeChat
    encrypted afresh is still the same message. The mark lives until the timestamp falls out of the window, when the
    timestamp check refuses the pair by itself.
    """
    digest = hashlib.blake2b(message, digest_size=16).hexdigest()
    ttl = float(int(timestamp) + window - int(now) + 1) if window else FALLBACK_TTL
    return f"wx:nonce:{timestamp}:{nonce}", digest, max(ttl, 1.0)
