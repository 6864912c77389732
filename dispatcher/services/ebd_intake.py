"""GY/T 384 package intake: POST /ebd with a signed EBDT tar, answered with a signed
EBDResponse package. The package signature (EBDS) is the authentication; the EBM inside goes
through the same admission as REST alerts."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Protocol

from dispatcher.errors import IntakeError
from dispatcher.services.formats import CHINA_TZ, ebm_to_message, message_fingerprint
from dispatcher.services.intake import IntakeContext, admit
from dispatcher.store import repo
from dispatcher.store.errors import StoreUnavailable
from protocols.codes import EBDID, ResourceCode
from protocols.ebd import (
    Body,
    ConnectionCheck,
    Dest,
    Ebd,
    EbdResponse,
    Ebm,
    ResultCode,
    Src,
)
from protocols.errors import ProtocolError
from signing.errors import SignatureError
from signing.package import VerifiedPackage, open_verified, result_code_for, seal
from signing.signer import Signer

log = logging.getLogger("ebc.ebd")

#: intake error code -> EBDResponse ResultCode
RESULT_OF_INTAKE_CODE = {
    "invalid-ebm": ResultCode.PARSE_FAILURE,
    "invalid-cap": ResultCode.PARSE_FAILURE,
    "missing-reference": ResultCode.MISSING_DATA,
    "signature-invalid": ResultCode.SIGNATURE_FAILED,
    "unknown-certificate": ResultCode.SIGNATURE_FAILED,
    "certificate-revoked": ResultCode.SIGNATURE_FAILED,
    "certificate-expired": ResultCode.SIGNATURE_FAILED,
}


@dataclass(frozen=True)
class EbdAnswer:
    package: bytes
    result_code: int
    description: str
    alert_id: str | None = None


async def receive_package(
    *,
    data: bytes,
    ctx: IntakeContext,
    signer: Signer,
    own_url: str | None,
    peers: PeerReceiver | None = None,
) -> EbdAnswer:
    now = ctx.clock()
    verified: VerifiedPackage | None = None
    alert_id: str | None = None
    try:
        verified = open_verified(data, ctx.trust, at=now)
        code, desc, alert_id = await _handle(verified, ctx, now, peers)
    except (ProtocolError, SignatureError) as exc:
        code, desc = ResultCode(result_code_for(exc)), str(exc)
    except IntakeError as exc:
        if exc.code == "unavailable":
            raise
        code = RESULT_OF_INTAKE_CODE.get(exc.code, ResultCode.OTHER_ERROR)
        desc = f"{exc.code}: {exc.detail}"
    answer = await _response(verified, code, desc, ctx, signer, own_url, now)
    log.info("EBD package answered", extra={"result_code": int(code), "alert_id": alert_id})
    return EbdAnswer(answer, int(code), desc, alert_id)


class PeerReceiver(Protocol):
    """Reports and heartbeats from linked platforms (dispatcher.services.hierarchy)."""

    async def heard(self, ebrid: str) -> None: ...

    async def receive(self, body: Body, *, src: str) -> tuple[int, str]: ...


async def _handle(
    verified: VerifiedPackage,
    ctx: IntakeContext,
    now: dt.datetime,
    peers: PeerReceiver | None,
) -> tuple[ResultCode, str, str | None]:
    body = verified.ebd.body
    src = verified.ebd.src.ebrid.value
    holder = verified.signer.holder_ebrid
    if holder and holder != src:
        raise IntakeError(
            "signature-invalid",
            f"the package claims to come from {src} but is signed with the certificate of {holder}",
        )
    if not isinstance(body, Ebm):
        if peers is not None:
            code, desc = await peers.receive(body, src=src)
            return ResultCode(code), desc, None
        if isinstance(body, ConnectionCheck):
            return ResultCode.OK, "connection check received", None
    if isinstance(body, Ebm):
        if peers is not None:
            await peers.heard(src)
        message = ebm_to_message(body)
        result = await admit(
            message=message,
            issuer=verified.signer,
            raw=verified.package.ebdb,
            content_type="application/x-ebd-tar",
            signed_at=int(now.timestamp()),
            ctx=ctx,
            now=now,
            digest=message_fingerprint(message),
        )
        verb = "accepted" if result.created else "already accepted"
        return ResultCode.OK, f"EBM {message.identifier} {verb}", result.alert_id
    return (
        ResultCode.OTHER_ERROR,
        f"EBDType {verified.ebd.body.EBD_TYPE.value} is not handled by this platform",
        None,
    )


async def _response(
    request: VerifiedPackage | None,
    code: ResultCode,
    desc: str,
    ctx: IntakeContext,
    signer: Signer,
    own_url: str | None,
    now: dt.datetime,
) -> bytes:
    local = now.astimezone(CHINA_TZ)
    try:
        async with ctx.db.session() as session:
            counter = await repo.next_counter(session, name=f"ebdid:{local:%Y%m%d}")
            await session.commit()
    except StoreUnavailable as exc:
        raise IntakeError("unavailable", f"the package was not processed: {exc}") from exc
    ebd = Ebd(
        ebdid=EBDID.build(ResourceCode(ctx.ebrid), local.date(), counter),
        src=Src(ebrid=ResourceCode(ctx.ebrid), url=own_url),
        dest=Dest(ebrid=request.ebd.src.ebrid) if request else None,
        ebd_time=local.replace(tzinfo=None, microsecond=0),
        related_ebd=request.ebd.ebdid if request else None,
        body=EbdResponse(result_code=code, result_desc=desc[:500]),
    )
    return seal(ebd, signer)
