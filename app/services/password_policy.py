"""The rule for staff passwords: long enough, not the username, not on a list of common passwords."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from app.services.errors import DomainError

MIN_LENGTH = 10
MAX_LENGTH = 128  # the login form accepts no more, so a longer password could never be used
# Below this length a username is too short to forbid inside passwords ("li" would rule out "linli…").
MIN_USERNAME_TO_CONTAIN = 3
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common_passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password(password: str, username: str) -> None:
    """DomainError with a Chinese message when `password` may not be used by `username`."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise DomainError(f"密码至少需要{MIN_LENGTH}位。可以用一句好记的话的拼音加几个数字。")
    if len(password) > MAX_LENGTH:
        raise DomainError(f"密码不能超过{MAX_LENGTH}位。")
    name, lowered = (username or "").strip().lower(), password.lower()
    if name and (lowered == name or (len(name) >= MIN_USERNAME_TO_CONTAIN and name in lowered)):
        raise DomainError("密码不能是用户名，也不能包含用户名。")
    if lowered in common_passwords():
        raise DomainError("这个密码太常见，很容易被猜到，请换一个。")
