"""Login, logout and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.console import auth, csrf, i18n
from dispatcher.console.auth import LoginRefused
from dispatcher.console.web import (
    PREFIX,
    SESSION_COOKIE,
    client_ip,
    posted,
    redirect,
    render,
    set_session_cookie,
    state,
)

router = APIRouter()


def _safe_next(value: object) -> str:
    text = str(value or "")
    # Only our own pages: an open redirect after login is a phishing aid.
    if text.startswith(PREFIX + "/") and "//" not in text and "\\" not in text:
        return text
    return PREFIX + "/"


def _login_page(request: Request, *, message: str = "", status: int = 200,
                next_url: str = "") -> Response:
    token = csrf.new_token()
    response = render(request, "login.html",
                      {"message": message, "login_csrf": token, "next": next_url}, status=status)
    response.set_cookie(csrf.LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=state(request).secure_cookies, path=PREFIX)
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    message = "login.expired" if request.query_params.get("expired") else ""
    return _login_page(request, message=message,
                       next_url=_safe_next(request.query_params.get("next")))


@router.post("/login")
async def login(request: Request) -> Response:
    console = state(request)
    form = await request.form()
    if not csrf.matches(request.cookies.get(csrf.LOGIN_COOKIE), form.get(csrf.FIELD)):
        return _login_page(request, message="error.csrf", status=403)
    try:
        _viewer, token = await auth.login(
            console.platform.db,
            username=str(form.get("username", "")),
            password=str(form.get("password", "")),
            totp_code=str(form.get("totp", "")),
            client_ip=client_ip(request),
            now=console.clock(),
            policy=console.policy,
            site_region=console.platform.settings.region,
        )
    except LoginRefused as exc:
        status = 423 if exc.reason == "locked" else 401
        return _login_page(request, message=f"login.{exc.reason}", status=status)
    response = redirect(_safe_next(form.get("next")))
    set_session_cookie(response, token, console.secure_cookies)
    response.delete_cookie(csrf.LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    viewer, _ = await posted(request)
    console = state(request)
    await auth.logout(console.platform.db, viewer=viewer, now=console.clock())
    response = redirect(PREFIX + "/login")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/lang/{code}")
async def switch_language(request: Request, code: str) -> Response:
    response = redirect(_safe_next(request.query_params.get("next")))
    response.set_cookie(i18n.COOKIE, i18n.language(code), samesite="strict", path=PREFIX,
                        secure=state(request).secure_cookies, max_age=365 * 86400)
    return response

