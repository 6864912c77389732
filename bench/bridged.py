"""(b) Fan-out to 100k terminals over bridged brokers: a root Mosquitto for a city platform,
leaf brokers per county (a county too big for one process split over two) bridged to it as
deploy/mosquitto/bridge.conf.example describes, each leaf's terminals in their own fleet
processes (20,000 open files per process here). Beside it, the bare-broker floor through
the same bridges."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from bench.common import Load, Section
from bench.fanout import HEADERS
from bench.harness import FanoutHarness, Run, cpu_note, rows_for
from simulators.drill.brokers import BridgedBrokers
from simulators.fleet import fleet_ebrids

CITY = "341500"  # 六安市: 7 counties, 146 townships
PER_BROKER = 12_500
PER_PROCESS = 12_500


async def measure(count: int, work: Path, *, timeout: float) -> tuple[Run, list[Run]]:
    ebrids = fleet_ebrids(CITY, count)
    brokers = BridgedBrokers(work, ebrids, per_broker=PER_BROKER)
    await asyncio.to_thread(brokers.start)
    runs: list[Run] = []
    try:
        await asyncio.to_thread(brokers.wait_bridged)
        leaf_urls = {e: leaf.broker.url for leaf in brokers.leaves for e in leaf.terminals}
        harness = FanoutHarness(work, CITY, count, root_url=brokers.root.url,
                                leaf_urls=leaf_urls, timeout=timeout, concurrency=50,
                                processes=max(len(brokers.leaves), -(-count // PER_PROCESS)),
                                broker_pids=(brokers.root.pid,
                                             *(leaf.broker.pid for leaf in brokers.leaves)))
        try:
            connect = await harness.setup()
            floor = await harness.floor()
            floor.extra["connect_s"] = connect
            floor.extra["brokers"] = 1 + len(brokers.leaves)
            runs.append(await harness.platform_run())
            if harness.platform is not None:
                await asyncio.to_thread(harness.platform.stop)
        finally:
            await asyncio.to_thread(harness.stop)
    finally:
        await asyncio.to_thread(brokers.stop)
    return floor, runs


def run(quick: bool = False, count: int | None = None) -> Section:
    load = Load()
    count = count or (60 if quick else int(os.environ.get("EBC_BENCH_BRIDGED", 100_000)))
    section = Section("(b) Fan-out over bridged brokers", "python -m bench --only bridged",
                      HEADERS)
    with tempfile.TemporaryDirectory(prefix=f"bench-bridged-{count}-") as tmp:
        floor, runs = asyncio.run(measure(count, Path(tmp), timeout=30.0 if quick else 180.0))
    section.rows += rows_for(floor, runs)
    section.data[str(count)] = {"floor": floor.__dict__, "runs": [r.__dict__ for r in runs]}
    section.notes.append(f"{floor.extra['brokers']} Mosquitto processes (1 root, "
                         f"{floor.extra['brokers'] - 1} leaves); fleet connected in "
                         f"{floor.extra['connect_s']:.0f} s")
    for r in runs:
        section.notes.append(
            f"{r.label}: intake {r.extra['intake_ms']:.0f} ms, fleet registered in "
            f"{r.extra['registration_s']:.1f} s, terminals' own first ack p99 "
            f"{_s(r.extra['terminal_p99_s'])}")
    section.notes += cpu_note(count, floor, runs)
    section.notes.append(load.note())
    return section


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"
