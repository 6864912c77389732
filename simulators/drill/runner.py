"""Run a drill: platform, broker and fleet up; alerts, faults and forgeries on schedule; the
outcome gathered from the terminals, the platform's status API and its database."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dispatcher.config import AdapterConfig, Settings
from protocols.codes import RegionCode
from protocols.terminal.topics import region_topic
from signing.sm2 import SM2PublicKey
from simulators.drill import faults as faultlib
from simulators.drill.drill_brokers import DrillBrokers
from simulators.drill.faults import Injection
from simulators.drill.mqtt import Observer
from simulators.drill.observed import Observed
from simulators.drill.platform import (
    AckCounter,
    Intake,
    PlatformProcess,
    cap_exercise,
    drill_adapters,
    ensure_issuer,
    ensure_platform,
    new_identifier,
    retire_drill_adapters,
)
from simulators.drill.progress import Progress
from simulators.drill.receivers import ReceiverFleet
from simulators.drill.report import build_result
from simulators.drill.scenario import Scenario
from simulators.drill.worker import FleetProcess, WorkerSpec, split
from simulators.fleet import Credentials, provision_fleet
from terminals.mqtt_terminal import anchor_for_key

__all__ = ["DrillRunner", "Injection", "Observed", "run_drill"]

log = logging.getLogger("ebc.drill")
POLL = 0.2
QUIET_SECONDS = 3.0  # no new ack for this long once every expected terminal acked: done


async def _provision(scenario: Scenario, settings: Settings) -> list[Credentials]:
    if scenario.fleet.townships:
        found: list[Credentials] = []
        for township, count in scenario.fleet.townships.items():
            found += await provision_fleet(settings.database_url, township[:9], count,
                                           directory=settings.dir)
        return found
    if scenario.terminals() == 0:
        return []
    county = RegionCode(settings.region).significant
    return await provision_fleet(settings.database_url, county, scenario.terminals(),
                                 directory=settings.dir)


class DrillRunner:
    def __init__(self, scenario: Scenario, *, progress: bool = True,
                 workdir: Path | None = None) -> None:
        self.scenario = scenario
        self.progress = progress
        self.workdir = workdir
        self.brokers: DrillBrokers | None = None
        self.platform: PlatformProcess | None = None
        self.fleets: list[FleetProcess] = []
        self.observer: Observer | None = None
        self.receivers: ReceiverFleet | None = None
        self.adapters: list[dict[str, Any]] = []
        # alert id -> terminals in its area expected to ack (not switched off, clock right)
        self.expected: dict[str, int] = {}

    def run(self) -> dict[str, Any]:
        return asyncio.run(self.run_async())

    async def run_async(self) -> dict[str, Any]:
        scenario = self.scenario
        settings = ensure_platform(scenario.platform.dir, scenario.platform.region)
        if scenario.platform.database_url:
            settings = settings.model_copy(update={"database_url": scenario.platform.database_url})
        signer = ensure_issuer(settings)
        started = dt.datetime.now(dt.UTC)
        credentials = await _provision(scenario, settings)
        ebrids = [e for e, _, _ in credentials]
        plan = faultlib.deal(scenario.faults, ebrids, scenario.seed)
        work = self.workdir or Path(tempfile.mkdtemp(prefix="drill-", dir=settings.dir))
        mix = scenario.fleet.receivers()
        if mix:
            self.adapters = drill_adapters(settings, list(mix), work / "bearers")
            self.receivers = ReceiverFleet(settings.model_copy(update={"adapters": [
                AdapterConfig(**a) for a in self.adapters]}), mix)
            await self.receivers.provision()
            plan |= faultlib.deal_receivers(scenario.faults, self.receivers.ebrids,
                                            scenario.seed)
        await retire_drill_adapters(settings.database_url, settings.region)
        seen = Observed(scenario, settings, started, plan, ebrids,
                        receivers=self.receivers.bearers if self.receivers else {})
        self.brokers = DrillBrokers(scenario.platform, work,
                                    restartable=scenario.faults.broker_restart is not None)
        seen.broker = scenario.platform.broker
        try:
            broker_url = await asyncio.to_thread(self.brokers.start, ebrids)
            seen.brokers = self.brokers.layout()
            await asyncio.to_thread(self._start_platform, work, broker_url)
            assert self.platform is not None
            await self._start_fleet(credentials, settings, plan, seen)
            await self._start_receivers(broker_url, settings, plan)
            counter = AckCounter(settings.database_url)
            await counter.start()
            try:
                await self._await_online(counter, settings, plan)
                intake = Intake(self.platform.url, signer)
                try:
                    await self._timeline(seen, intake, counter, broker_url)
                    for accepted in seen.accepted:
                        seen.statuses[accepted.alert_id] = await asyncio.to_thread(
                            intake.status, accepted.alert_id)
                finally:
                    intake.close()
            finally:
                await counter.stop()
            for fleet in self.fleets:
                answer = await asyncio.to_thread(fleet.request, "collect")
                seen.records.update(answer[1])
            if self.receivers is not None:
                ebmids = {str(st.get("ebmid")): a for a, st in seen.statuses.items()}
                seen.records.update(self.receivers.records(ebmids))
        finally:
            await self._shutdown()
            await retire_drill_adapters(settings.database_url, settings.region)
        seen.finished_at = dt.datetime.now(dt.UTC)
        return build_result(seen)

    # -- set-up -------------------------------------------------------------------------

    def _start_platform(self, work: Path, broker_url: str) -> None:
        overrides: dict[str, object] = {}
        if self.scenario.platform.broker == "embedded":
            overrides["embedded_broker_port"] = broker_url.rsplit(":", 1)[1]
            overrides["mqtt_url"] = ""
        else:
            overrides["mqtt_url"] = broker_url
        if self.scenario.platform.database_url:
            overrides["database_url"] = self.scenario.platform.database_url
        if self.adapters:
            overrides["adapters"] = self.adapters
        self.platform = PlatformProcess(self.scenario.platform.dir, overrides,
                                        work / "platform.log")
        self.platform.start()

    async def _start_fleet(self, credentials: list[Credentials], settings: Settings,
                           plan: dict[str, faultlib.TerminalFaults], seen: Observed) -> None:
        """Fleet processes, each holding terminals of one broker (their leaf when bridged),
        the scenario's processes shared out over the brokers by their terminals."""
        assert settings.public_key is not None and self.brokers is not None
        key = settings.public_key.read_bytes()
        fleet = self.scenario.fleet
        processes = max(1, self.scenario.processes())
        for url, members in self.brokers.groups(credentials):
            parts = max(1, round(processes * len(members) / len(credentials)))
            for part in split(members, parts):
                spec = WorkerSpec(url, part, key, settings.cert_sn,
                                  {e: plan[e] for e, _, _ in part},
                                  heartbeat_seconds=fleet.heartbeat_seconds,
                                  play_seconds=fleet.play_seconds)
                self.fleets.append(FleetProcess(spec))
        seen.processes = len(self.fleets)
        bar = Progress("connecting", len(credentials), enabled=self.progress and bool(credentials))
        started = time.monotonic()
        for process in self.fleets:
            process.send("start")
        connected = 0
        deadline = self.scenario.limits.connect_seconds
        for process in self.fleets:
            answer = await asyncio.to_thread(process.reply, deadline)
            connected += int(answer[1]) + sum(plan[e].offline for e in process.ebrids)
            bar.update(connected)
        seen.connect_seconds = time.monotonic() - started
        bar.close(f"{seen.connect_seconds:.1f}s")

    async def _start_receivers(self, broker_url: str, settings: Settings,
                               plan: dict[str, faultlib.TerminalFaults]) -> None:
        if self.receivers is None:
            return
        assert settings.public_key is not None
        key = SM2PublicKey.from_pem(settings.public_key.read_bytes())
        await self.receivers.start(broker_url, anchor_for_key(key, settings.cert_sn), plan,
                                   play_seconds=self.scenario.fleet.play_seconds)
        started = len(self.receivers.members)
        bar = Progress("receivers", started, enabled=self.progress)
        bar.update(await self.receivers.wait_ready(self.scenario.limits.connect_seconds))
        bar.close()

    async def _await_online(self, counter: AckCounter, settings: Settings,
                            plan: dict[str, faultlib.TerminalFaults]) -> None:
        """Until the platform's inventory shows the IP fleet online: its status burst is over."""
        expected = sum(not f.offline for e, f in plan.items() if e not in self._receiving)
        prefix = RegionCode(settings.region).significant
        deadline = time.monotonic() + self.scenario.limits.connect_seconds
        bar = Progress("registering", expected, enabled=self.progress and expected > 0)
        while time.monotonic() < deadline:
            online = await counter.online(prefix, "ip")
            bar.update(min(online, expected))
            if online >= expected:
                break
            await asyncio.sleep(0.5)
        bar.close()

    # -- the drill itself ---------------------------------------------------------------

    async def _timeline(self, seen: Observed, intake: Intake, counter: AckCounter,
                        broker_url: str) -> None:
        scenario = self.scenario
        county = RegionCode(seen.settings.region)
        self.observer = Observer(broker_url, [region_topic(county)])
        await self.observer.start()
        t0 = seen.t0 = time.time()
        actions: list[tuple[float, str, Any]] = [(a.at, "alert", (n, a))
                                                 for n, a in enumerate(scenario.alerts)]
        restart = scenario.faults.broker_restart
        if restart is not None:
            actions.append((restart.at, "restart", None))
        if scenario.faults.injects:
            actions.append((scenario.alerts[0].at + 1.0, "inject", None))
        flapping = [e for e, f in seen.plan.items() if f.flapping]
        last = max(a for a, _, _ in actions)
        if flapping:
            until = t0 + last + scenario.limits.settle_seconds
            for process in self.fleets:
                mine = [e for e in process.ebrids if e in set(flapping)]
                if mine:
                    flap = scenario.faults.flapping
                    await asyncio.to_thread(process.request, "flap", mine, flap.down_seconds,
                                            flap.up_seconds, until)
            seen.events.append((0.0, f"flapping {len(flapping)} terminals"))
        actions.sort(key=lambda a: a[0])
        expected = sum(1 for f in seen.plan.values() if not f.offline and not f.skew)
        bar = Progress("acks", expected * len(scenario.alerts), enabled=self.progress)
        poller = asyncio.create_task(self._poll(seen, counter, t0, bar))
        try:
            for at, kind, arg in actions:
                await asyncio.sleep(max(0.0, t0 + at - time.time()))
                if kind == "alert":
                    n, spec = arg
                    ident = new_identifier(scenario.name, n)
                    body = cap_exercise(
                        ident, area=spec.area or [county.value], event=spec.event,
                        severity=spec.severity, headline=spec.headline,
                        description=spec.description)
                    accepted = await asyncio.to_thread(intake.send, body, ident)
                    seen.accepted.append(accepted)
                    areas = [RegionCode(a) for a in spec.area or [county.value]]
                    self.expected[accepted.alert_id] = sum(
                        1 for e, f in seen.plan.items() if not f.offline and not f.skew
                        and any(a.contains(RegionCode(e[1:13])) for a in areas))
                    seen.events.append((accepted.accepted_at - t0, f"alert {n} accepted"))
                elif kind == "restart":
                    assert self.brokers is not None
                    seen.events.append((time.time() - t0, "broker restart"))
                    await asyncio.to_thread(self.brokers.restart)
                    seen.events.append((time.time() - t0, "broker back"))
                else:
                    await self._inject(seen, t0)
            await self._settle(seen, counter, expected, t0 + last)
        finally:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)
            bar.close()
            await self.observer.stop()
            seen.genuine = faultlib.genuine_commands(p for _, _, p in self.observer.messages)

    async def _poll(self, seen: Observed, counter: AckCounter, t0: float,
                    bar: Progress) -> None:
        while True:
            ids = [a.alert_id for a in seen.accepted]
            with contextlib.suppress(Exception):  # a busy database only delays a sample
                reached = await counter.reached(ids)
                seen.timeline.append((time.time() - t0, reached))
                bar.update(sum(reached.values()))
            await asyncio.sleep(POLL)

    async def _settle(self, seen: Observed, counter: AckCounter, expected: int,
                      last: float) -> None:
        deadline = last + self.scenario.limits.settle_seconds
        quiet_since = time.time()
        previous = -1
        while time.time() < deadline:
            reached = await counter.reached([a.alert_id for a in seen.accepted])
            total = sum(reached.values())
            if total != previous:
                previous, quiet_since = total, time.time()
            everyone = all(reached.get(a.alert_id, 0) >= self.expected.get(a.alert_id, expected)
                           for a in seen.accepted)
            if everyone and time.time() - quiet_since >= QUIET_SECONDS:
                return
            await asyncio.sleep(POLL)

    async def _inject(self, seen: Observed, t0: float) -> None:
        assert self.observer is not None
        county_topic = region_topic(RegionCode(seen.settings.region))
        event = await faultlib.inject(self.observer, self.scenario.faults, county_topic, t0,
                                      seen.injections)
        seen.events.append((time.time() - t0, event))

    @property
    def _receiving(self) -> dict[str, str]:
        return self.receivers.bearers if self.receivers is not None else {}

    async def _shutdown(self) -> None:
        """Everything the drill started, each step bounded; the brokers even when an
        earlier step fails."""
        try:
            if self.receivers is not None:
                await self.receivers.stop()
            for process in self.fleets:
                await asyncio.to_thread(process.stop)
            if self.platform is not None:
                await asyncio.to_thread(self.platform.stop)
        finally:
            if self.brokers is not None:
                await asyncio.to_thread(self.brokers.stop)


def run_drill(scenario: Scenario, *, progress: bool = True,
              on_result: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    result = DrillRunner(scenario, progress=progress).run()
    if on_result is not None:
        on_result(result)
    return result
