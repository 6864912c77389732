"""Admin pages for trusted keys (the issuers' trust store) and the originate templates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.console import manage, roles
from dispatcher.console.auth import Viewer
from dispatcher.console.web import (
    PREFIX,
    TEMPLATE_FILE,
    Refused,
    current_viewer,
    posted,
    redirect,
    render,
    require_admin,
    state,
)
from dispatcher.domain.alert import Severity
from signing.trust import MSG_TYPES

router = APIRouter()


def _admin_reader(viewer: Viewer) -> None:
    if not roles.can_administer(viewer.role):
        raise Refused("error.role_manage", 403)


# -- keys --------------------------------------------------------------------------------


async def _keys_page(request: Request, viewer: Viewer, *, status: int = 200,
                     **extra: Any) -> Response:
    console = state(request)
    store = manage.load_trust(console.platform)
    entries = manage.visible_keys(store, viewer.region)
    return render(request, "keys.html", {
        "entries": entries, "manageable": lambda e: manage.manageable(e, viewer.region),
        "msg_types": MSG_TYPES, "error": None, "added": None, "form": {}, **extra,
    }, viewer=viewer, status=status)


@router.get("/keys")
async def keys(request: Request) -> Response:
    viewer = await current_viewer(request)
    _admin_reader(viewer)
    return await _keys_page(request, viewer)


@router.post("/keys")
async def add_key(request: Request) -> Response:
    viewer, form = await posted(request)
    await require_admin(request, viewer, "key.add")
    console = state(request)
    values = {k: str(form.get(k, "")) for k in
              ("cert_sn", "public_key", "name", "regions", "event_types")}
    msg_types = [str(v) for v in form.getlist("msg_types")]
    try:
        entry = await manage.add_key(
            console.platform, viewer.actor, cert_sn=values["cert_sn"],
            public_key=values["public_key"], name=values["name"], regions=values["regions"],
            event_types=values["event_types"], msg_types=msg_types, now=console.clock(),
        )
    except manage.AdminError as exc:
        return await _keys_page(request, viewer, status=exc.status, error=exc,
                                form={**values, "msg_types": msg_types})
    return await _keys_page(request, viewer, added=entry.cert_sn.value)


@router.post("/keys/{cert_sn}/revoke")
async def revoke_key(request: Request, cert_sn: str) -> Response:
    viewer, _ = await posted(request)
    await require_admin(request, viewer, "key.revoke")
    console = state(request)
    try:
        await manage.revoke_key(console.platform, viewer.actor, cert_sn=cert_sn,
                                now=console.clock())
    except manage.AdminError as exc:
        return await _keys_page(request, viewer, status=exc.status, error=exc)
    return redirect(f"{PREFIX}/keys")


# -- templates ---------------------------------------------------------------------------


async def _templates_page(request: Request, viewer: Viewer, *, status: int = 200,
                          **extra: Any) -> Response:
    console = state(request)
    return render(request, "templates_admin.html", {
        "templates": list(console.templates.values()), "defaults": console.default_templates,
        "severities": list(Severity), "error": None, "error_key": "", "saved": "",
        "form": {}, **extra,
    }, viewer=viewer, status=status)


@router.get("/templates")
async def templates(request: Request) -> Response:
    viewer = await current_viewer(request)
    _admin_reader(viewer)
    return await _templates_page(request, viewer)


async def _edit(request: Request, key: str, *, reset: bool) -> Response:
    viewer, form = await posted(request)
    await require_admin(request, viewer, "template.reset" if reset else "template.edit")
    console = state(request)
    fields = {name: str(form.get(name, "")) for name in
              ("title_zh", "body_zh", "title_en", "body_en", "event_type", "severity")}
    try:
        await manage.edit_template(
            console.platform, viewer.actor, console.templates, key=key, fields=fields,
            now=console.clock(), reset=reset, defaults=console.default_templates,
            template_file=TEMPLATE_FILE,
        )
    except manage.AdminError as exc:
        if exc.status == 404:
            raise Refused(exc.key, 404) from None
        return await _templates_page(request, viewer, status=exc.status, error=exc,
                                     error_key=key, form=fields)
    return await _templates_page(request, viewer, saved=key)


@router.post("/templates/{key}")
async def edit_template(request: Request, key: str) -> Response:
    return await _edit(request, key, reset=False)


@router.post("/templates/{key}/reset")
async def reset_template(request: Request, key: str) -> Response:
    return await _edit(request, key, reset=True)
