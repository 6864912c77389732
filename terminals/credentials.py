"""Terminal passwords: generated, shown once, stored only as salted PBKDF2-SHA256 hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 100_000
SCHEME = "pbkdf2-sha256"


def new_password() -> str:
    return secrets.token_urlsafe(18)


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return "$".join([SCHEME, str(iterations), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.urlsafe_b64decode(digest + "==")
        actual = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), base64.urlsafe_b64decode(salt + "=="), int(iterations)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
