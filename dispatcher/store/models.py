"""Table definitions. Repositories use the tables through Core; the ORM classes are the schema.

Any change here needs a new revision in `migrations/versions` (a test compares the two).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dispatcher.store.coltypes import UTCDateTime
from dispatcher.store.records import ACK_STATES, ALERT_STATES, TASK_STATES

# Explicit names keep constraints identical on both backends and let later migrations drop them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(32)  # uuid4 hex
EBRID = String(64)  # 23 digits on the wire; fakes and simulators use readable ids
REGION = String(12)


def _one_of(column: str, values: frozenset[str]) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in sorted(values))
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_valid")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("sender", "identifier"),
        Index(None, "created_at"),
        Index(None, "state", "created_at"),
        _one_of("state", ALERT_STATES),
        CheckConstraint("msg_type BETWEEN 1 AND 5", name="msg_type_range"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    sender: Mapped[str] = mapped_column(String(255))
    identifier: Mapped[str] = mapped_column(String(255))
    cert_sn: Mapped[str] = mapped_column(String(12))
    source_format: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(255))
    # The exact bytes received: signatures are checked over them, so never re-serialise.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[int] = mapped_column(BigInteger)
    msg_type: Mapped[int] = mapped_column(Integer)
    drill: Mapped[bool] = mapped_column(Boolean)
    event_type: Mapped[str] = mapped_column(String(5))
    severity: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    area_codes: Mapped[list[str]]
    targets: Mapped[list[str]]
    dropped_targets: Mapped[list[str]]
    references: Mapped[list[str]]
    texts: Mapped[list[list[str]]] = mapped_column(JSON)
    superseded_by: Mapped[str | None] = mapped_column(ID)
    state: Mapped[str] = mapped_column(String(16))
    ebmid: Mapped[str | None] = mapped_column(String(35))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # The claim query: due tasks by state and time, then priority.
        Index(None, "state", "next_attempt_at", "priority"),
        Index(None, "alert_id"),
        _one_of("state", TASK_STATES),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    alert_id: Mapped[str] = mapped_column(ID, ForeignKey("alerts.id"))
    adapter_ebrid: Mapped[str] = mapped_column(EBRID)
    bearer: Mapped[str] = mapped_column(String(16))
    regions: Mapped[list[str]]
    # the target list lives in task_targets (revision 0006)
    state: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    not_before: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    deadline: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TaskTargets(Base):
    """A task's target list, apart from the task row (revision 0006): a county task lists
    10,000 EBRIDs (250 KB), and in the task row SQLite rewrote them on every state change
    and walked their overflow pages for every column stored after them, so each claim,
    sweep and state count read megabytes once a few hundred tasks were open."""

    __tablename__ = "task_targets"

    task_id: Mapped[str] = mapped_column(ID, ForeignKey("tasks.id"), primary_key=True)
    targets: Mapped[list[str]]


class DispatchLog(Base):
    __tablename__ = "dispatch_log"
    # (task_id, event): the targets a retried task already reached (revision 0005).
    __table_args__ = (Index(None, "alert_id", "id"), Index(None, "task_id", "event"))

    # SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid); BIGINT would stay NULL.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    alert_id: Mapped[str] = mapped_column(ID)
    task_id: Mapped[str | None] = mapped_column(ID)
    target: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]]
    at: Mapped[datetime]
    dedup_key: Mapped[str | None] = mapped_column(String(255), unique=True)


class Ack(Base):
    __tablename__ = "acks"
    __table_args__ = (_one_of("state", ACK_STATES),)

    # No foreign key: a terminal may ack an alert id we never sent, and one such ack must
    # not fail the whole batch it arrived in.
    alert_id: Mapped[str] = mapped_column(ID, primary_key=True)
    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    detail: Mapped[dict[str, Any]]
    at: Mapped[datetime]


class Adapter(Base):
    __tablename__ = "adapters"

    ebrid: Mapped[str] = mapped_column(EBRID, primary_key=True)
    bearer: Mapped[str] = mapped_column(String(16))
    regions: Mapped[list[str]]
    enabled: Mapped[bool] = mapped_column(Boolean)
    healthy: Mapped[bool] = mapped_column(Boolean)
    config: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class Terminal(Base):
    __tablename__ = "terminals"
    __table_args__ = (Index(None, "region"),)

    ebrid: Mapped[str] = mapped_column(EBRID, primary_key=True)
    bearer: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(REGION)
    name: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    firmware: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    last_seen: Mapped[datetime | None]
    created_at: Mapped[datetime]


class PlatformCounter(Base):
    __tablename__ = "platform_counters"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class PlatformLink(Base):
    """A peer platform of the hierarchy and what was last heard from it (revision 0004)."""

    __tablename__ = "platform_links"

    ebrid: Mapped[str] = mapped_column(EBRID, primary_key=True)
    role: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(String(512))
    last_heard: Mapped[datetime | None] = mapped_column(nullable=True)
    last_sent: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    resources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class PlatformReport(Base):
    """The latest EBMStateResponse a lower platform sent for one of our alerts."""

    __tablename__ = "platform_reports"

    alert_id: Mapped[str] = mapped_column(ID, primary_key=True)
    platform_ebrid: Mapped[str] = mapped_column(EBRID, primary_key=True)
    brd_state_code: Mapped[int] = mapped_column(Integer)
    coverage_rate: Mapped[float] = mapped_column(Float)
    targeted: Mapped[int] = mapped_column(Integer)
    acked: Mapped[int] = mapped_column(Integer)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


ALERTS = _table(Alert)
TASKS = _table(Task)
TASK_TARGETS = _table(TaskTargets)
DISPATCH_LOG = _table(DispatchLog)
ACKS = _table(Ack)
ADAPTERS = _table(Adapter)
TERMINALS = _table(Terminal)
PLATFORM_COUNTERS = _table(PlatformCounter)
PLATFORM_LINKS = _table(PlatformLink)
PLATFORM_REPORTS = _table(PlatformReport)
