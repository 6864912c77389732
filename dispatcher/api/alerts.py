"""Issuer and status endpoints under /api/v1/alerts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from dispatcher.api.problems import from_intake_error, problem
from dispatcher.errors import IntakeError
from dispatcher.services import status as status_service
from dispatcher.services.cancel import cancel_alert
from dispatcher.services.intake import accept_alert
from dispatcher.store.errors import StoreUnavailable

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise IntakeError(
            "payload-too-large", f"the body is {declared} bytes; the limit is {limit}"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise IntakeError("payload-too-large", f"the body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("", status_code=202, summary="Submit a signed alert (CAP 1.2 XML or EBM JSON)")
async def submit(request: Request) -> Response:
    platform = request.app.state.platform
    try:
        raw = await _body(request, platform.settings.max_body_bytes)
        result = await accept_alert(
            raw=raw,
            content_type=request.headers.get("content-type", ""),
            headers=dict(request.headers),
            ctx=platform.intake,
        )
    except IntakeError as exc:
        platform.metrics.alerts.labels(outcome="refused", code=exc.code).inc()
        return from_intake_error(exc, instance=str(request.url.path))
    location = f"/api/v1/alerts/{result.alert_id}"
    body = {"id": result.alert_id, "state": result.state, "status_url": location}
    if not result.created:
        platform.metrics.alerts.labels(outcome="duplicate", code="").inc()
        return JSONResponse(body, status_code=200, headers={"Location": location})
    platform.metrics.alerts.labels(outcome="accepted", code="").inc()
    platform.fanout.poke()
    return JSONResponse(body, status_code=202, headers={"Location": location})


@router.get("", summary="List alerts")
async def list_alerts(
    request: Request,
    state: str | None = None,
    drill: bool | None = None,
    event_type: str | None = None,
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
) -> Response:
    platform = request.app.state.platform
    try:
        page = await status_service.list_alerts(
            platform.db,
            state=state,
            drill=drill,
            event_type=event_type,
            offset=offset,
            limit=limit,
        )
    except StoreUnavailable as exc:
        return problem("unavailable", 503, str(exc))
    return JSONResponse(page)


@router.get("/{alert_id}", summary="An alert's state, targets, coverage and timeline")
async def get_alert(request: Request, alert_id: str) -> Response:
    platform = request.app.state.platform
    try:
        settings = platform.settings
        view = await status_service.alert_status(
            platform.db, alert_id=alert_id, now=platform.intake.clock(),
            silent_after=dt.timedelta(
                seconds=settings.link_heartbeat_seconds * settings.link_missed_beats),
        )
    except StoreUnavailable as exc:
        return problem("unavailable", 503, str(exc))
    if view is None:
        return problem("not-found", 404, f"no alert {alert_id}")
    return JSONResponse(view)


@router.get("/{alert_id}/log", summary="The dispatch log of one alert (paged; ?format=csv)")
async def get_log(
    request: Request,
    alert_id: str,
    offset: int = Query(0, ge=0),
    limit: int = Query(500, ge=1, le=10_000),
    format: str = Query("json", pattern="^(json|csv)$"),
) -> Response:
    platform = request.app.state.platform
    try:
        page = await status_service.log_page(
            platform.db, alert_id=alert_id, offset=offset, limit=limit
        )
    except StoreUnavailable as exc:
        return problem("unavailable", 503, str(exc))
    if page is None:
        return problem("not-found", 404, f"no alert {alert_id}")
    if format == "csv":
        return Response(
            _csv(page["items"]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="alert-{alert_id}-log.csv"'},
        )
    return JSONResponse(page)


def _csv(items: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at", "alert_id", "task_id", "target", "event", "detail"])
    for item in items:
        writer.writerow(
            [
                item["id"],
                item["at"],
                item["alert_id"],
                item["task_id"] or "",
                item["target"] or "",
                item["event"],
                item["detail_json"],
            ]
        )
    return out.getvalue()


@router.post("/{alert_id}/cancel", status_code=202, summary="Cancel an alert (signed like intake)")
async def cancel(request: Request, alert_id: str) -> Response:
    platform = request.app.state.platform
    try:
        raw = await _body(request, platform.settings.max_body_bytes)
        result = await cancel_alert(
            alert_id=alert_id, raw=raw, headers=dict(request.headers), ctx=platform.intake
        )
    except IntakeError as exc:
        return from_intake_error(exc, instance=str(request.url.path))
    platform.fanout.poke()
    location = f"/api/v1/alerts/{result.alert_id}"
    return JSONResponse(
        {"id": result.alert_id, "cancels": alert_id, "state": result.state, "status_url": location},
        status_code=202,
        headers={"Location": location},
    )
