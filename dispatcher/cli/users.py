"""``ebc user add|list``: console accounts (docs/console.md). The first admin is made here."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from dispatcher.cli.output import emit, fail
from dispatcher.config import ConfigError, Settings, load_settings

app = typer.Typer(help="Console accounts.", no_args_is_help=True)

DirOption = Annotated[Path, typer.Option("--dir", help="The platform directory.")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _settings(directory: Path, as_json: bool) -> Settings:
    try:
        return load_settings(directory)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json, code=ConfigError.code)


async def _with_db(settings: Settings, work: Any) -> Any:
    from dispatcher.store.db import Database

    db = Database(settings.database_url)
    await db.start()
    try:
        return await work(db)
    finally:
        await db.stop()


@app.command("add")
def add(
    dir: DirOption,
    username: Annotated[str, typer.Option("--username")],
    role: Annotated[str, typer.Option("--role", help="operator, approver, admin or auditor")],
    region: Annotated[str | None, typer.Option(
        "--region", help="The account's jurisdiction; default: the platform's.")] = None,
    password: Annotated[str | None, typer.Option(
        "--password", help="Prompted for (twice) when not given.")] = None,
    totp: Annotated[bool, typer.Option("--totp", help="Require a TOTP second factor.")] = False,
    as_json: AsJson = False,
) -> None:
    """Add a console account bound to a jurisdiction."""
    from dispatcher.console.accounts import AccountError, create_user
    from dispatcher.console.passwords import totp_uri

    settings = _settings(dir, as_json)
    secret_word = password or typer.prompt("Password", hide_input=True,
                                           confirmation_prompt=True)

    async def work(db: Any) -> Any:
        return await create_user(
            db, username=username, password=secret_word, role=role,
            region=region or settings.region, within=settings.region, totp=totp,
            now=dt.datetime.now(dt.UTC),
        )

    try:
        user, secret = asyncio.run(_with_db(settings, work))
    except AccountError as exc:
        fail(str(exc), as_json=as_json)
    data = {"username": user.username, "role": user.role, "region": user.region,
            "totp_uri": totp_uri(secret, user.username) if secret else None}
    lines = [f"added {user.username} ({user.role}, {user.region})"]
    if secret:
        lines.append(f"TOTP (shown once; add it to an authenticator): {data['totp_uri']}")
    emit(data, as_json=as_json, human=lines)


@app.command("list")
def list_users(dir: DirOption, as_json: AsJson = False) -> None:
    """List console accounts."""
    from dispatcher.console.repo.users import list_users as repo_list

    settings = _settings(dir, as_json)

    async def work(db: Any) -> Any:
        async with db.session(readonly=True) as session:
            return await repo_list(session)

    users = asyncio.run(_with_db(settings, work))
    now = dt.datetime.now(dt.UTC)
    data = [
        {"username": u.username, "role": u.role, "region": u.region, "totp": bool(u.totp_secret),
         "locked": bool(u.locked_until and u.locked_until > now),
         "failed_attempts": u.failed_attempts}
        for u in users
    ]
    emit(data, as_json=as_json, human=[
        f"{d['username']:<20} {d['role']:<9} {d['region']} "
        f"{'totp ' if d['totp'] else ''}{'LOCKED' if d['locked'] else ''}".rstrip()
        for d in data
    ] or ["no accounts"])
