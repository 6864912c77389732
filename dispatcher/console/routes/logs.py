"""The dispatch log (search, filter, CSV) and one alert's page with its timeline."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.console import scope, views
from dispatcher.console.auth import Viewer
from dispatcher.console.issuer import CONTENT_TYPE, verify_envelope
from dispatcher.console.repo import audit as audit_repo
from dispatcher.console.repo.logsearch import OUTCOMES, LogQuery, LogRow, search_log
from dispatcher.console.web import CST, SECURITY_HEADERS, Refused, current_viewer, render, state
from dispatcher.store import repo

router = APIRouter()

PAGE = 100
CSV_LIMIT = 100_000
DEFAULT_WINDOW = dt.timedelta(days=30)
FILTERS = ("from", "to", "alert", "region", "terminal", "bearer", "outcome")


def _when(text: str) -> dt.datetime | None:
    """A datetime-local value, read as China Standard Time (what the desk's clocks show)."""
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=CST) if text else None
    except ValueError:
        return None


def _digits(text: str) -> str | None:
    cleaned = text.strip()
    return cleaned if cleaned.isdigit() else None


async def _query(
    request: Request, viewer: Viewer, params: Mapping[str, str], *, offset: int, limit: int
) -> tuple[list[LogRow], int]:
    console = state(request)
    since = _when(params.get("from", ""))
    until = _when(params.get("to", ""))
    needle = params.get("alert", "").strip()
    async with console.platform.db.session(readonly=True) as session:
        window = since or console.clock() - DEFAULT_WINDOW
        visible = await views.visible_alerts(session, viewer.region, since=window, limit=2000)
        chosen = [a for a in visible
                  if not needle or needle == a.id or needle in a.identifier or needle in a.title]
        query = LogQuery(
            alert_ids=[a.id for a in chosen],
            jurisdiction_prefix=scope.prefix(viewer.region),
            since=since, until=until,
            region_prefix=_digits(params.get("region", "")),
            terminal=params.get("terminal", "").strip() or None,
            bearer=params.get("bearer", "").strip() or None,
            outcome=params.get("outcome", "").strip() or None,
            offset=offset, limit=limit,
        )
        return await search_log(session, query=query)


@router.get("/log")
async def log_page(request: Request) -> Response:
    viewer = await current_viewer(request)
    params = {k: request.query_params.get(k, "") for k in FILTERS}
    try:
        page = max(int(request.query_params.get("page", "1")), 1)
    except ValueError:
        page = 1
    rows, total = await _query(request, viewer, params, offset=(page - 1) * PAGE, limit=PAGE)
    return render(request, "log.html", {
        "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE)),
        "params": params, "outcomes": list(OUTCOMES), "query": request.url.query,
    }, viewer=viewer)


@router.get("/log.csv")
async def log_csv(request: Request) -> Response:
    viewer = await current_viewer(request)
    params = {k: request.query_params.get(k, "") for k in FILTERS}
    rows, total = await _query(request, viewer, params, offset=0, limit=CSV_LIMIT)
    console = state(request)
    async with console.platform.db.session() as session:
        await audit_repo.append_audit(
            session, actor=viewer.actor, action="log.export", at=console.clock(),
            detail={"filters": {k: v for k, v in params.items() if v}, "rows": len(rows)},
        )
        await session.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at", "alert_id", "title", "drill", "task_id", "bearer", "target",
                     "region", "event", "detail"])
    for r in rows:
        writer.writerow([r.id, r.at.isoformat(), r.alert_id, r.title, r.drill, r.task_id or "",
                         r.bearer or "", r.target or "", r.region or "", r.event,
                         json.dumps(r.detail, ensure_ascii=False, sort_keys=True)])
    # A BOM so the spreadsheet programs on duty desks read the Chinese titles as UTF-8.
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        **SECURITY_HEADERS,
        "Content-Disposition": 'attachment; filename="dispatch-log.csv"',
        "X-Total-Count": str(total),
    })


@router.get("/alerts/{alert_id}")
async def alert_page(request: Request, alert_id: str) -> Response:
    viewer = await current_viewer(request)
    console = state(request)
    async with console.platform.db.session(readonly=True) as session:
        alert = await repo.get_alert(session, alert_id=alert_id)
        if alert is None or not scope.overlaps(viewer.region, alert.targets):
            raise Refused("error.not_found", 404)
        card = await views.alert_card(session, alert, viewer.region, now=console.clock(),
                                      silent_after=views.silent_allowance(console.platform))
        tasks = await repo.tasks_for_alert(session, alert_id=alert_id)
        timeline = await repo.alert_timeline(session, alert_id=alert_id)
    signed = None
    if alert.content_type == CONTENT_TYPE:
        signed = verify_envelope(alert.body, console.platform.signer.public_key) is not None
    return render(request, "alert.html", {
        "card": card, "alert": alert, "tasks": tasks, "timeline": timeline, "signed": signed,
        "drill": alert.drill, "percent": views.percent,
    }, viewer=viewer)
