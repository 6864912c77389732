"""Admin changes from the console: terminals, adapters, trusted keys, alert templates.

Every function checks the admin's jurisdiction, makes the change and writes the audit row
(outcome "ok", or "refused" with the reason). Problems are raised as ``AdminError`` carrying
an i18n key and the values its message names, so the page can say exactly what was wrong.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dispatcher.console import scope
from dispatcher.console.alert_templates import AlertTemplate, TemplateError, save_overrides
from dispatcher.console.alert_templates import checked_override as check_template
from dispatcher.console.records import Actor
from dispatcher.console.repo import audit as audit_repo
from dispatcher.store import repo
from dispatcher.store.records import NewAdapter, NewTerminal
from protocols.codes import CertSN, RegionCode, ResourceCode
from protocols.errors import CodeError
from signing.errors import SignatureError
from signing.sm2 import SM2PublicKey
from signing.trust import MSG_TYPES, Rights, TrustEntry, TrustStore
from terminals.credentials import hash_password, new_password

if TYPE_CHECKING:
    from dispatcher.app import Platform

#: The bearers the signed terminal API provisions (dispatcher/api/terminals.py).
BEARERS = ("ip", "fm", "dtmb", "cable", "dth", "legacy-ip")
MAX_NAME = 100
#: One writer at a time for the files the console edits (trust store, platform.json,
#: console_templates.json): read-modify-write must not interleave.
_FILES = asyncio.Lock()


class AdminError(ValueError):
    """``key`` is an i18n key; ``params`` fill its message; ``status`` is the HTTP answer."""

    def __init__(self, key: str, status: int = 422, *, problems: Sequence[str] = (),
                 **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.status = status
        self.params = {k: str(v) for k, v in params.items()}
        #: Every problem found (i18n keys) when there are several, the first being ``key``.
        self.problems = list(problems) or [key]


async def audit(
    platform: Platform, actor: Actor, action: str, at: dt.datetime, *, target: str | None,
    outcome: str = "ok", detail: Mapping[str, Any] | None = None,
) -> None:
    async with platform.db.session() as session:
        await audit_repo.append_audit(session, actor=actor, action=action, at=at, target=target,
                                      outcome=outcome, detail=detail)
        await session.commit()


async def refuse(
    platform: Platform, actor: Actor, action: str, at: dt.datetime, error: AdminError,
    target: str | None,
) -> AdminError:
    """Write the refusal to the audit log and hand the error back for raising."""
    detail: dict[str, Any] = {"reason": error.key, **error.params}
    if len(error.problems) > 1:
        detail["problems"] = error.problems
    await audit(platform, actor, action, at, target=target, outcome="refused", detail=detail)
    return error


# -- terminals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Provisioned:
    ebrid: str
    bearer: str
    region: str
    name: str
    username: str
    password: str
    replaced: bool


def terminal_bearers(adapter_bearers: Sequence[str]) -> list[str]:
    """The API's bearers plus those of the adapters the platform has (e.g. ``fake``)."""
    extra = sorted({b for b in adapter_bearers if b not in BEARERS and b != "platform"})
    return [*BEARERS, *extra]


async def provision_terminal(
    platform: Platform, actor: Actor, *, ebrid: str, bearer: str, name: str,
    bearers: Sequence[str], now: dt.datetime,
) -> Provisioned:
    action = "terminal.provision"
    try:
        code = ResourceCode(ebrid.strip())
    except CodeError as exc:
        raise await refuse(platform, actor, action, now,
                           AdminError("error.admin_ebrid", detail=exc), ebrid[:64]) from exc
    region = code.region.value
    if not (scope.inside(actor.region, region)
            and platform.settings.jurisdiction.contains(code.region)):
        raise await refuse(platform, actor, action, now,
                           AdminError("error.admin_outside", 403, code=code.value,
                                      area=actor.region), code.value)
    if bearer not in bearers:
        raise await refuse(platform, actor, action, now,
                           AdminError("error.admin_bearer", bearers=", ".join(bearers)),
                           code.value)
    name = name.strip()[:MAX_NAME]
    password = new_password()
    async with platform.db.session() as session:
        existing = await repo.get_terminal(session, ebrid=code.value)
        await repo.upsert_terminal(session, terminal=NewTerminal(
            ebrid=code.value, bearer=bearer, region=region, name=name, username=code.value,
            password_hash=hash_password(password),
            firmware=existing.firmware if existing else "",
            state=existing.state if existing else "unknown",
        ), now=now)
        await audit_repo.append_audit(
            session, actor=actor, action=action, at=now, target=code.value,
            detail={"bearer": bearer, "name": name, "region": region,
                    "replaced": existing is not None},
        )
        await session.commit()
    return Provisioned(code.value, bearer, region, name, code.value, password,
                       existing is not None)


