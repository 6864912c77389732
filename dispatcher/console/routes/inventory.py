"""Terminal and adapter inventory, inside the viewer's jurisdiction."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.console import scope, views
from dispatcher.console.web import current_viewer, render, state
from dispatcher.store import repo

router = APIRouter()
PAGE = 200


@router.get("/terminals")
async def terminals(request: Request) -> Response:
    viewer = await current_viewer(request)
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
    }, viewer=viewer)


@router.get("/adapters")
async def adapters(request: Request) -> Response:
    viewer = await current_viewer(request)
    console = state(request)
    async with console.platform.db.session(readonly=True) as session:
        rows = [a for a in await repo.list_adapters(session)
                if scope.overlaps(viewer.region, a.regions)]
        upper = await views.upper_links(session, console.platform, console.clock())
    return render(request, "adapters.html", {
        "rows": rows, "running": set(console.platform.adapters), "upper": upper,
    }, viewer=viewer)
