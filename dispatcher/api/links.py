"""GET /api/v1/links: the upper and lower platforms and their heartbeat state."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from dispatcher.api.problems import problem
from dispatcher.store import repo
from dispatcher.store.errors import StoreUnavailable

router = APIRouter(prefix="/api/v1/links", tags=["hierarchy"])


@router.get("", summary="Linked platforms with their heartbeat state")
async def list_links(request: Request) -> Response:
    platform = request.app.state.platform
    settings = platform.settings
    try:
        async with platform.db.session(readonly=True) as session:
            seen = {link.ebrid: link for link in await repo.list_links(session)}
    except StoreUnavailable as exc:
        return problem("unavailable", 503, str(exc))
    now = platform.intake.clock()
    limit = dt.timedelta(seconds=settings.link_heartbeat_seconds * settings.link_missed_beats)
    items = []
    for link in settings.links:
        state = seen.get(link.ebrid)
        heard = state.last_heard if state else None
        items.append(
            {
                "role": link.role,
                "ebrid": link.ebrid,
                "url": link.url,
                "name": link.name,
                "fallback": link.fallback,
                "region": link.region.value,
                "heartbeat": "never heard"
                if heard is None
                else ("silent" if now - heard > limit else "ok"),
                "last_heard": heard.isoformat() if heard else None,
                "last_sent": state.last_sent.isoformat() if state and state.last_sent else None,
                "last_error": state.last_error if state else None,
                "resources": dict(state.resources) if state else {},
            }
        )
    return JSONResponse({"items": items})