# -- adapters ----------------------------------------------------------------------------


async def set_adapter_enabled(
    platform: Platform, actor: Actor, *, ebrid: str, enabled: bool, now: dt.datetime
) -> None:
    """Flip the ``enabled`` flag, keeping everything else; planning reads it per alert.
    The adapter's entry in platform.json follows, or the next start-up would undo it."""
    action = "adapter.enable" if enabled else "adapter.disable"
    async with platform.db.session(readonly=True) as session:
        row = await repo.get_adapter(session, ebrid=ebrid)
    # Refusals are audited outside any other write session (SQLite: one writer at a time).
    if row is None or not scope.overlaps(actor.region, row.regions):
        raise await refuse(platform, actor, action, now,
                           AdminError("error.not_found", 404), ebrid[:64])
    if not scope.all_inside(actor.region, row.regions):
        raise await refuse(platform, actor, action, now,
                           AdminError("error.admin_adapter_outside", 403, code=ebrid,
                                      area=actor.region), ebrid)
    if row.bearer == "platform":
        raise await refuse(platform, actor, action, now,
                           AdminError("error.admin_adapter_link", 409), ebrid)
    async with platform.db.session() as session:
        await repo.upsert_adapter(session, adapter=NewAdapter(
            ebrid=row.ebrid, bearer=row.bearer, regions=list(row.regions), enabled=enabled,
            healthy=row.healthy, config=dict(row.config),
        ), now=now)
        await audit_repo.append_audit(
            session, actor=actor, action=action, at=now, target=ebrid,
            detail={"bearer": row.bearer, "was": row.enabled},
        )
        await session.commit()
    async with _FILES:
        _persist_adapter_flag(platform.settings.dir / "platform.json", ebrid, enabled)


def _persist_adapter_flag(path: Path, ebrid: str, enabled: bool) -> None:
    if not path.exists():
        return
    document = json.loads(path.read_text(encoding="utf-8"))
    changed = False
    for entry in document.get("adapters", []):
        if isinstance(entry, dict) and entry.get("ebrid") == ebrid:
            entry["enabled"] = enabled
            changed = True
    if changed:
        temp = path.with_name(f".{path.name}.console")
        temp.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n",
                        encoding="utf-8")
        temp.replace(path)


# -- keys (the trust store) --------------------------------------------------------------


def trust_path(platform: Platform) -> Path:
    """The same file dispatcher.app.load_trust reads."""
    settings = platform.settings
    return settings.trust_store or settings.dir / "trust.json"


def load_trust(platform: Platform) -> TrustStore:
    path = trust_path(platform)
    return TrustStore.load(path) if path.exists() else TrustStore()


def visible_keys(store: TrustStore, region: str) -> list[TrustEntry]:
    """Entries whose rights touch the admin's area."""
    return [e for e in store.entries() if scope.overlaps(region, e.rights.regions)]


def manageable(entry: TrustEntry, region: str) -> bool:
    return scope.all_inside(region, entry.rights.regions)


def _regions(text: str, actor: Actor, within: RegionCode) -> tuple[str, ...]:
    codes: list[str] = []
    for part in text.replace("，", ",").replace(",", " ").split():
        try:
            code = RegionCode.parse(part)
        except CodeError as exc:
            raise AdminError("error.admin_region", code=part, detail=exc) from exc
        if not (scope.inside(actor.region, code.value) and within.contains(code)):
            raise AdminError("error.admin_outside", 403, code=code.value, area=actor.region)
        codes.append(code.value)
    if not codes:
        raise AdminError("error.admin_regions_required")
    return tuple(dict.fromkeys(codes))


def _event_types(text: str) -> tuple[str, ...]:
    parts = [p for p in text.replace("，", ",").replace(",", " ").split()]
    if not parts or parts == ["*"]:
        return ("*",)
    bad = [p for p in parts if not (len(p) == 5 and p.isascii() and p.isalnum())]
    if bad:
        raise AdminError("error.admin_event_types", codes=" ".join(bad))
    return tuple(dict.fromkeys(parts))


