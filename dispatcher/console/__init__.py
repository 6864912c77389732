"""The county operator web console, served at /console (docs/console.md).

    from dispatcher.console import mount_console
    mount_console(app, platform)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

if TYPE_CHECKING:
    from dispatcher.app import Platform


def mount_console(app: FastAPI, platform: Platform) -> None:
    # Imported here so that importing dispatcher.console (e.g. for its models) stays light.
    from urllib.parse import quote

    from dispatcher.console.routes import (
        admin,
        approvals,
        dashboard,
        inventory,
        logs,
        manage,
        originate,
        session_pages,
    )
    from dispatcher.console.web import (
        HERE,
        PREFIX,
        LoginRequired,
        Refused,
        build_state,
        redirect,
        render,
    )

    app.state.console = build_state(platform)
    for module in (session_pages, dashboard, originate, approvals, logs, inventory, admin,
                   manage):
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if request.url.path.endswith("/events") or request.url.path.startswith(
            f"{PREFIX}/fragments/"
        ):
            return Response(status_code=401)
        target = f"{PREFIX}/login?next={quote(request.url.path)}"
        return redirect(target + ("&expired=1" if exc.expired else ""))

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return render(request, "error.html", {"message": exc.key}, status=exc.status)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(Refused, refused)
