"""Terminal inventory: list and inspect; provision with a signed request."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from dispatcher.api.problems import from_intake_error, problem
from dispatcher.errors import IntakeError
from dispatcher.services.authn import verify_request
from dispatcher.store import repo
from dispatcher.store.errors import StoreUnavailable
from dispatcher.store.records import NewTerminal, TerminalRecord
from protocols.codes import RegionCode, ResourceCode
from protocols.errors import CodeError
from terminals.credentials import hash_password, new_password

router = APIRouter(prefix="/api/v1/terminals", tags=["terminals"])

BEARERS = ("ip", "fm", "dtmb", "cable", "dth", "legacy-ip")


def _view(t: TerminalRecord) -> dict[str, Any]:
    return {
        "ebrid": t.ebrid,
        "bearer": t.bearer,
        "region": t.region,
        "name": t.name,
        "state": t.state,
        "firmware": t.firmware,
        "last_seen": t.last_seen.isoformat() if t.last_seen else None,
    }


@router.get("", summary="List terminals (filter by region prefix, bearer, state)")
async def list_terminals(
    request: Request,
    region: str | None = None,
    bearer: str | None = None,
    state: str | None = None,
    offset: int = Query(0, ge=0),
    limit: int = Query(500, ge=1, le=10_000),
) -> Response:
    platform = request.app.state.platform
    prefix = None
    if region:
        try:
            prefix = RegionCode.parse(region).significant
        except CodeError as exc:
            return problem("invalid-request", 400, str(exc))
    try:
        async with platform.db.session() as session:
            rows = await repo.list_terminals(session, region_prefix=prefix, bearer=bearer)
    except StoreUnavailable as exc:
        return problem("unavailable", 503, str(exc))
    if state:
        rows = [t for t in rows if t.state == state]
    counts: dict[str, int] = {}
    for t in rows:
        counts[t.state] = counts.get(t.state, 0) + 1
    return JSONResponse(
        {
            "items": [_view(t) for t in rows[offset : offset + limit]],
            "total": len(rows),
            "by_state": counts,
        }
    )


@router.get("/{ebrid}", summary="One terminal")
async def get_terminal(request: Request, ebrid: str) -> Response:
    platform = request.app.state.platform
    try:
        async with platform.db.session() as session:
            row = await repo.get_terminal(session, ebrid=ebrid)
    except StoreUnavailable as exc:
        return problem("unavailable", 503, str(exc))
    if row is None:
        return problem("not-found", 404, f"no terminal {ebrid}")
    return JSONResponse(_view(row))


@router.post("", status_code=201, summary="Provision a terminal (signed like intake)")
async def provision(request: Request) -> Response:
    """Body: {"ebrid", "bearer", "name"?, "password"?}; answers the password once."""
    platform = request.app.state.platform
    raw = await request.body()
    try:
        issuer = verify_request(
            body=raw,
            headers=dict(request.headers),
            trust=platform.intake.trust,
            now=platform.intake.clock(),
            freshness_seconds=platform.settings.freshness_seconds,
            future_skew_seconds=platform.settings.future_skew_seconds,
        )
        doc = json.loads(raw or b"{}")
        if not isinstance(doc, dict):
            raise IntakeError("invalid-request", "the body must be a JSON object")
        ebrid = ResourceCode(str(doc.get("ebrid", "")))
        bearer = str(doc.get("bearer", "ip"))
        if bearer not in BEARERS:
            raise IntakeError("invalid-request", f"bearer must be one of {', '.join(BEARERS)}")
        if not platform.settings.jurisdiction.contains(ebrid.region):
            raise IntakeError(
                "outside-jurisdiction", f"{ebrid.value} lies outside {platform.settings.region}"
            )
        if not issuer.rights.allows_region(ebrid.region.value):
            raise IntakeError(
                "not-authorised-region", f"{issuer.name} may not provision in {ebrid.region.value}"
            )
    except IntakeError as exc:
        return from_intake_error(exc, instance="/api/v1/terminals")
    except (CodeError, ValueError) as exc:
        return problem("invalid-request", 400, str(exc))
    password = str(doc.get("password") or new_password())
    terminal = NewTerminal(
        ebrid=ebrid.value,
        bearer=bearer,
        region=ebrid.region.value,
        name=str(doc.get("name", "")),
        username=ebrid.value,
        password_hash=hash_password(password),
    )
    try:
        async with platform.db.session() as session:
            await repo.upsert_terminal(session, terminal=terminal)
            await session.commit()
    except StoreUnavailable as exc:
        return problem("unavailable", 503, str(exc))
    return JSONResponse(
        {
            "ebrid": ebrid.value,
            "bearer": bearer,
            "region": ebrid.region.value,
            "username": ebrid.value,
            "password": password,
        },
        status_code=201,
        headers={"Location": f"/api/v1/terminals/{ebrid.value}"},
    )
