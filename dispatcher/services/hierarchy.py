"""The platform hierarchy over GY/T 384 (national > provincial > municipal > county).

Down: lower platforms are adapters (adapters/platform_link.py). This service does the rest:
ConnectionCheck heartbeats both ways; link health (a lower platform silent for
``missed_beats`` periods is marked unhealthy, so planning reaches its area through fallback
links instead, 越级); state reports up (EBMStateResponse while an alert from an upper platform
progresses, EBMBrdLog when it ends); and, at the upper platform, those reports turned into
acks and a roll-up of coverage.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.base import AckReport, AckSink
from adapters.ebd_client import CHINA, EbdClient, PeerError, peer_trust
from dispatcher.config import LinkConfig, Settings
from dispatcher.services.resources import REPORT_TYPES, ResourceReports
from dispatcher.services.status import alert_status
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.errors import StoreUnavailable
from dispatcher.store.records import NewLogEvent
from protocols.codes import EBMID
from protocols.ebd import (
    Body,
    BrdStateCode,
    ConnectionCheck,
    Coverage,
    EbdType,
    EbmBrdItem,
    EbmBrdLog,
    EbmStateResponse,
    EbmSummary,
    OmdRequest,
)
from signing.sm2 import SM2PublicKey

log = logging.getLogger("ebc.hierarchy")

FINAL_CODES = frozenset({3, 4, 5})
REPORT_ACK = {2: "received", 3: "played", 4: "failed", 5: "stopped"}


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(CHINA).replace(tzinfo=None, microsecond=0)


def link_key(link: LinkConfig, base: Path) -> SM2PublicKey:
    path = Path(link.pubkey)
    if "BEGIN" in link.pubkey:
        return SM2PublicKey.from_pem(link.pubkey.encode())
    return SM2PublicKey.from_pem((path if path.is_absolute() else base / path).read_bytes())


class Hierarchy:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        client: EbdClient,
        acks: AckSink,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._settings = settings
        self._db = db
        self._client = client
        self._acks = acks
        self._clock = clock
        self._links = list(settings.links)
        self._trust = {
            link.ebrid: peer_trust(link.ebrid, link.cert_sn, link_key(link, settings.dir))
            for link in self._links
        }
        self._resources = ResourceReports(settings=settings, db=db)
        self._reported: dict[str, tuple[int, int, int]] = {}
        self._final_sent: set[str] = set()
        self._started = clock()
        self._runner: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()

    @property
    def links(self) -> Sequence[LinkConfig]:
        return self._links

    def uppers(self) -> list[LinkConfig]:
        return [link for link in self._links if link.role == "upper"]

    def lowers(self) -> list[LinkConfig]:
        return [link for link in self._links if link.role == "lower"]

    async def start(self) -> None:
        if not self._links:
            return
        async with self._db.session() as session:
            for link in self._links:
                await repo.ensure_link(session, ebrid=link.ebrid, role=link.role, url=link.url)
            await session.commit()
        self._runner = asyncio.create_task(self._run(), name="ebc-hierarchy")

    async def stop(self) -> None:
        if self._runner:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def _run(self) -> None:
        period = self._settings.link_heartbeat_seconds
        tick = min(period, self._settings.link_report_interval)
        last_beat = last_resources = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                if loop.time() - last_beat >= period:
                    last_beat = loop.time()
                    await self.heartbeat()
                    await self.check_health()
                if self.uppers() and (
                    loop.time() - last_resources >= self._settings.link_resource_report_seconds
                ):
                    last_resources = loop.time()
                    await self.report_resources()
                if self.uppers():
                    await self.report_up()
            except StoreUnavailable as exc:
                log.warning("hierarchy paused, database unavailable: %s", exc)
            await asyncio.sleep(tick)

    # -- heartbeats and health -------------------------------------------------------------

    async def _send(self, link: LinkConfig, body: Body) -> bool:
        now = self._clock()
        try:
            answer = await self._client.send(
                link.url, body, dest=link.ebrid, trust=self._trust[link.ebrid]
            )
            error = (
                None
                if answer.result_code == 1
                else (f"ResultCode {answer.result_code}: {answer.description}")
            )
        except PeerError as exc:
            error = str(exc)
        async with self._db.session() as session:
            await repo.note_link(session, ebrid=link.ebrid, sent=now, error=error)
            await session.commit()
        if error:
            log.warning("%s to %s %s failed: %s", body.EBD_TYPE.value, link.role, link.ebrid, error)
        return error is None

    async def heartbeat(self) -> None:
        body = ConnectionCheck(rpt_time=_local(self._clock()))
        await asyncio.gather(*(self._send(link, body) for link in self._links))

    def silent(self, last_heard: dt.datetime | None) -> bool:
        limit = dt.timedelta(
            seconds=self._settings.link_heartbeat_seconds * self._settings.link_missed_beats
        )
        reference = last_heard or self._started
        return self._clock() - reference > limit

    async def check_health(self) -> None:
        """Regular lower platforms that went silent stop taking tasks; they come back when
        heard again. Fallback links stay usable: they are the way round."""
        async with self._db.session() as session:
            heard = {link.ebrid: link.last_heard for link in await repo.list_links(session)}
            regular = [link for link in self.lowers() if not link.fallback]
            down = [lk.ebrid for lk in regular if self.silent(heard.get(lk.ebrid))]
            up = [lk.ebrid for lk in regular if lk.ebrid not in down]
            went_down = await repo.set_adapter_health(session, ebrids=down, healthy=False)
            came_back = await repo.set_adapter_health(session, ebrids=up, healthy=True)
            await session.commit()
        if went_down:
            log.warning("lower platform(s) silent, fallback in use: %s", ", ".join(down))
        if came_back:
            log.info("lower platform(s) heard again: %s", ", ".join(up))

    # -- what arrives from peers -----------------------------------------------------------

    async def heard(self, ebrid: str) -> None:
        async with self._db.session() as session:
            await repo.note_link(session, ebrid=ebrid, heard=self._clock())
            await session.commit()

    async def receive(self, body: Body, *, src: str) -> tuple[int, str]:
        """A package from a peer link (already verified): (ResultCode, description)."""
        linked = any(link.ebrid == src for link in self._links)
        if isinstance(body, ConnectionCheck):
            if linked:
                await self.heard(src)
            return 1, "connection check received"
        if not linked:
            return 5, f"{src} is not a linked platform"
        await self.heard(src)
        if isinstance(body, EbmStateResponse):
            return await self._state_report(
                src, body.ebmid.value, body.brd_state_code, body.coverage, final=False
            )
        if isinstance(body, EbmBrdLog):
            results = [
                await self._state_report(
                    src, item.ebm.ebmid.value, item.brd_state_code, item.coverage, final=True
                )
                for item in body.items
            ]
            return (1, "broadcast log received") if results else (3, "empty broadcast log")
        if isinstance(body, OmdRequest):
            job = asyncio.create_task(self._answer_omd(src, body.omd_type))
            self._pending.add(job)
            job.add_done_callback(self._pending.discard)
            return 1, f"{body.omd_type.value} will follow"
        if body.EBD_TYPE in REPORT_TYPES:
            async with self._db.session() as session:
                links = {lk.ebrid: lk for lk in await repo.list_links(session)}
                resources = dict(links[src].resources) if src in links else {}
                resources[body.EBD_TYPE.value] = {
                    "at": self._clock().isoformat(),
                    "records": len(getattr(body, "records", ())),
                }
                await repo.note_link(session, ebrid=src, resources=resources)
                await session.commit()
            return 1, f"{body.EBD_TYPE.value} received"
        return 5, f"EBDType {body.EBD_TYPE.value} is not handled by this platform"

    async def _state_report(
        self, src: str, ebmid: str, code: int, coverage: Coverage | None, *, final: bool
    ) -> tuple[int, str]:
        stats = tuple(coverage.res_brd_stat or ()) if coverage else ()
        acked = int(stats[3]) if len(stats) > 3 else 0
        targeted = int(stats[4]) if len(stats) > 4 else acked
        rate = float(coverage.coverage_rate) if coverage else 0.0
        now = self._clock()
        async with self._db.session() as session:
            alert = await repo.find_alert_by_ebmid(session, ebmid=ebmid)
            if alert is None:
                return 5, f"no alert with EBMID {ebmid} here"
            await repo.save_report(
                session,
                alert_id=alert.id,
                platform_ebrid=src,
                brd_state_code=int(code),
                coverage_rate=rate,
                targeted=targeted,
                acked=acked,
                final=final or int(code) in FINAL_CODES,
                detail={"areas": list(coverage.area_codes) if coverage else []},
                now=now,
            )
            tasks = [
                t
                for t in await repo.tasks_for_alert(session, alert_id=alert.id)
                if t.adapter_ebrid == src
            ]
            await repo.append_log(
                session,
                events=[
                    NewLogEvent(
                        alert_id=alert.id,
                        event="platform.report",
                        at=now,
                        target=src,
                        detail={
                            "brd_state_code": int(code),
                            "targeted": targeted,
                            "acked": acked,
                            "coverage_rate": rate,
                            "final": final,
                        },
                    )
                ],
            )
            await session.commit()
        state = REPORT_ACK.get(int(code))
        if state and (state != "received" or acked):
            await self._acks.submit(
                [
                    AckReport(
                        alert.id, target, state, {"platform": src, "brd_state_code": int(code)}, now
                    )
                    for task in tasks
                    for target in task.targets
                ]
            )
        return 1, f"state of {ebmid} recorded"

    async def _answer_omd(self, src: str, kind: EbdType) -> None:
        link = next(link for link in self._links if link.ebrid == src)
        try:
            await self._send(link, await self._resources.build(kind, self._clock()))
        except (ValueError, StoreUnavailable) as exc:
            log.warning("cannot answer %s from %s: %s", kind.value, src, exc)

    # -- reporting up ----------------------------------------------------------------------

    async def report_resources(self) -> None:
        """The periodic resource information and state reports to every upper platform."""
        now = self._clock()
        for kind in REPORT_TYPES:
            try:
                body = await self._resources.build(kind, now)
            except ValueError as exc:
                log.warning("%s not built: %s", kind.value, exc)
                continue
            if not getattr(body, "records", ()):
                continue  # nothing of that kind here (a county has no broadcast system, say)
            for link in self.uppers():
                await self._send(link, body)

    async def report_up(self) -> None:
        uppers = {link.cert_sn: link for link in self.uppers()}
        since = self._clock() - dt.timedelta(days=2)
        async with self._db.session(readonly=True) as session:
            alerts, _ = await repo.list_alerts(session, since=since, limit=500)
        for alert in alerts:
            link = uppers.get(alert.cert_sn)
            if link is None or alert.id in self._final_sent or not alert.ebmid:
                continue
            status = await alert_status(self._db, alert_id=alert.id)
            if status is None:
                continue
            key = (int(status["brd_state_code"]), int(status["targeted"]), int(status["acked"]))
            if self._reported.get(alert.id) == key:
                continue
            coverage = Coverage(
                coverage_rate=Decimal(str(round(float(status["coverage"]), 4))),
                area_codes=tuple(alert.targets) or ("000000000000",),
                res_brd_stat=(
                    len(status.get("lower_platforms", [])),
                    len(status["tasks"]),
                    0,
                    key[2],
                    key[1],
                ),
            )
            now = _local(self._clock())
            final = key[0] in FINAL_CODES
            body: Body
            if final:
                body = EbmBrdLog(
                    items=(
                        EbmBrdItem(
                            ebm=EbmSummary(ebmid=EBMID(alert.ebmid)),
                            brd_state_code=BrdStateCode(key[0]),
                            brd_state_desc=str(status["state"]),
                            coverage=coverage,
                        ),
                    )
                )
            else:
                body = EbmStateResponse(
                    rpt_time=now,
                    ebmid=EBMID(alert.ebmid),
                    brd_state_code=BrdStateCode(key[0]),
                    brd_state_desc=str(status["state"]),
                    coverage=coverage,
                )
            if await self._send(link, body):
                self._reported[alert.id] = key
                if final:
                    self._final_sent.add(alert.id)
