"""Terminal uplinks: acks into the dispatch log, heartbeats and status into the inventory,
and catch-up for terminals that come back while a broadcast they missed is still on."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from adapters.base import AckReport, AckSink, Adapter
from dispatcher.domain.tasks import TaskState
from dispatcher.services.fanout import build_transmission
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.errors import StoreUnavailable
from dispatcher.store.records import NewLogEvent, NewTerminal
from protocols.codes import RegionCode, ResourceCode
from protocols.errors import CodeError
from protocols.terminal import terminal_pb2 as pb

log = logging.getLogger("ebc.uplinks")

ACK_STATES = {
    pb.ACK_RECEIVED: "received",
    pb.ACK_VERIFIED: "verified",
    pb.ACK_PLAYING: "playing",
    pb.ACK_PLAYED: "played",
    pb.ACK_REJECTED: "rejected",
    pb.ACK_FAILED: "failed",
    pb.ACK_STOPPED: "stopped",
}
WORK_STATES = {pb.WORK_IDLE: "online", pb.WORK_WORKING: "working", pb.WORK_FAULT: "fault"}


@dataclass
class Sighting:
    state: str
    at: dt.datetime
    firmware: str | None
    #: a retained status replayed by the broker on subscribe: old news, never a registration
    retained: bool = False


class UplinkService:
    def __init__(
        self,
        *,
        db: Database,
        acks: AckSink,
        adapters: Mapping[str, Adapter],
        jurisdiction: RegionCode,
        clock: Callable[[], dt.datetime],
        heartbeat_timeout: float = 90.0,
        flush_interval: float = 0.5,
    ) -> None:
        self._db = db
        self._acks = acks
        self._adapters = adapters
        self._jurisdiction = jurisdiction
        self._clock = clock
        self._timeout = heartbeat_timeout
        self._interval = flush_interval
        self._seen: dict[str, Sighting] = {}
        # what this process last wrote per terminal: (state, last_seen)
        self._written: dict[str, tuple[str, dt.datetime]] = {}
        self._refresh = dt.timedelta(seconds=heartbeat_timeout / 4)
        # the AckCollector also takes acks without a coroutine; other sinks are awaited
        self._offer: Callable[[Sequence[AckReport]], None] | None = getattr(acks, "offer", None)
        self._runner: asyncio.Task[None] | None = None
        self.ignored = 0

    async def handle(self, kind: str, ebrid: str, payload: bytes, retained: bool = False) -> None:
        rest = self.receive(kind, ebrid, payload, retained)
        if rest is not None:
            await rest

    def receive(
        self, kind: str, ebrid: str, payload: bytes, retained: bool = False
    ) -> Awaitable[None] | None:
        """The broker link's entry: an uplink handled at once, or the part left to await
        (a refusal's log row, an ack sink that can only be awaited)."""
        try:
            if kind == "ack":
                return self._ack(ebrid, pb.Ack.FromString(payload))
            if kind == "heartbeat":
                beat = pb.Heartbeat.FromString(payload)
                self._note(ebrid, WORK_STATES.get(beat.state, "online"), beat.firmware or None)
            elif kind == "status":
                status = pb.Status.FromString(payload)
                self._note(
                    ebrid,
                    "online" if status.online else "offline",
                    status.firmware or None,
                    retained=retained,
                )
        except DecodeError:
            self.ignored += 1
            log.warning("undecodable %s from %s", kind, ebrid)
        return None

    def _ack(self, ebrid: str, ack: pb.Ack) -> Awaitable[None] | None:
        if ack.terminal_ebrid and ack.terminal_ebrid != ebrid:
            # the topic is what the broker's ACL vouches for; a mismatching body is not trusted
            self.ignored += 1
            log.warning("ack on %s's topic claims to be from %s", ebrid, ack.terminal_ebrid)
            return None
        state = ACK_STATES.get(ack.state)
        if state is None or not ack.alert_id:
            self.ignored += 1
            return None
        at = dt.datetime.fromtimestamp(ack.at_unix, dt.UTC) if ack.at_unix else self._clock()
        detail = {"command_id": ack.command_id, "ebmid": ack.ebmid}
        if ack.reason:
            detail["reason"] = ack.reason
        report = AckReport(ack.alert_id, ebrid, state, detail, at)
        self._note(ebrid, "working" if state in ("playing", "verified") else "online", None)
        if self._offer is not None:
            self._offer([report])
            pending = None
        else:
            pending = self._acks.submit([report])
        if state in ("rejected", "failed"):
            return self._after(pending, self._log_refusal(ebrid, ack, state, at))
        return pending

    @staticmethod
    async def _after(first: Awaitable[None] | None, then: Awaitable[None]) -> None:
        if first is not None:
            await first
        await then

    async def _log_refusal(self, ebrid: str, ack: pb.Ack, state: str, at: dt.datetime) -> None:
        """Every refusal, one row per command: the acks table keeps one per (alert, state)."""
        event = NewLogEvent(
            alert_id=ack.alert_id,
            target=ebrid,
            event=f"terminal.{state}",
            at=at,
            detail={"reason": ack.reason, "command_id": ack.command_id, "ebmid": ack.ebmid},
            dedup_key=f"{ack.alert_id}:{ebrid}:{state}:{ack.command_id}",
        )
        try:
            async with self._db.session() as session:
                await repo.append_log(session, events=[event])
                await session.commit()
        except StoreUnavailable as exc:
            log.warning("refusal by %s not logged: %s", ebrid, exc)

    def _note(
        self, ebrid: str, state: str, firmware: str | None, *, retained: bool = False
    ) -> None:
        self._seen[ebrid] = Sighting(state, self._clock(), firmware, retained)

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name="ebc-uplinks")

    async def stop(self) -> None:
        if self._runner:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
                await self.expire_silent()
            except StoreUnavailable as exc:
                log.warning("inventory update deferred: %s", exc)

    async def flush(self) -> None:
        """Write sightings in batches; register unknown terminals of this jurisdiction seen
        live; catch up those that came back. One short transaction, a few statements."""
        if not self._seen:
            return
        seen = {e: s for e, s in self._seen.items() if not self._unchanged(e, s)}
        self._seen = {}
        if not seen:
            return
        returned: list[str] = []
        try:
            async with self._db.session() as session:
                known = await repo.terminal_states(session, ebrids=list(seen))
                fresh = [
                    e
                    for e, s in seen.items()
                    if e not in known and not s.retained and self._register(e)
                ]
                if fresh:
                    await repo.upsert_terminals(
                        session,
                        terminals=[
                            NewTerminal(
                                ebrid=e,
                                bearer="ip",
                                region=ResourceCode(e).region.value,
                                username=e,
                                state=seen[e].state,
                            )
                            for e in fresh
                        ],
                    )
                rows = [
                    (e, s.state, s.at, s.firmware)
                    for e, s in seen.items()
                    if e in known or e in fresh
                ]
                await repo.touch_terminals(session, sightings=rows)
                await session.commit()
            for ebrid, state, at, _ in rows:
                self._written[ebrid] = (state, at)
        except StoreUnavailable:
            for ebrid, sighting in seen.items():
                self._seen.setdefault(ebrid, sighting)
            raise
        for ebrid, sighting in seen.items():
            was_away = known.get(ebrid) in (None, "offline", "unknown")
            if (ebrid in known or ebrid in fresh) and was_away and sighting.state != "offline":
                returned.append(ebrid)
        if returned:
            await self.catch_up(returned)

    def _unchanged(self, ebrid: str, sighting: Sighting) -> bool:
        """Written by us lately with this state: a fan-out's acks mark 10,000 terminals seen
        within seconds, and rewriting each row every flush held SQLite's one write turn that
        the acks themselves wait for. last_seen is still refreshed well inside the timeout."""
        written = self._written.get(ebrid)
        return (
            written is not None
            and sighting.firmware is None
            and written[0] == sighting.state
            and sighting.at - written[1] < self._refresh
        )

    def _register(self, ebrid: str) -> bool:
        try:
            region = ResourceCode(ebrid).region
        except CodeError:
            return False
        if not self._jurisdiction.contains(region):
            log.warning("terminal %s is outside this platform's jurisdiction", ebrid)
            return False
        log.info("terminal %s registered itself", ebrid)
        return True

    async def expire_silent(self) -> None:
        """Terminals silent for longer than the heartbeat timeout count as offline."""
        cutoff = self._clock() - dt.timedelta(seconds=self._timeout)
        # twice a second: look on a read session first, so the common case (nobody fell
        # silent) never takes SQLite's one write turn from the fan-out
        async with self._db.session(readonly=True) as session:
            if not await repo.any_silent(session, cutoff=cutoff, bearer="ip"):
                return
        async with self._db.session() as session:
            await repo.mark_silent_offline(session, cutoff=cutoff, bearer="ip")
            await session.commit()

    async def catch_up(self, ebrids: list[str]) -> int:
        """Re-send, directed, every open broadcast these terminals have not acked."""
        wanted = set(ebrids)
        sent = 0
        async with self._db.session() as session:
            open_tasks = [
                t
                for t in await repo.unfinished_tasks(session)
                if t.state == TaskState.SENT.value and wanted & set(t.targets)
            ]
            jobs = []
            for task in open_tasks:
                alert = await repo.get_alert(session, alert_id=task.alert_id)
                reached = await repo.reached_targets_of(session, alert_id=task.alert_id)
                missing = sorted((wanted & set(task.targets)) - reached)
                if alert is not None and missing:
                    jobs.append((task, alert, missing))
        for task, alert, missing in jobs:
            adapter = self._adapters.get(task.adapter_ebrid)
            resend = getattr(adapter, "resend", None)
            if resend is None:
                continue
            report = await resend(build_transmission(alert, task, tuple(missing), None), missing)
            sent += len(report.delivered)
            async with self._db.session() as session:
                await repo.append_log(
                    session,
                    events=[
                        NewLogEvent(
                            alert_id=task.alert_id,
                            task_id=task.id,
                            target=target,
                            event="target.catch_up",
                            at=self._clock(),
                            detail={"reason": "terminal came back online"},
                        )
                        for target in report.delivered
                    ],
                )
                await session.commit()
        return sent
