"""Cancel by id (POST /api/v1/alerts/{id}/cancel): a signed request becomes a cancel alert
that goes through the same admission as a CAP Cancel or an EBM MsgType 2."""

from __future__ import annotations

from collections.abc import Mapping

from dispatcher.domain.alert import AlertMessage, AlertText, MsgType, Severity
from dispatcher.errors import IntakeError
from dispatcher.services.authn import HEADER_SIGNED_AT, read_cert_sn, verify_request
from dispatcher.services.intake import IntakeContext, IntakeResult, admit
from dispatcher.store import repo
from dispatcher.store.errors import StoreUnavailable
from protocols.codes import RegionCode


async def cancel_alert(
    *, alert_id: str, raw: bytes, headers: Mapping[str, str], ctx: IntakeContext
) -> IntakeResult:
    cert_sn = read_cert_sn(headers)
    if not ctx.limiter.allow(cert_sn.value):
        raise IntakeError("rate-limited", f"certificate {cert_sn.value} sent too many requests")
    now = ctx.clock()
    issuer = verify_request(
        body=raw,
        headers=headers,
        trust=ctx.trust,
        now=now,
        freshness_seconds=ctx.freshness_seconds,
        future_skew_seconds=ctx.future_skew_seconds,
    )
    try:
        async with ctx.db.session() as session:
            original = await repo.get_alert(session, alert_id=alert_id)
    except StoreUnavailable as exc:
        raise IntakeError("unavailable", str(exc)) from exc
    if original is None:
        raise IntakeError("not-found", f"no alert {alert_id}")
    signed_at = int(headers.get(HEADER_SIGNED_AT) or headers.get(HEADER_SIGNED_AT.lower()) or 0)
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
    return await admit(
        message=message,
        issuer=issuer,
        raw=raw,
        content_type="cancel-request",
        signed_at=signed_at,
        ctx=ctx,
        now=now,
    )
