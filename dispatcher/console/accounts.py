"""Creating and unlocking accounts: shared by `ebc user add` and the admin page."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import exc as sa_exc

from dispatcher.console.passwords import hash_password, new_totp_secret
from dispatcher.console.records import Actor, UserRecord
from dispatcher.console.repo import audit as audit_repo
from dispatcher.console.repo import sessions as session_repo
from dispatcher.console.repo import users as user_repo
from dispatcher.console.roles import Role
from dispatcher.domain.regions import region_table
from dispatcher.store.db import Database
from protocols.codes import RegionCode
from protocols.errors import CodeError

USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")


class AccountError(ValueError):
    pass


def check_region(region: str, *, within: str) -> str:
    try:
        code = RegionCode.parse(region)
    except CodeError as exc:
        raise AccountError(f"region: {exc}") from exc
    if not region_table().exists(code):
        raise AccountError(f"region {code.value} is not in the NBS table")
    if not RegionCode(within).contains(code):
        raise AccountError(f"region {code.value} lies outside {within}")
    return code.value


async def create_user(
    db: Database,
    *,
    username: str,
    password: str,
    role: str,
    region: str,
    within: str,
    totp: bool,
    now: dt.datetime,
    actor: Actor | None = None,
) -> tuple[UserRecord, str | None]:
    """The new account and its TOTP secret (shown once), or AccountError saying why not."""
    if not USERNAME.match(username):
        raise AccountError("username: 2-64 letters, digits, '_', '.' or '-'")
    if role not in {r.value for r in Role}:
        raise AccountError(f"role must be one of {', '.join(r.value for r in Role)}")
    code = check_region(region, within=within)
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from exc
    secret = new_totp_secret() if totp else None
    async with db.session() as session:
        if await user_repo.get_user(session, username=username) is not None:
            raise AccountError(f"user {username} already exists")
        try:
            user = await user_repo.add_user(
                session, username=username, password_hash=hashed, role=role, region=code,
                totp_secret=secret, now=now,
            )
        except sa_exc.IntegrityError as exc:
            raise AccountError(f"user {username} already exists") from exc
        who = actor or Actor("cli", "admin", code, "local")
        await audit_repo.append_audit(
            session, actor=who, action="user.add", at=now, target=username,
            detail={"role": role, "region": code, "totp": totp},
        )
        await session.commit()
    return user, secret


async def unlock_user(db: Database, *, username: str, actor: Actor, now: dt.datetime) -> bool:
    async with db.session() as session:
        user = await user_repo.get_user(session, username=username)
        if user is None or not RegionCode(actor.region).contains(RegionCode(user.region)):
            return False
        await user_repo.clear_failures(session, user_id=user.id)
        await session_repo.end_user_sessions(session, user_id=user.id)
        await audit_repo.append_audit(session, actor=actor, action="user.unlock", at=now,
                                      target=username)
        await session.commit()
    return True
