"""Audit log (admin, auditor) and accounts (admin), inside the viewer's jurisdiction."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.console import accounts, roles, scope
from dispatcher.console.auth import Viewer
from dispatcher.console.passwords import totp_uri
from dispatcher.console.repo import audit as audit_repo
from dispatcher.console.repo import users as user_repo
from dispatcher.console.roles import Role
from dispatcher.console.web import PREFIX, Refused, current_viewer, posted, redirect, render, state

router = APIRouter()
PAGE = 100


@router.get("/audit")
async def audit(request: Request) -> Response:
    viewer = await current_viewer(request)
    if not roles.can_read_audit(viewer.role):
        raise Refused("error.role_audit", 403)
    console = state(request)
    username = request.query_params.get("user", "").strip() or None
    action = request.query_params.get("action", "").strip() or None
    try:
        page = max(int(request.query_params.get("page", "1")), 1)
    except ValueError:
        page = 1
    async with console.platform.db.session(readonly=True) as session:
        rows, total = await audit_repo.audit_page(
            session, region_prefix=scope.prefix(viewer.region), username=username,
            action=action, offset=(page - 1) * PAGE, limit=PAGE,
        )
    return render(request, "audit.html", {
        "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE)),
        "user": username or "", "action": action or "",
    }, viewer=viewer)


async def _users_page(request: Request, viewer: Viewer, *, message: str = "",
                      created: dict[str, str] | None = None, status: int = 200) -> Response:
    console = state(request)
    async with console.platform.db.session(readonly=True) as session:
        users = [u for u in await user_repo.list_users(session)
                 if scope.inside(viewer.region, u.region)]
    return render(request, "users.html", {
        "users": users, "roles": [r.value for r in Role], "message": message,
        "created": created, "now": console.clock(),
    }, viewer=viewer, status=status)


@router.get("/users")
async def users(request: Request) -> Response:
    viewer = await current_viewer(request)
    if not roles.can_administer(viewer.role):
        raise Refused("error.role_admin", 403)
    return await _users_page(request, viewer)


@router.post("/users")
async def add_user(request: Request) -> Response:
    viewer, form = await posted(request)
    if not roles.can_administer(viewer.role):
        raise Refused("error.role_admin", 403)
    console = state(request)
    try:
        user, secret = await accounts.create_user(
            console.platform.db,
            username=str(form.get("username", "")).strip(),
            password=str(form.get("password", "")),
            role=str(form.get("role", "")),
            region=str(form.get("region", "")).strip(),
            within=viewer.region,
            totp=form.get("totp") == "on",
            now=console.clock(),
            actor=viewer.actor,
        )
    except accounts.AccountError as exc:
        return await _users_page(request, viewer, message=str(exc), status=422)
    created = {"username": user.username}
    if secret:
        created["totp_uri"] = totp_uri(secret, user.username)
    return await _users_page(request, viewer, created=created)


@router.post("/users/{username}/unlock")
async def unlock(request: Request, username: str) -> Response:
    viewer, _ = await posted(request)
    if not roles.can_administer(viewer.role):
        raise Refused("error.role_admin", 403)
    console = state(request)
    await accounts.unlock_user(console.platform.db, username=username, actor=viewer.actor,
                               now=console.clock())
    return redirect(f"{PREFIX}/users")
