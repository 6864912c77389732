"""Plain values the console repositories return (services never see rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    username: str
    password_hash: str
    role: str
    region: str
    totp_secret: str | None
    failed_attempts: int
    locked_until: datetime | None
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    user_id: str
    csrf_token: str
    client_ip: str
    created_at: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class OriginationRecord:
    id: str
    kind: str
    state: str
    drill: bool
    region: str
    targets: tuple[str, ...]
    payload: Mapping[str, Any]
    submitted_by: str
    submitted_at: datetime
    approver: str | None
    decided_at: datetime | None
    reason: str | None
    cancels: str | None
    alert_id: str | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    username: str
    role: str
    region: str
    action: str
    target: str | None
    outcome: str
    client_ip: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, as the audit log records it."""

    username: str
    role: str
    region: str
    client_ip: str
