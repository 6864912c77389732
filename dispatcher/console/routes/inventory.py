"""Terminal and adapter inventory, inside the viewer's jurisdiction; an admin also provisions
terminals and enables or disables adapters here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.console import manage, scope, views
from dispatcher.console.auth import Viewer
from dispatcher.console.web import (
    PREFIX,
    current_viewer,
    posted,
    redirect,
    render,
    require_admin,
    state,
)
from dispatcher.store import repo

router = APIRouter()
PAGE = 200


async def _bearers(request: Request) -> list[str]:
    async with state(request).platform.db.session(readonly=True) as session:
        return manage.terminal_bearers([a.bearer for a in await repo.list_adapters(session)])


async def _terminals_page(
    request: Request, viewer: Viewer, *, status: int = 200, **extra: Any
) -> Response:
    console = state(request)
    region = request.query_params.get("region", "").strip()
    bearer = request.query_params.get("bearer", "").strip() or None
    health = request.query_params.get("health", "").strip()
    prefix = scope.prefix(viewer.region)
    if region.isdigit() and region.startswith(prefix):
        prefix = region
    async with console.platform.db.session(readonly=True) as session:
        rows = await repo.list_terminals(session, region_prefix=prefix, bearer=bearer)
    if health:
        rows = [t for t in rows if views.HEALTH.get(t.state, "offline") == health]
    return render(request, "terminals.html", {
        "rows": rows[:PAGE], "total": len(rows), "region": region, "bearer": bearer or "",
        "health": health, "health_of": lambda s: views.HEALTH.get(s, "offline"),
        "bearers": await _bearers(request), "provisioned": None, "error": None,
        "form": {}, **extra,
    }, viewer=viewer, status=status)


@router.get("/terminals")
async def terminals(request: Request) -> Response:
    viewer = await current_viewer(request)
    return await _terminals_page(request, viewer)


@router.post("/terminals")
async def provision(request: Request) -> Response:
    """Provision a terminal (admin): the generated password is shown on this answer only."""
    viewer, form = await posted(request)
    await require_admin(request, viewer, "terminal.provision")
    console = state(request)
    values = {k: str(form.get(k, "")) for k in ("ebrid", "bearer", "name")}
    try:
        made = await manage.provision_terminal(
            console.platform, viewer.actor, ebrid=values["ebrid"], bearer=values["bearer"],
            name=values["name"], bearers=await _bearers(request), now=console.clock(),
        )
    except manage.AdminError as exc:
        return await _terminals_page(request, viewer, status=exc.status, error=exc, form=values)
    return await _terminals_page(request, viewer, provisioned=made)


async def _adapters_page(
    request: Request, viewer: Viewer, *, status: int = 200, error: manage.AdminError | None = None
) -> Response:
    console = state(request)
    async with console.platform.db.session(readonly=True) as session:
        rows = [a for a in await repo.list_adapters(session)
                if scope.overlaps(viewer.region, a.regions)]
        upper = await views.upper_links(session, console.platform, console.clock())
    return render(request, "adapters.html", {
        "rows": rows, "running": set(console.platform.adapters), "upper": upper,
        "error": error, "editable": lambda a: a.bearer != "platform"
        and scope.all_inside(viewer.region, a.regions),
    }, viewer=viewer, status=status)


@router.get("/adapters")
async def adapters(request: Request) -> Response:
    viewer = await current_viewer(request)
    return await _adapters_page(request, viewer)


async def _set_enabled(request: Request, ebrid: str, enabled: bool) -> Response:
    viewer, _ = await posted(request)
    await require_admin(request, viewer, "adapter.enable" if enabled else "adapter.disable")
    console = state(request)
    try:
        await manage.set_adapter_enabled(console.platform, viewer.actor, ebrid=ebrid,
                                         enabled=enabled, now=console.clock())
    except manage.AdminError as exc:
        return await _adapters_page(request, viewer, status=exc.status, error=exc)
    return redirect(f"{PREFIX}/adapters")


@router.post("/adapters/{ebrid}/enable")
async def enable(request: Request, ebrid: str) -> Response:
    return await _set_enabled(request, ebrid, True)


@router.post("/adapters/{ebrid}/disable")
async def disable(request: Request, ebrid: str) -> Response:
    return await _set_enabled(request, ebrid, False)
