"""One fan-out measurement: a fleet connected to its broker(s), first the bare-broker floor
(a plain publisher and collector, no platform), then the platform's own run with the same
terminals, timed from the intake's 202 to acks recorded in its database."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import ms
from bench.cpu import CpuMeter, describe
from dispatcher.store.models import DISPATCH_LOG
from dispatcher.store.repo.log import DELIVERED_EVENT
from protocols.codes import RegionCode
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import region_topic
from signing.signer import load_signer
from simulators.drill.faults import TerminalFaults
from simulators.drill.mqtt import Observer
from simulators.drill.platform import (
    AckCounter,
    Intake,
    PlatformProcess,
    cap_exercise,
    ensure_issuer,
    ensure_platform,
)
from simulators.drill.report import percentile
from simulators.drill.worker import FleetProcess, WorkerSpec, split
from simulators.fleet import Credentials, provision_fleet
from terminals.envelope import seal_command

PLAY_SECONDS = 1.0
SHARES = (0.5, 0.99, 1.0)


@dataclass
class Run:
    """Seconds from the start signal to each share of the fleet acked (None: not reached)."""

    label: str
    count: int
    reached: dict[float, float | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def milestones(times: list[float], count: int) -> dict[float, float | None]:
    ordered = sorted(times)
    out: dict[float, float | None] = {}
    for share in SHARES:
        need = max(1, int(share * count + 0.999999))
        out[share] = ordered[need - 1] if len(ordered) >= need else None
    return out


class FanoutHarness:
    def __init__(self, work: Path, region: str, count: int, *, root_url: str,
                 leaf_urls: dict[str, str] | None = None, processes: int = 1,
                 timeout: float = 60.0, concurrency: int = 300,
                 broker_pids: tuple[int | None, ...] = ()) -> None:
        self.work = work
        self.region = RegionCode.parse(region)
        self.count = count
        self.root_url = root_url
        self.leaf_urls = leaf_urls or {}  # EBRID -> its leaf broker, when bridged
        self.processes = processes
        self.timeout = timeout
        # connects in flight per fleet process: too many on a busy box time out and churn
        self.concurrency = concurrency
        self.fleets: list[FleetProcess] = []
        self.platform: PlatformProcess | None = None
        self.settings = ensure_platform(work / "platform", self.region.value)
        self.credentials: list[Credentials] = []
        self.cpu = CpuMeter()
        self.cpu.watch("broker", broker_pids)
        self.cpu.watch("harness", [os.getpid()])

    async def setup(self) -> float:
        self.credentials = await provision_fleet(
            self.settings.database_url, self.region.significant, self.count,
            directory=self.settings.dir)
        assert self.settings.public_key is not None
        key = self.settings.public_key.read_bytes()
        groups: dict[str, list[Credentials]] = {}
        for cred in self.credentials:
            groups.setdefault(self.leaf_urls.get(cred[0], self.root_url), []).append(cred)
        for url, members in groups.items():
            parts = max(1, round(self.processes * len(members) / self.count))
            for part in split(members, parts):
                spec = WorkerSpec(url, part, key, self.settings.cert_sn,
                                  {e: TerminalFaults() for e, _, _ in part},
                                  heartbeat_seconds=600, play_seconds=PLAY_SECONDS,
                                  concurrency=self.concurrency)
                self.fleets.append(FleetProcess(spec))
        self.cpu.watch("fleet", [fleet.process.pid for fleet in self.fleets])
        self.cpu.start()
        started = time.monotonic()
        for fleet in self.fleets:
            fleet.send("start")
        for fleet in self.fleets:
            await asyncio.to_thread(fleet.reply, 900)
        return time.monotonic() - started

    async def floor(self) -> Run:
        """Publish one signed command as the platform would, collect the acks: no platform."""
        signer = load_signer(self.settings.private_key or "", self.settings.cert_sn)
        alert_id = f"floor-{uuid.uuid4().hex[:8]}"
        times: dict[str, float] = {}
        t0 = 0.0

        def on_ack(topic: str, payload: bytes, at: float) -> None:
            ack = pb.Ack.FromString(payload)
            if ack.alert_id == alert_id and ack.state == pb.ACK_VERIFIED:
                times.setdefault(ack.terminal_ebrid, at - t0)

        collector = Observer(self.root_url, ["ebc/v1/terminal/+/ack"], keep=False,
                             on_message=on_ack, name="bench-collector")
        await collector.start()
        now = int(time.time())
        command = pb.Command(command_id=f"{alert_id}-c", issuer_ebrid=self.settings.ebrid,
                             issued_unix=now)
        command.start.ebmid = alert_id
        command.start.alert_id = alert_id
        command.start.event_type = "11B03"
        command.start.drill = True
        command.start.texts.add(language="zho", title="floor", body="bare broker floor")
        command.start.regions.append(self.region.value)
        payload = seal_command(command, signer, signed_at=now)
        t0 = time.time()
        collector.publish(region_topic(self.region), payload)
        deadline = time.monotonic() + self.timeout
        while len(times) < self.count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        await collector.stop()
        await asyncio.sleep(PLAY_SECONDS + 1.0)  # playback over before the platform's run
        reached = milestones(list(times.values()), self.count)
        return Run("bare broker floor", self.count, reached,
                   {"acked": len(times), **self._cpu_until_99(t0, reached)})

    async def platform_run(self) -> Run:
        self.platform = PlatformProcess(
            self.settings.dir, {"mqtt_url": self.root_url, "rate_limit_per_minute": 100000,
                                "heartbeat_timeout_seconds": 3600},
            self.work / "platform.log")
        signer = ensure_issuer(self.settings)  # before start: the trust store is read then
        await asyncio.to_thread(self.platform.start)
        self.cpu.watch("platform", [self.platform.proc.pid if self.platform.proc else None])
        counter = AckCounter(self.settings.database_url)
        await counter.start()
        observer = Observer(self.root_url, [region_topic(self.region)], name="bench-observer")
        await observer.start()
        intake = Intake(self.platform.url, signer)
        try:
            settle = time.monotonic()
            deadline = settle + max(self.timeout, 120)
            while time.monotonic() < deadline:  # the fleet's status burst, registered
                if await counter.online(self.region.significant) >= self.count:
                    break
                await asyncio.sleep(0.5)
            settle = time.monotonic() - settle
            await asyncio.sleep(2.0)
            ident = f"bench-{uuid.uuid4().hex[:12]}"
            body = cap_exercise(ident, area=[self.region.value], event="11B03",
                                severity="Severe", headline="bench", description="bench")
            accepted = await asyncio.to_thread(intake.send, body, ident)
            t0 = accepted.accepted_at
            samples: list[tuple[float, int]] = []
            end = time.monotonic() + self.timeout
            while time.monotonic() < end:
                got = (await counter.reached([accepted.alert_id])).get(accepted.alert_id, 0)
                samples.append((time.time() - t0, got))
                if got >= self.count:
                    break
                await asyncio.sleep(0.02)
            first = next((at for at, _, _ in observer.messages), None)
            published = await _published_at(counter, accepted.alert_id)
        finally:
            intake.close()
            await observer.stop()
            await counter.stop()
        reached: dict[float, float | None] = {}
        for share in SHARES:
            need = max(1, int(share * self.count + 0.999999))
            reached[share] = next((t for t, n in samples if n >= need), None)
        sent = await self._terminal_times(accepted.alert_id, t0)
        return Run("platform", self.count, reached, {
                       "intake_ms": (accepted.accepted_at - accepted.posted_at) * 1000,
                       # handed to the broker, by the platform's own log (same machine clock)
                       "first_publish_ms": (published - t0) * 1000 if published else None,
                       # first copy an observer got: it subscribed after the fleet, so the
                       # broker's fan-out to every terminal comes first
                       "observer_ms": (first - t0) * 1000 if first else None,
                       "acked": samples[-1][1] if samples else 0,
                       "registration_s": settle,
                       "terminal_p99_s": percentile(sent, 99),
                       "terminal_max_s": max(sent) if sent else None,
                       **self._cpu_until_99(t0, reached),
                   })

    def _cpu_until_99(self, t0: float, reached: dict[float, float | None]) -> dict[str, Any]:
        """CPU seconds per process group from the start signal until 99% acked."""
        window = reached[0.99]
        if window is None:
            return {}
        self.cpu.sample()
        return {"cpu": self.cpu.used(t0, t0 + window), "cpu_window_s": window}

    async def _terminal_times(self, alert_id: str, t0: float) -> list[float]:
        times: list[float] = []
        for fleet in self.fleets:
            answer = await asyncio.to_thread(fleet.request, "collect")
            for record in answer[1].values():
                firsts = [a[3] for a in record["acks"] if a[0] == alert_id]
                if firsts:
                    times.append(min(firsts) - t0)
        return times

    def stop(self) -> None:
        self.cpu.stop()
        if self.platform is not None:
            self.platform.stop()
        for fleet in self.fleets:
            fleet.stop()


async def _published_at(counter: AckCounter, alert_id: str) -> float | None:
    """When the platform's adapter returned from publishing: the first delivery row."""
    query = select(func.min(DISPATCH_LOG.c.at)).where(
        DISPATCH_LOG.c.alert_id == alert_id, DISPATCH_LOG.c.event == DELIVERED_EVENT)
    async with counter.db.session(readonly=True) as session:
        at = (await session.execute(query)).scalar()
    return at.timestamp() if at is not None else None


def ratio(platform: float | None, floor: float | None) -> float | None:
    if platform is None or floor is None or floor <= 0:
        return None
    return platform / floor


def rows_for(floor: Run, runs: list[Run]) -> list[list[Any]]:
    rows: list[list[Any]] = [[floor.count, floor.label, *[floor.reached[s] for s in SHARES],
                              "1.00", "-", "-"]]
    for run in runs:
        ratios = [ratio(run.reached[s], floor.reached[s]) for s in SHARES]
        rows.append([run.count, run.label, *[run.reached[s] for s in SHARES],
                     " / ".join("-" if r is None else f"{r:.2f}" for r in ratios),
                     _ms(run.extra.get("first_publish_ms")), run.extra.get("acked")])
    return rows


def cpu_note(count: int, floor: Run, runs: list[Run]) -> list[str]:
    """Who used the cores from the start signal until 99% acked, for the floor and each run."""
    return [f"{count} terminals, CPU seconds until 99% acked, {run.label}: "
            f"{describe(run.extra['cpu'], run.extra['cpu_window_s'])}"
            for run in [floor, *runs] if run.extra.get("cpu") is not None]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")


__all__ = ["FanoutHarness", "Run", "cpu_note", "ms", "rows_for"]
