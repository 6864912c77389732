"""Terminal passwords: generated, shown once, stored only as salted PBKDF2-SHA256 hashes in
Django's ``pbkdf2_sha256$iterations$salt$base64(hash)`` layout (passlib reads it too)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "pbkdf2_sha256"
ITERATIONS = 100_000


def new_password() -> str:
    return secrets.token_urlsafe(18)


def hash_password(password: str, *, salt: str | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_urlsafe(12)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"{SCHEME}${iterations}${salt}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, _ = stored.split("$")
        expected = hash_password(password, salt=salt, iterations=int(iterations))
    except ValueError:
        return False
    return scheme == SCHEME and hmac.compare_digest(expected, stored)
