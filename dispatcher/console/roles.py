"""Roles and what each may do; the routes ask here rather than comparing role names."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"
    AUDITOR = "auditor"


def can_submit(role: str) -> bool:
    """Compose alerts and ask for cancels. An approver may too: the second person is then
    another approver, so the two-person rule still holds."""
    return role in (Role.OPERATOR, Role.APPROVER)


def can_approve(role: str) -> bool:
    return role == Role.APPROVER


def can_administer(role: str) -> bool:
    return role == Role.ADMIN


def can_read_audit(role: str) -> bool:
    return role in (Role.ADMIN, Role.AUDITOR)
