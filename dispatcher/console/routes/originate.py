"""Originate: template -> form -> preview -> submit (typed DRILL/REAL) -> waits for approval."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from dispatcher.console import compose, regiontree, roles, scope
from dispatcher.console.alert_templates import AlertTemplate
from dispatcher.console.auth import Viewer
from dispatcher.console.compose import DURATIONS, DraftError, FormValues
from dispatcher.console.dispatch import ActionRefused, submit_alert
from dispatcher.console.mapview import layout
from dispatcher.console.repo import audit as audit_repo
from dispatcher.console.views import region_name
from dispatcher.console.web import PREFIX, Refused, current_viewer, posted, redirect, render, state
from dispatcher.domain.alert import Severity
from dispatcher.store import repo

router = APIRouter()


def _template(request: Request, key: str) -> AlertTemplate:
    found = state(request).templates.get(key)
    if found is None:
        raise Refused("error.not_found", 404)
    return found


def _require_submitter(viewer: Viewer) -> None:
    if not roles.can_submit(viewer.role):
        raise Refused("error.role_submit", 403)


async def _form_page(
    request: Request, viewer: Viewer, template: AlertTemplate, values: FormValues,
    errors: list[str], status: int = 200,
) -> Response:
    console = state(request)
    async with console.platform.db.session(readonly=True) as session:
        terminals = await repo.list_terminals(session, region_prefix=scope.prefix(viewer.region))
    tree = regiontree.build(viewer.region, [t.region for t in terminals])
    return render(request, "compose.html", {
        "template": template, "values": values, "errors": errors, "tree": tree,
        "map": layout(viewer.region), "durations": DURATIONS, "severities": list(Severity),
        "languages": compose.LANGUAGES, "selected": set(values.targets),
        "drill": {"drill": True, "real": False}.get(values.mode),
    }, viewer=viewer, status=status)


@router.get("/originate")
async def choose(request: Request) -> Response:
    viewer = await current_viewer(request)
    _require_submitter(viewer)
    return render(request, "originate.html",
                  {"templates": list(state(request).templates.values())}, viewer=viewer)


@router.get("/originate/{key}")
async def form(request: Request, key: str) -> Response:
    viewer = await current_viewer(request)
    _require_submitter(viewer)
    template = _template(request, key)
    values = compose.template_values(template, region_name(viewer.region))
    return await _form_page(request, viewer, template, values, [])


def _values(request: Request, form: FormData, viewer: Viewer) -> FormValues:
    targets = [str(v) for v in form.getlist("targets")]
    polygon = str(form.get("polygon", ""))
    drawn = layout(viewer.region)
    if polygon and drawn is not None:
        targets.extend(drawn.select(polygon))
    return compose.form_values(form, targets)


async def _checked(
    request: Request, viewer: Viewer, template: AlertTemplate, values: FormValues
) -> compose.Draft | Response:
    console = state(request)
    try:
        return compose.check(values, template, account_region=viewer.region,
                             platform_region=console.platform.settings.region)
    except DraftError as exc:
        if exc.code == "outside-jurisdiction":
            async with console.platform.db.session() as session:
                await audit_repo.append_audit(
                    session, actor=viewer.actor, action="alert.compose", at=console.clock(),
                    outcome="refused", detail={"code": exc.code, "targets": list(values.targets)},
                )
                await session.commit()
            return await _form_page(request, viewer, template, values, exc.problems, 403)
        return await _form_page(request, viewer, template, values, exc.problems, 422)


def _preview_context(draft: compose.Draft, values: FormValues) -> dict[str, Any]:
    return {
        "draft": draft, "values": values, "drill": draft.drill,
        "previews": compose.preview(draft.texts, drill=draft.drill),
        "area_names": [region_name(c) for c in draft.targets],
    }


@router.post("/originate/{key}/preview")
async def preview(request: Request, key: str) -> Response:
    viewer, form_data = await posted(request)
    _require_submitter(viewer)
    template = _template(request, key)
    values = _values(request, form_data, viewer)
    draft = await _checked(request, viewer, template, values)
    if isinstance(draft, Response):
        return draft
    return render(request, "preview.html",
                  {"template": template, **_preview_context(draft, values), "errors": []},
                  viewer=viewer)


@router.post("/originate/{key}/submit")
async def submit(request: Request, key: str) -> Response:
    viewer, form_data = await posted(request)
    _require_submitter(viewer)
    template = _template(request, key)
    values = _values(request, form_data, viewer)
    draft = await _checked(request, viewer, template, values)
    if isinstance(draft, Response):
        return draft
    typed = str(form_data.get("confirm", "")).strip().upper()
    if typed != draft.mode_word:
        return render(request, "preview.html",
                      {"template": template, **_preview_context(draft, values),
                       "errors": ["error.confirm_word"]}, viewer=viewer, status=400)
    console = state(request)
    try:
        origination_id = await submit_alert(console.platform, viewer, draft, console.clock())
    except ActionRefused as exc:
        raise Refused(exc.key, exc.status) from exc
    return redirect(f"{PREFIX}/approvals/{origination_id}")
