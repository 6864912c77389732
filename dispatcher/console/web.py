"""Request plumbing shared by the console routes: state, rendering, who is asking, CSRF."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from dispatcher.console import auth, csrf, i18n, roles
from dispatcher.console.alert_templates import (
    AlertTemplate,
    apply_overrides,
    catalogue,
    load_overrides,
)
from dispatcher.console.auth import Policy, Viewer
from dispatcher.console.repo import audit as audit_repo
from dispatcher.console.views import percent, region_name

if TYPE_CHECKING:
    from dispatcher.app import Platform

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "ebc_session"
PREFIX = "/console"
TEMPLATE_FILE = "console_templates.json"
CST = dt.timezone(dt.timedelta(hours=8))
SECURITY_HEADERS = {
    # Everything is served from here: duty networks are closed, and nothing else may load.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    def __init__(self, expired: bool) -> None:
        super().__init__("login required")
        self.expired = expired


class Refused(Exception):
    """Render the error page with an i18n message and status."""

    def __init__(self, key: str, status: int = 403) -> None:
        super().__init__(key)
        self.key = key
        self.status = status


@dataclass
class ConsoleState:
    platform: Platform
    env: Environment
    policy: Policy
    templates: dict[str, AlertTemplate]
    #: The templates before the admin's overrides (console_templates.json): "reset" goes back.
    default_templates: dict[str, AlertTemplate]

    @property
    def clock(self) -> Callable[[], dt.datetime]:
        return self.platform.intake.clock

    @property
    def secure_cookies(self) -> bool:
        return self.platform.settings.console_secure_cookies


def build_state(platform: Platform) -> ConsoleState:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cst"] = _cst
    # Readable Chinese in details; autoescaping still applies to the result.
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
    env.globals.update(
        region_name=region_name,
        percent=percent,
        can_submit=roles.can_submit,
        can_approve=roles.can_approve,
        can_administer=roles.can_administer,
        can_read_audit=roles.can_read_audit,
    )
    defaults = catalogue(platform.settings.console_event_types)
    overrides = load_overrides(platform.settings.dir / TEMPLATE_FILE)
    return ConsoleState(
        platform=platform,
        env=env,
        policy=Policy.from_settings(platform.settings),
        templates=apply_overrides(defaults, overrides),
        default_templates=defaults,
    )


def _cst(value: dt.datetime | None, seconds: bool = True) -> str:
    if value is None:
        return "—"
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def state(request: Request) -> ConsoleState:
    value: ConsoleState = request.app.state.console
    return value


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "-"


def lang(request: Request) -> str:
    return i18n.language(request.cookies.get(i18n.COOKIE))


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None = None,
    status: int = 200,
) -> HTMLResponse:
    console = state(request)
    language = lang(request)
    html = console.env.get_template(name).render(
        t=i18n.translator(language),
        lang=language,
        viewer=viewer,
        csrf_token=viewer.csrf_token if viewer else "",
        platform_name=console.platform.settings.name,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def fragment(request: Request, name: str, context: dict[str, Any], viewer: Viewer) -> str:
    console = state(request)
    language = lang(request)
    return console.env.get_template(name).render(
        t=i18n.translator(language), lang=language, viewer=viewer,
        csrf_token=viewer.csrf_token, **context,
    )


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


async def current_viewer(request: Request) -> Viewer:
    """The signed-in account; LoginRequired sends the browser to the login page."""
    console = state(request)
    viewer, expired = await auth.resolve(
        console.platform.db,
        token=request.cookies.get(SESSION_COOKIE),
        client_ip=client_ip(request),
        now=console.clock(),
        policy=console.policy,
    )
    if viewer is None:
        raise LoginRequired(expired)
    return viewer


async def posted(request: Request) -> tuple[Viewer, FormData]:
    """A signed-in POST whose form carries the session's CSRF token."""
    viewer = await current_viewer(request)
    form = await request.form()
    if not csrf.matches(viewer.csrf_token, form.get(csrf.FIELD)):
        console = state(request)
        async with console.platform.db.session() as session:
            await audit_repo.append_audit(
                session, actor=viewer.actor, action="csrf", at=console.clock(),
                target=request.url.path, outcome="refused",
            )
            await session.commit()
        raise Refused("error.csrf", 403)
    return viewer, form


def set_session_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure, path=PREFIX
    )


async def require_admin(request: Request, viewer: Viewer, action: str) -> None:
    """Admin changes only: anyone else is refused (403), and the attempt is audited."""
    if roles.can_administer(viewer.role):
        return
    console = state(request)
    async with console.platform.db.session() as session:
        await audit_repo.append_audit(
            session, actor=viewer.actor, action=action, at=console.clock(),
            target=request.url.path, outcome="refused", detail={"reason": "role"},
        )
        await session.commit()
    raise Refused("error.role_manage", 403)
