"""RFC 9457 problem+json answers with a stable ``code``."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from dispatcher.errors import IntakeError

PROBLEM_TYPE = "https://ebc.invalid/problems/"


def problem(
    code: str, status: int, detail: str, *, instance: str = "", extra: dict[str, Any] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": code.replace("-", " ").capitalize(),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra or {})
    headers = {"Retry-After": "60"} if status in (429, 503) else None
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def from_intake_error(exc: IntakeError, *, instance: str = "") -> JSONResponse:
    return problem(exc.code, exc.status, exc.detail, instance=instance, extra=exc.extra)
