"""Logins (argon2, lockout, optional TOTP) and server-side sessions (idle and absolute expiry)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.config import Settings
from dispatcher.console.passwords import verify_password, verify_totp
from dispatcher.console.records import Actor, SessionRecord, UserRecord
from dispatcher.console.repo import audit as audit_repo
from dispatcher.console.repo import sessions as session_repo
from dispatcher.console.repo import users as user_repo
from dispatcher.store.db import Database


@dataclass(frozen=True)
class Policy:
    idle: dt.timedelta
    absolute: dt.timedelta
    lockout_attempts: int
    lockout: dt.timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            idle=dt.timedelta(seconds=settings.console_session_idle_seconds),
            absolute=dt.timedelta(seconds=settings.console_session_max_seconds),
            lockout_attempts=settings.console_lockout_attempts,
            lockout=dt.timedelta(seconds=settings.console_lockout_seconds),
        )


@dataclass(frozen=True)
class Viewer:
    """The signed-in account behind a request."""

    user: UserRecord
    session: SessionRecord
    client_ip: str

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def region(self) -> str:
        return self.user.region

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    @property
    def actor(self) -> Actor:
        return Actor(self.user.username, self.user.role, self.user.region, self.client_ip)


class LoginRefused(Exception):
    """``reason``: bad-credentials, locked, or totp-failed (a second factor is missing or wrong)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def session_key(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


async def login(
    db: Database,
    *,
    username: str,
    password: str,
    totp_code: str,
    client_ip: str,
    now: dt.datetime,
    policy: Policy,
    site_region: str,
) -> tuple[Viewer, str]:
    """A new session and its cookie value, or LoginRefused; every attempt is audited."""
    name = username.strip()[:64]
    async with db.session() as session:
        user = await user_repo.get_user(session, username=name)
        actor = Actor(name or "-", user.role if user else "-",
                      user.region if user else site_region, client_ip)
        reason = _check(user, password, totp_code, now)
        if reason is None and user is not None:
            await user_repo.clear_failures(session, user_id=user.id)
            # Sessions are otherwise only dropped when used after expiry; sweep here.
            await session_repo.end_stale_sessions(
                session, idle_before=now - policy.idle, created_before=now - policy.absolute
            )
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            await session_repo.add_session(
                session, session_id=session_key(token), user_id=user.id, csrf_token=csrf,
                client_ip=client_ip, now=now,
            )
            await audit_repo.append_audit(session, actor=actor, action="login", at=now)
            record = await session_repo.get_session(session, session_id=session_key(token))
            await session.commit()
            assert record is not None
            return Viewer(user, record, client_ip), token
        detail: dict[str, object] = {"reason": reason}
        if user is not None and reason != "locked":
            detail.update(await _count_failure(session, user, now, policy))
            if detail.get("locked"):
                reason = "locked"
        await audit_repo.append_audit(
            session, actor=actor, action="login", at=now, outcome="refused", detail=detail
        )
        await session.commit()
    raise LoginRefused(reason or "bad-credentials")


def _check(user: UserRecord | None, password: str, totp_code: str, now: dt.datetime) -> str | None:
    if user is not None and user.locked_until is not None and user.locked_until > now:
        return "locked"
    # Verified even for an unknown name: the answer takes as long either way.
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return "bad-credentials"
    if user.disabled:
        return "bad-credentials"
    if user.totp_secret and not verify_totp(user.totp_secret, totp_code, at=now.timestamp()):
        return "totp-failed"
    return None


async def _count_failure(
    session: AsyncSession, user: UserRecord, now: dt.datetime, policy: Policy
) -> dict[str, object]:
    expired_lock = user.locked_until is not None and user.locked_until <= now
    attempts = (0 if expired_lock else user.failed_attempts) + 1
    locked_until = now + policy.lockout if attempts >= policy.lockout_attempts else None
    await user_repo.record_failure(
        session, user_id=user.id, attempts=attempts, locked_until=locked_until
    )
    return {"attempts": attempts, "locked": locked_until is not None}


async def resolve(
    db: Database,
    *,
    token: str | None,
    client_ip: str,
    now: dt.datetime,
    policy: Policy,
    touch: bool = True,
) -> tuple[Viewer | None, bool]:
    """(viewer, expired): the session's account, or None; ``expired`` says a session existed
    but ran out (idle or absolute), so the login page can say why."""
    if not token:
        return None, False
    key = session_key(token)
    async with db.session(readonly=not touch) as session:
        record = await session_repo.get_session(session, session_id=key)
        if record is None:
            return None, False
        stale = now - record.last_seen > policy.idle or now - record.created_at > policy.absolute
        user = await user_repo.get_user_by_id(session, user_id=record.user_id)
        barred = user is None or user.disabled or (
            user.locked_until is not None and user.locked_until > now
        )
        if stale or barred:
            if touch:
                await session_repo.end_session(session, session_id=key)
                await session.commit()
            return None, stale
        assert user is not None
        if touch:
            await session_repo.touch_session(session, session_id=key, now=now)
            await session.commit()
    return Viewer(user, record, client_ip), False


async def logout(db: Database, *, viewer: Viewer, now: dt.datetime) -> None:
    async with db.session() as session:
        await session_repo.end_session(session, session_id=viewer.session.id)
        await audit_repo.append_audit(session, actor=viewer.actor, action="logout", at=now)
        await session.commit()
