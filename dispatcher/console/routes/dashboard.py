"""The dashboard, its on-air panel, and the SSE stream that keeps the panel live."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from dispatcher.console import auth, events, views
from dispatcher.console.auth import Viewer
from dispatcher.console.mapview import layout
from dispatcher.console.web import (
    SECURITY_HEADERS,
    SESSION_COOKIE,
    client_ip,
    current_viewer,
    fragment,
    render,
    state,
)

router = APIRouter()


async def _panel(request: Request, viewer: Viewer) -> dict[str, Any]:
    console = state(request)
    board = await views.dashboard(console.platform, viewer.region, layout(viewer.region),
                                  console.clock())
    return {"board": board, "map": layout(viewer.region), "percent": views.percent}


@router.get("/")
async def dashboard(request: Request) -> Response:
    viewer = await current_viewer(request)
    panel = await _panel(request, viewer)
    html = fragment(request, "_onair.html", panel, viewer)
    return render(request, "dashboard.html",
                  {**panel, "onair_html": html, "onair_digest": events.digest(html)},
                  viewer=viewer)


@router.get("/fragments/onair")
async def on_air(request: Request) -> Response:
    viewer = await current_viewer(request)
    html = fragment(request, "_onair.html", await _panel(request, viewer), viewer)
    return HTMLResponse(html, headers=SECURITY_HEADERS)


@router.get("/events")
async def live(request: Request) -> Response:
    viewer = await current_viewer(request)
    console = state(request)
    token = request.cookies.get(SESSION_COOKIE)

    async def render_panel() -> str | None:
        # Watching is not activity: the stream checks the session without extending it.
        current, _ = await auth.resolve(
            console.platform.db, token=token, client_ip=client_ip(request),
            now=console.clock(), policy=console.policy, touch=False,
        )
        if current is None:
            return None
        return fragment(request, "_onair.html", await _panel(request, viewer), viewer)

    settings = console.platform.settings
    body = events.stream(
        render=render_panel,
        disconnected=request.is_disconnected,
        interval=settings.console_sse_interval,
        max_seconds=settings.console_sse_max_seconds,
        shown=request.query_params.get("v", ""),
    )
    headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)