def _msg_types(values: Sequence[str]) -> tuple[int, ...]:
    try:
        numbers = sorted({int(v) for v in values})
    except ValueError:
        numbers = []
    if not numbers or any(n not in MSG_TYPES for n in numbers):
        raise AdminError("error.admin_msg_types")
    return tuple(numbers)


async def add_key(
    platform: Platform, actor: Actor, *, cert_sn: str, public_key: str, name: str,
    regions: str, event_types: str, msg_types: Sequence[str], now: dt.datetime,
) -> TrustEntry:
    action = "key.add"
    target = cert_sn.strip()[:64]
    try:
        try:
            serial = CertSN(cert_sn.strip())
        except CodeError as exc:
            raise AdminError("error.admin_cert_sn", detail=exc) from exc
        try:
            key = SM2PublicKey.from_pem(public_key.strip().encode())
        except (SignatureError, ValueError) as exc:
            raise AdminError("error.admin_public_key", detail=exc) from exc
        name = name.strip()[:MAX_NAME]
        if not name:
            raise AdminError("error.admin_key_name")
        entry = TrustEntry(
            cert_sn=serial, public_key=key, name=name, holder_ebrid=None, not_before=None,
            not_after=None, revoked=False,
            rights=Rights(regions=_regions(regions, actor, platform.settings.jurisdiction),
                          event_types=_event_types(event_types),
                          msg_types=_msg_types(msg_types)),
        )
        async with _FILES:
            store = load_trust(platform)
            if serial in store or serial in platform.intake.trust:
                raise AdminError("error.admin_key_exists", 409, sn=serial.value)
            store.add(entry)
            store.save(trust_path(platform))
            # The running intake verifies against this store: the key counts at once.
            platform.intake.trust.add(entry)
    except AdminError as exc:
        raise await refuse(platform, actor, action, now, exc, target) from None
    await audit(platform, actor, action, now, target=serial.value, detail={
        "name": name, "regions": list(entry.rights.regions),
        "event_types": list(entry.rights.event_types),
        "msg_types": list(entry.rights.msg_types),
    })
    return entry


async def revoke_key(platform: Platform, actor: Actor, *, cert_sn: str, now: dt.datetime) -> None:
    action = "key.revoke"
    try:
        async with _FILES:
            store = load_trust(platform)
            try:
                entry = store.get(cert_sn)
            except (SignatureError, CodeError):
                raise AdminError("error.not_found", 404) from None
            if not scope.overlaps(actor.region, entry.rights.regions):
                raise AdminError("error.not_found", 404)
            if not manageable(entry, actor.region):
                raise AdminError("error.admin_key_outside", 403, sn=entry.cert_sn.value,
                                 area=actor.region)
            store.revoke(entry.cert_sn)
            store.save(trust_path(platform))
            live = platform.intake.trust
            if entry.cert_sn in live:
                live.revoke(entry.cert_sn)
            else:
                live.add(replace(entry))
    except AdminError as exc:
        raise await refuse(platform, actor, action, now, exc, cert_sn[:64]) from None
    await audit(platform, actor, action, now, target=entry.cert_sn.value,
                detail={"name": entry.name})


# -- templates ---------------------------------------------------------------------------


async def edit_template(
    platform: Platform, actor: Actor, templates: dict[str, AlertTemplate], *, key: str,
    fields: Mapping[str, str], now: dt.datetime, reset: bool = False,
    defaults: Mapping[str, AlertTemplate] | None = None,
    template_file: str = "console_templates.json",
) -> AlertTemplate:
    """Save an override (or drop it, ``reset``) and update the templates in use."""
    action = "template.reset" if reset else "template.edit"
    current = templates.get(key)
    if current is None:
        raise await refuse(platform, actor, action, now, AdminError("error.not_found", 404),
                           key[:64])
    path = platform.settings.dir / template_file
    async with _FILES:
        if reset:
            base = (defaults or {}).get(key, current)
            save_overrides(path, key, None)
            templates[key] = base
            updated = base
            detail: dict[str, Any] = {}
        else:
            try:
                override = check_template(fields)
            except TemplateError as exc:
                raise await refuse(platform, actor, action, now,
                                   AdminError(exc.problems[0], problems=exc.problems),
                                   key) from None
            save_overrides(path, key, override)
            updated = replace(current, **override)
            templates[key] = updated
            detail = dict(override)
    await audit(platform, actor, action, now, target=key, detail=detail)
    return updated
