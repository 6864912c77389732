"""Plain values crossing the store boundary: services never see ORM objects.

`New*` classes are what callers write; `*Record` classes are what the store returns. All
datetimes are timezone-aware UTC; inputs must be aware (any zone; the store converts).
States are plain strings so that `str`-valued enums from the domain pass straight in.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ALERT_STATES = frozenset(
    {"accepted", "waiting", "dispatching", "completed", "partial", "failed", "cancelled",
     "expired"}
)
TASK_STATES = frozenset(
    {"planned", "sending", "sent", "acked", "partial", "failed", "timed_out", "cancelled"}
)
# Must agree with domain.tasks.TERMINAL_STATES: recovery, cancel and deadline sweeps skip these.
TASK_TERMINAL_STATES = frozenset({"acked", "partial", "failed", "timed_out", "cancelled"})
ACK_STATES = frozenset(
    {"received", "verified", "playing", "played", "stopped", "rejected", "failed"}
)


def new_id() -> str:
    return uuid.uuid4().hex


def _require_aware(owner: object, **values: datetime | None) -> None:
    for name, value in values.items():
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{type(owner).__name__}.{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, slots=True)
class NewAlert:
    sender: str
    identifier: str
    cert_sn: str
    source_format: str
    content_type: str
    body: bytes
    body_sha256: str
    signed_at: int
    msg_type: int
    drill: bool
    event_type: str
    severity: int
    title: str
    start_at: datetime | None
    end_at: datetime | None
    area_codes: Sequence[str]
    targets: Sequence[str]
    dropped_targets: Sequence[str] = ()
    references: Sequence[str] = ()
    # (language, title, description) per text, as the adapters will broadcast them.
    texts: Sequence[Sequence[str]] = ()
    state: str = "accepted"
    ebmid: str | None = None
    id: str = field(default_factory=new_id)
    # None: the store stamps the current time.
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self, start_at=self.start_at, end_at=self.end_at,
                       created_at=self.created_at)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: str
    sender: str
    identifier: str
    cert_sn: str
    source_format: str
    content_type: str
    body: bytes
    body_sha256: str
    signed_at: int
    msg_type: int
    drill: bool
    event_type: str
    severity: int
    title: str
    start_at: datetime | None
    end_at: datetime | None
    area_codes: tuple[str, ...]
    targets: tuple[str, ...]
    dropped_targets: tuple[str, ...]
    references: tuple[str, ...]
    texts: tuple[tuple[str, str, str], ...]
    superseded_by: str | None
    state: str
    ebmid: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewTask:
    """One planned task; the fields shared with `domain.planning.TaskSpec` keep their names."""

    adapter_ebrid: str
    bearer: str
    regions: Sequence[str]
    targets: Sequence[str]
    priority: int
    not_before: datetime
    deadline: datetime
    max_attempts: int
    # None: first attempt at not_before.
    next_attempt_at: datetime | None = None
    state: str = "planned"
    id: str = field(default_factory=new_id)
    # None: the alert's. When given it must be the alert's id (a check, not a choice).
    alert_id: str | None = None
    # None: the alert's created_at.
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self, not_before=self.not_before, deadline=self.deadline,
                       next_attempt_at=self.next_attempt_at, created_at=self.created_at)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    id: str
    alert_id: str
    adapter_ebrid: str
    bearer: str
    regions: tuple[str, ...]
    targets: tuple[str, ...]
    state: str
    priority: int
    attempts: int
    max_attempts: int
    not_before: datetime
    next_attempt_at: datetime
    deadline: datetime
    claimed_by: str | None
    lease_until: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewLogEvent:
    alert_id: str
    event: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    task_id: str | None = None
    target: str | None = None
    # None: the store stamps the current time.
    at: datetime | None = None
    # Outcome rows: "{task_id}:{target}:outcome"; ack rows: "{alert_id}:{target}:ack:{state}".
    dedup_key: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self, at=self.at)


@dataclass(frozen=True, slots=True)
class LogRecord:
    id: int
    alert_id: str
    task_id: str | None
    target: str | None
    event: str
    detail: Mapping[str, Any]
    at: datetime
    dedup_key: str | None


@dataclass(frozen=True, slots=True)
class NewAck:
    alert_id: str
    target: str
    state: str
    at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_aware(self, at=self.at)


@dataclass(frozen=True, slots=True)
class AckRecord:
    alert_id: str
    target: str
    state: str
    detail: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class NewAdapter:
    ebrid: str
    bearer: str
    regions: Sequence[str]
    enabled: bool = True
    healthy: bool = True
    config: Mapping[str, Any] = field(default_factory=dict)


# The name dispatcher/app.py uses.
AdapterRow = NewAdapter


@dataclass(frozen=True, slots=True)
class AdapterRecord:
    ebrid: str
    bearer: str
    regions: tuple[str, ...]
    enabled: bool
    healthy: bool
    config: Mapping[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewTerminal:
    ebrid: str
    bearer: str
    region: str
    name: str = ""
    username: str = ""
    # None on an upsert keeps the stored hash: inventory imports rarely carry credentials.
    password_hash: str | None = None
    firmware: str = ""
    state: str = "unknown"


@dataclass(frozen=True, slots=True)
class TerminalRecord:
    ebrid: str
    bearer: str
    region: str
    name: str
    username: str
    password_hash: str | None
    firmware: str
    state: str
    last_seen: datetime | None
    created_at: datetime
