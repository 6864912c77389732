"""A minimal GY/T 384 peer on loopback for the contract suite: it answers every package with a
signed EBDResponse (ResultCode 1), as a lower platform does."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from protocols.codes import EBDID, CertSN, ResourceCode
from protocols.ebd import Ebd, EbdResponse, ResultCode, Src
from signing.package import seal
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey

CHINA = dt.timezone(dt.timedelta(hours=8))


class EbdPeer:
    def __init__(self, ebrid: str) -> None:
        self.ebrid = ebrid
        self.cert_sn = "870000000001"
        self.signer = SoftwareSigner(SM2PrivateKey.generate(), CertSN(self.cert_sn))
        self.received = 0
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        app = Starlette(routes=[Route("/ebd", self._receive, methods=["POST"])])
        self._server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self._task: asyncio.Task[Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        return {
            "url": f"http://127.0.0.1:{self.port}/ebd",
            "cert_sn": self.cert_sn,
            "pubkey": self.signer.public_key.to_pem().decode(),
        }

    async def _receive(self, request: Request) -> Response:
        form = await request.form()
        assert form.get("file") is not None
        self.received += 1
        now = dt.datetime.now(CHINA)
        answer = Ebd(
            ebdid=EBDID.build(ResourceCode(self.ebrid), now.date(), self.received),
            src=Src(ebrid=ResourceCode(self.ebrid)),
            ebd_time=now.replace(tzinfo=None, microsecond=0),
            body=EbdResponse(result_code=ResultCode.OK, result_desc="received"),
        )
        return Response(seal(answer, self.signer), media_type="application/x-tar")

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(200):
            if self._server.started:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the contract EBD peer did not start")

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task:
            await self._task
