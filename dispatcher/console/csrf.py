"""CSRF tokens: the session's own token in every form; before login, a double-submit cookie.
SameSite=Strict cookies already stop cross-site posts in current browsers; the tokens also
cover older ones and same-site attackers."""

from __future__ import annotations

import hmac
import secrets

LOGIN_COOKIE = "ebc_login_csrf"
FIELD = "csrf_token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def matches(expected: str | None, submitted: object) -> bool:
    if not expected or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
