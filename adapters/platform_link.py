"""A lower platform as a bearer: the alert goes down as a signed GY/T 384 EBM package, and the
lower platform's EBMStateResponse reports come back as acks for the regions it covers.

Forwarded EBMs keep the issuing platform's EBMID and SenderCode (the EBMID's first 23 digits)
and carry explicit start and end times, so the same alert reaching a county twice, through its
province and directly (越级 fallback), is recognised as the same message.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from adapters.base import AdapterContext, Outcome, SendReport, TargetOutcome, Transmission
from adapters.ebd_client import CHINA, EbdClient, PeerError, peer_trust
from protocols.codes import EBMID
from protocols.ebd import Ebm, MsgBasicInfo, MsgContent, MsgType, RelatedInfo, Severity
from signing.sm2 import SM2PublicKey


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(CHINA).replace(tzinfo=None, microsecond=0)


class LowerPlatformAdapter:
    bearer = "platform"

    def __init__(self, ebrid: str, config: dict[str, Any], context: AdapterContext) -> None:
        if context.signer is None:
            raise ValueError("forwarding to a lower platform needs the platform's signer")
        for key in ("url", "cert_sn", "pubkey"):
            if not config.get(key):
                raise ValueError(f"lower platform {ebrid}: config needs {key!r}")
        self.ebrid = ebrid
        self.url = str(config["url"])
        self._context = context
        pem = str(config["pubkey"])
        key = SM2PublicKey.from_pem(pem.encode() if "BEGIN" in pem else Path(pem).read_bytes())
        self._trust = peer_trust(ebrid, str(config["cert_sn"]), key)
        self._client = EbdClient(
            signer=context.signer,
            ebrid=context.platform_ebrid,
            own_url=config.get("own_url"),
            clock=context.clock,
        )
        self.down = False

    @classmethod
    def factory(
        cls, ebrid: str, config: dict[str, Any], context: AdapterContext
    ) -> LowerPlatformAdapter:
        return cls(ebrid, config, context)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def ebm(self, transmission: Transmission) -> Ebm:
        accepted = transmission.extra.get("accepted_at")
        now = self._context.clock()
        start = transmission.start or (accepted if isinstance(accepted, dt.datetime) else now)
        deadline = transmission.extra.get("deadline")
        end = transmission.end or (
            deadline if isinstance(deadline, dt.datetime) else start + dt.timedelta(hours=1)
        )
        msg_type = MsgType(transmission.msg_type)
        cancels = transmission.extra.get("cancels")
        return Ebm(
            ebm_version="1",
            ebmid=EBMID(transmission.ebmid),
            related_info=RelatedInfo(ebmid=EBMID(str(cancels))) if cancels else None,
            msg_basic_info=MsgBasicInfo(
                msg_type=msg_type,
                sender_name=f"EBC {self._context.platform_ebrid}",
                sender_code=transmission.ebmid[:23],
                send_time=_local(now),
                event_type=transmission.event_type if len(transmission.event_type) == 5 else None,
                severity=Severity(transmission.severity),
                start_time=_local(start),
                end_time=_local(end),
            ),
            contents=tuple(
                MsgContent(
                    language_code=language,
                    msg_title=title or "-",
                    msg_desc=body or title or "-",
                    area_codes=transmission.regions,
                )
                for language, title, body in transmission.texts
            )
            or (
                MsgContent(
                    language_code="zho",
                    msg_title="-",
                    msg_desc="-",
                    area_codes=transmission.regions,
                ),
            ),
        )

    async def send(self, transmission: Transmission) -> SendReport:
        if self.down:
            return self._all(transmission, Outcome.FAILED, "link down")
        try:
            answer = await self._client.send(
                self.url, self.ebm(transmission), dest=self.ebrid, trust=self._trust
            )
        except (PeerError, ValueError) as exc:
            return self._all(transmission, Outcome.FAILED, str(exc))
        if answer.result_code != 1:
            return self._all(
                transmission,
                Outcome.FAILED,
                f"ResultCode {answer.result_code}: {answer.description}",
            )
        return self._all(transmission, Outcome.DELIVERED, answer.description)

    async def cancel(self, transmission: Transmission) -> SendReport:
        return await self.send(transmission)

    @staticmethod
    def _all(transmission: Transmission, outcome: Outcome, detail: str) -> SendReport:
        return SendReport(tuple(TargetOutcome(t, outcome, detail) for t in transmission.targets))
