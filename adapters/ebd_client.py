"""Sending GY/T 384 packages to a peer platform and reading its signed answer.

EBDIDs are made without the database: yyyymmdd (China Standard Time) + an 8-digit counter
seeded from the milliseconds since midnight and strictly increasing within the process, so a
restarted platform does not reuse an id from earlier that day.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from protocols.codes import EBDID, CertSN, ResourceCode
from protocols.ebd import Body, Dest, Ebd, EbdResponse, ResultCode, Src
from protocols.errors import ProtocolError
from signing.errors import SignatureError
from signing.package import open_verified, seal
from signing.signer import Signer
from signing.sm2 import SM2PublicKey
from signing.trust import Rights, TrustEntry, TrustStore

log = logging.getLogger("ebc.ebd.client")
CHINA = dt.timezone(dt.timedelta(hours=8))


class PeerError(RuntimeError):
    """The peer could not be reached or its answer could not be trusted."""


@dataclass(frozen=True)
class PeerAnswer:
    result_code: int
    description: str
    body: Body


class EbdIds:
    def __init__(self, source: str) -> None:
        self._source = ResourceCode(source)
        self._day: dt.date | None = None
        self._last = 0

    def next(self, now: dt.datetime) -> EBDID:
        local = now.astimezone(CHINA)
        seed = (local.hour * 3600 + local.minute * 60 + local.second) * 1000 + (
            local.microsecond // 1000
        )
        if local.date() != self._day:
            self._day, self._last = local.date(), 0
        self._last = min(99_999_999, max(seed, self._last + 1))
        return EBDID.build(self._source, local.date(), self._last)


def peer_trust(ebrid: str, cert_sn: str, public_key: SM2PublicKey) -> TrustStore:
    """A trust store holding just the peer, for checking its answers."""
    store = TrustStore()
    store.add(TrustEntry(cert_sn=CertSN(cert_sn), public_key=public_key, name=ebrid,
                         holder_ebrid=ebrid, not_before=None, not_after=None, revoked=False,
                         rights=Rights.unrestricted()))
    return store


class EbdClient:
    def __init__(self, *, signer: Signer, ebrid: str, own_url: str | None,
                 clock: Callable[[], dt.datetime], timeout: float = 10.0) -> None:
        self._signer = signer
        self._ebrid = ResourceCode(ebrid)
        self._own_url = own_url
        self._clock = clock
        self._ids = EbdIds(ebrid)
        self._timeout = timeout

    def package(self, body: Body, *, dest: str | None) -> tuple[EBDID, bytes]:
        now = self._clock()
        ebdid = self._ids.next(now)
        ebd = Ebd(ebdid=ebdid, src=Src(ebrid=self._ebrid, url=self._own_url),
                  dest=Dest(ebrid=ResourceCode(dest)) if dest else None,
                  ebd_time=now.astimezone(CHINA).replace(tzinfo=None, microsecond=0), body=body)
        return ebdid, seal(ebd, self._signer)

    async def send(self, url: str, body: Body, *, dest: str, trust: TrustStore) -> PeerAnswer:
        """POST a package and check the peer's signed answer; PeerError when impossible."""
        _, data = self.package(body, dest=dest)
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(
                    url, files={"file": ("EBDT.tar", data, "application/x-tar")})
        except httpx.HTTPError as exc:
            raise PeerError(f"{url} unreachable: {exc}") from exc
        if response.status_code != 200:
            raise PeerError(f"{url} answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            answer = open_verified(response.content, trust, at=self._clock())
        except (ProtocolError, SignatureError) as exc:
            raise PeerError(f"{url} answered with a package we cannot trust: {exc}") from exc
        body_in = answer.ebd.body
        if isinstance(body_in, EbdResponse):
            return PeerAnswer(int(body_in.result_code), body_in.result_desc, body_in)
        return PeerAnswer(int(ResultCode.OK), "", body_in)
