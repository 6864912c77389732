"""The console's tables, on the store's MetaData so one Alembic history and one
"migrations match the models" check cover them (revision 0002_console)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispatcher.store.models import ID, REGION, Base

ROLES = ("admin", "approver", "auditor", "operator")
ORIGINATION_KINDS = ("alert", "cancel")
ORIGINATION_STATES = ("approved", "dispatched", "failed", "pending", "rejected")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class ConsoleUser(Base):
    __tablename__ = "console_users"
    __table_args__ = (CheckConstraint(f"role IN ({_listed(ROLES)})", name="role_valid"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(REGION)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    failed_attempts: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class ConsoleSession(Base):
    __tablename__ = "console_sessions"
    __table_args__ = (Index(None, "user_id"),)

    # SHA-256 of the cookie value: a leaked table does not hand out live sessions.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("console_users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime]


class ConsoleOrigination(Base):
    """An alert or a cancel composed in the console, waiting for (or past) its second person."""

    __tablename__ = "console_originations"
    __table_args__ = (
        Index(None, "state", "submitted_at"),
        CheckConstraint(f"kind IN ({_listed(ORIGINATION_KINDS)})", name="kind_valid"),
        CheckConstraint(f"state IN ({_listed(ORIGINATION_STATES)})", name="state_valid"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    drill: Mapped[bool] = mapped_column(Boolean)
    region: Mapped[str] = mapped_column(REGION)
    targets: Mapped[list[str]]
    payload: Mapped[dict[str, Any]]
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime]
    approver: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    cancels: Mapped[str | None] = mapped_column(ID)
    alert_id: Mapped[str | None] = mapped_column(ID)


class ConsoleAudit(Base):
    __tablename__ = "console_audit"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime]
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(REGION)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    client_ip: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]]


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


USERS = _table(ConsoleUser)
SESSIONS = _table(ConsoleSession)
ORIGINATIONS = _table(ConsoleOrigination)
AUDIT = _table(ConsoleAudit)
