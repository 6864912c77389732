"""The platform's exception tree.

    Exception
    ├── ValueError
    │   ├── protocols.errors.ProtocolError      bad wire input (CAP, EBD, codes, frames)
    │   ├── signing.errors.SignatureError       bad or untrusted signatures
    │   ├── dispatcher.config.ConfigError       configuration refused at start-up
    │   └── IntakeError                         an alert refused at intake (``code``, ``status``)
    └── RuntimeError
        └── dispatcher.store.errors.StoreUnavailable   the database cannot persist (answer 503)

Third-party exceptions are translated at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations

from typing import Any

#: code -> HTTP status; the codes are a public contract (RFC 9457 problem ``code``).
INTAKE_CODES: dict[str, int] = {
    "invalid-cap": 400,
    "invalid-ebm": 400,
    "invalid-ebd": 400,
    "invalid-request": 400,
    "unsupported-media-type": 415,
    "payload-too-large": 413,
    "signature-missing": 401,
    "signature-invalid": 401,
    "unknown-certificate": 401,
    "certificate-revoked": 403,
    "certificate-expired": 403,
    "stale-timestamp": 401,
    "replay": 409,
    "not-authorised-event": 403,
    "not-authorised-msgtype": 403,
    "not-authorised-region": 403,
    "outside-jurisdiction": 403,
    "missing-reference": 422,
    "reference-unknown": 422,
    "reference-expired": 409,
    "not-found": 404,
    "rate-limited": 429,
    "unavailable": 503,
}


class IntakeError(ValueError):
    def __init__(self, code: str, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        if code not in INTAKE_CODES:
            raise AssertionError(f"undeclared intake error code {code}")
        super().__init__(detail)
        self.code = code
        self.status = INTAKE_CODES[code]
        self.detail = detail
        self.extra = extra or {}
