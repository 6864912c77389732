"""The two-person rule: one account submits, another approves, then the platform signs the
alert with its own key and admits it through intake like any other issuer's alert."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dispatcher.console import roles, scope
from dispatcher.console.auth import Viewer
from dispatcher.console.compose import Draft, confirm_word
from dispatcher.console.issuer import CONTENT_TYPE, platform_issuer, sign_document
from dispatcher.console.records import OriginationRecord
from dispatcher.console.repo import audit as audit_repo
from dispatcher.console.repo import originations as orig_repo
from dispatcher.domain.alert import AlertMessage, AlertText, MsgType, Severity
from dispatcher.errors import IntakeError
from dispatcher.services.intake import admit
from dispatcher.store import repo
from dispatcher.store.records import AlertRecord
from protocols.codes import RegionCode

if TYPE_CHECKING:
    from dispatcher.app import Platform

log = logging.getLogger("ebc.console")

#: Alert states a cancel can still stop (intake refuses references to finished alerts).
CANCELLABLE = frozenset({"accepted", "waiting", "dispatching"})


class ActionRefused(Exception):
    """``key`` is the i18n message; ``code`` goes to the audit log; ``status`` to HTTP."""

    def __init__(self, key: str, code: str, status: int = 403) -> None:
        super().__init__(code)
        self.key = key
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Dispatched:
    origination_id: str
    alert_id: str | None
    error: str | None


async def submit_alert(platform: Platform, viewer: Viewer, draft: Draft, now: dt.datetime) -> str:
    if not roles.can_submit(viewer.role):
        raise ActionRefused("error.role_submit", "role")
    async with platform.db.session() as session:
        origination_id = await orig_repo.add_origination(
            session, kind="alert", drill=draft.drill, region=viewer.region,
            targets=draft.targets, payload=draft.payload(), submitted_by=viewer.username, now=now,
        )
        await audit_repo.append_audit(
            session, actor=viewer.actor, action="alert.submit", at=now, target=origination_id,
            detail={"drill": draft.drill, "targets": list(draft.targets),
                    "title": draft.texts[0][1]},
        )
        await session.commit()
    return origination_id


async def request_cancel(
    platform: Platform, viewer: Viewer, alert_id: str, now: dt.datetime
) -> str:
    """A prepared cancel waiting for its approver; asking twice gives the same one."""
    if not roles.can_submit(viewer.role):
        raise ActionRefused("error.role_submit", "role")
    async with platform.db.session() as session:
        alert = await repo.get_alert(session, alert_id=alert_id)
        _check_cancellable(alert, viewer)
        assert alert is not None
        existing = await orig_repo.pending_cancel_for(session, alert_id=alert_id)
        if existing is not None:
            return existing.id
        origination_id = await orig_repo.add_origination(
            session, kind="cancel", drill=alert.drill, region=viewer.region,
            targets=alert.targets, payload={"title": alert.title, "identifier": alert.identifier},
            submitted_by=viewer.username, now=now, cancels=alert.id,
        )
        await audit_repo.append_audit(
            session, actor=viewer.actor, action="cancel.request", at=now, target=alert.id,
            detail={"origination": origination_id, "title": alert.title},
        )
        await session.commit()
    return origination_id


def _check_cancellable(alert: AlertRecord | None, viewer: Viewer) -> None:
    if alert is None or not scope.overlaps(viewer.region, alert.targets):
        raise ActionRefused("error.not_found", "not-found", 404)
    if not scope.all_inside(viewer.region, alert.targets):
        raise ActionRefused("error.outside_jurisdiction", "outside-jurisdiction")
    if alert.state not in CANCELLABLE or alert.msg_type == int(MsgType.CANCEL):
        raise ActionRefused("error.not_cancellable", "not-cancellable", 409)


async def reject(
    platform: Platform, viewer: Viewer, origination_id: str, reason: str, now: dt.datetime
) -> None:
    async with platform.db.session() as session:
        orig = await orig_repo.get_origination(session, origination_id=origination_id)
        if orig is None or not scope.overlaps(viewer.region, orig.targets):
            raise ActionRefused("error.not_found", "not-found", 404)
        own = orig.submitted_by == viewer.username
        if not ((roles.can_approve(viewer.role) and scope.all_inside(viewer.region, orig.targets))
                or own):
            raise ActionRefused("error.role_approve", "role")
        changed = await orig_repo.decide(
            session, origination_id=orig.id, state="rejected", approver=viewer.username,
            now=now, reason=reason[:500] or ("withdrawn" if own else "rejected"),
        )
        if not changed:
            raise ActionRefused("error.already_decided", "already-decided", 409)
        await audit_repo.append_audit(
            session, actor=viewer.actor, action=f"{orig.kind}.reject", at=now, target=orig.id,
            detail={"reason": reason[:500], "withdrawn": own},
        )
        await session.commit()


async def approve(
    platform: Platform, viewer: Viewer, origination_id: str, typed: str, now: dt.datetime
) -> Dispatched:
    """Check the second person, record the approval, then sign and admit."""
    async with platform.db.session() as session:
        orig = await orig_repo.get_origination(session, origination_id=origination_id)
        try:
            _check_approver(orig, viewer, typed)
        except ActionRefused as exc:
            await audit_repo.append_audit(
                session, actor=viewer.actor, action="approve", at=now, target=origination_id,
                outcome="refused", detail={"code": exc.code},
            )
            await session.commit()
            raise
        assert orig is not None
        if not await orig_repo.decide(
            session, origination_id=orig.id, state="approved", approver=viewer.username, now=now
        ):
            raise ActionRefused("error.already_decided", "already-decided", 409)
        await audit_repo.append_audit(
            session, actor=viewer.actor, action=f"{orig.kind}.approve", at=now, target=orig.id,
            detail={"drill": orig.drill, "submitted_by": orig.submitted_by},
        )
        await session.commit()
    return await _dispatch(platform, orig, viewer, now)


def _check_approver(orig: OriginationRecord | None, viewer: Viewer, typed: str) -> None:
    if orig is None or not scope.overlaps(viewer.region, orig.targets):
        raise ActionRefused("error.not_found", "not-found", 404)
    if orig.state != "pending":
        raise ActionRefused("error.already_decided", "already-decided", 409)
    if not roles.can_approve(viewer.role):
        raise ActionRefused("error.role_approve", "role")
    if orig.submitted_by == viewer.username:
        raise ActionRefused("error.self_approval", "self-approval")
    if not scope.all_inside(viewer.region, orig.targets):
        raise ActionRefused("error.outside_jurisdiction", "outside-jurisdiction")
    # A cancel must be fast: its one click is the whole confirmation.
    if orig.kind == "alert" and typed.strip().upper() != confirm_word(orig.drill):
        raise ActionRefused("error.confirm_word", "confirmation", 400)


async def _dispatch(
    platform: Platform, orig: OriginationRecord, viewer: Viewer, now: dt.datetime
) -> Dispatched:
    issuer = platform_issuer(platform.settings, platform.signer)
    error: str | None = None
    alert_id: str | None = None
    try:
        if orig.kind == "cancel":
            message, document = await _cancel_message(platform, orig, viewer, now)
        else:
            message, document = _alert_message(platform, orig, viewer, now)
        raw, signed_at = sign_document(document, platform.signer, now=now)
        result = await admit(
            message=message, issuer=issuer, raw=raw, content_type=CONTENT_TYPE,
            signed_at=signed_at, ctx=platform.intake, now=now,
        )
        alert_id = result.alert_id
        platform.fanout.poke()
    except IntakeError as exc:
        error = f"{exc.code}: {exc.detail}"
        log.warning("console origination %s refused at intake: %s", orig.id, error)
    async with platform.db.session() as session:
        await orig_repo.set_outcome(
            session, origination_id=orig.id, state="failed" if error else "dispatched",
            reason=error, alert_id=alert_id,
        )
        await audit_repo.append_audit(
            session, actor=viewer.actor, action=f"{orig.kind}.dispatch", at=now,
            target=alert_id or orig.id, outcome="refused" if error else "ok",
            detail={"origination": orig.id, "error": error} if error else {"origination": orig.id},
        )
        await session.commit()
    return Dispatched(orig.id, alert_id, error)


def _document(message: AlertMessage, orig: OriginationRecord, viewer: Viewer) -> dict[str, Any]:
    return {
        "identifier": message.identifier,
        "sender": message.sender,
        "sent": message.sent.isoformat(),
        "msg_type": int(message.msg_type),
        "drill": message.drill,
        "event_type": message.event_type,
        "severity": int(message.severity),
        "texts": [[t.language, t.title, t.description] for t in message.texts],
        "area_codes": [c.value for c in message.area_codes],
        "references": list(message.references),
        "start": message.start.isoformat() if message.start else None,
        "end": message.end.isoformat() if message.end else None,
        "origination": orig.id,
        "submitted_by": orig.submitted_by,
        "approved_by": viewer.username,
    }


def _alert_message(
    platform: Platform, orig: OriginationRecord, viewer: Viewer, now: dt.datetime
) -> tuple[AlertMessage, dict[str, Any]]:
    draft = Draft.from_payload(orig.payload)
    message = AlertMessage(
        source_format="console",
        identifier=f"console-{orig.id}",
        sender=platform.settings.ebrid,
        sent=now,
        msg_type=MsgType.PLATFORM_DRILL if draft.drill else MsgType.REAL,
        event_type=draft.event_type,
        severity=Severity(draft.severity),
        texts=tuple(AlertText(lang, title, body) for lang, title, body in draft.texts),
        area_codes=tuple(RegionCode(c) for c in draft.targets),
        start=now,
        end=now + dt.timedelta(minutes=draft.duration_minutes),
        drill=draft.drill,
    )
    return message, _document(message, orig, viewer)


async def _cancel_message(
    platform: Platform, orig: OriginationRecord, viewer: Viewer, now: dt.datetime
) -> tuple[AlertMessage, dict[str, Any]]:
    async with platform.db.session(readonly=True) as session:
        original = await repo.get_alert(session, alert_id=orig.cancels or "")
    if original is None:
        raise IntakeError("not-found", f"no alert {orig.cancels}")
    # As services/cancel.py forms it, so both cancel paths leave the same trace.
    message = AlertMessage(
        source_format=original.source_format,
        identifier=f"{original.identifier}:cancel",
        sender=original.sender,
        sent=now,
        msg_type=MsgType.CANCEL,
        event_type=original.event_type,
        severity=Severity(original.severity),
        texts=(AlertText("zho", f"取消: {original.title}", ""),),
        area_codes=tuple(RegionCode(c) for c in original.targets),
        references=(original.identifier,),
        drill=original.drill,
    )
    return message, {**_document(message, orig, viewer), "cancels": original.id}
