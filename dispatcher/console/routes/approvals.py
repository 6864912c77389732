"""The second person: pending originations, approve (typed DRILL/REAL), reject, and the
prepared one-click cancel every live alert carries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.console import compose, scope
from dispatcher.console.compose import Draft
from dispatcher.console.dispatch import ActionRefused, approve, reject, request_cancel
from dispatcher.console.repo import originations as orig_repo
from dispatcher.console.views import region_name
from dispatcher.console.web import PREFIX, Refused, current_viewer, posted, redirect, render, state
from dispatcher.store import repo

router = APIRouter()


@router.get("/approvals")
async def pending(request: Request) -> Response:
    viewer = await current_viewer(request)
    console = state(request)
    async with console.platform.db.session(readonly=True) as session:
        items = await orig_repo.list_originations(session, limit=200)
    mine = [o for o in items if scope.overlaps(viewer.region, o.targets)]
    return render(request, "approvals.html", {
        "pending": [o for o in mine if o.state == "pending"],
        "decided": [o for o in mine if o.state != "pending"][:50],
    }, viewer=viewer)


@router.get("/approvals/{origination_id}")
async def detail(request: Request, origination_id: str) -> Response:
    viewer = await current_viewer(request)
    console = state(request)
    async with console.platform.db.session(readonly=True) as session:
        orig = await orig_repo.get_origination(session, origination_id=origination_id)
        cancelled = (await repo.get_alert(session, alert_id=orig.cancels)
                     if orig is not None and orig.cancels else None)
    if orig is None or not scope.overlaps(viewer.region, orig.targets):
        raise Refused("error.not_found", 404)
    draft = Draft.from_payload(orig.payload) if orig.kind == "alert" else None
    return render(request, "approval.html", {
        "orig": orig, "draft": draft, "drill": orig.drill, "cancelled_alert": cancelled,
        "previews": compose.preview(draft.texts, drill=draft.drill) if draft else [],
        "area_names": [region_name(c) for c in orig.targets],
        "mode_word": compose.confirm_word(orig.drill),
        "own": orig.submitted_by == viewer.username,
        "errors": [],
    }, viewer=viewer)


@router.post("/approvals/{origination_id}/approve")
async def approve_it(request: Request, origination_id: str) -> Response:
    viewer, form = await posted(request)
    console = state(request)
    try:
        outcome = await approve(console.platform, viewer, origination_id,
                                str(form.get("confirm", "")), console.clock())
    except ActionRefused as exc:
        raise Refused(exc.key, exc.status) from exc
    if outcome.alert_id is None:
        return redirect(f"{PREFIX}/approvals/{origination_id}")
    back = str(form.get("back", ""))
    if back == "dashboard":
        return redirect(f"{PREFIX}/#alert-{outcome.alert_id}")
    return redirect(f"{PREFIX}/alerts/{outcome.alert_id}")


@router.post("/approvals/{origination_id}/reject")
async def reject_it(request: Request, origination_id: str) -> Response:
    viewer, form = await posted(request)
    console = state(request)
    try:
        await reject(console.platform, viewer, origination_id, str(form.get("reason", "")),
                     console.clock())
    except ActionRefused as exc:
        raise Refused(exc.key, exc.status) from exc
    return redirect(f"{PREFIX}/approvals")


@router.post("/alerts/{alert_id}/cancel")
async def cancel(request: Request, alert_id: str) -> Response:
    viewer, _ = await posted(request)
    console = state(request)
    try:
        await request_cancel(console.platform, viewer, alert_id, console.clock())
    except ActionRefused as exc:
        raise Refused(exc.key, exc.status) from exc
    return redirect(f"{PREFIX}/#alert-{alert_id}")
