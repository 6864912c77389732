"""(b) Fan-out over one Mosquitto: accept to 50/99/100% of the fleet acked, for 1k and 10k
terminals, each beside the bare-broker floor measured in the same run with the same
terminals. The platform runs as `ebc serve` (SQLite), the fleet in its own processes."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bench.common import Load, Section
from bench.harness import FanoutHarness, Run, cpu_note, rows_for
from simulators.drill.brokers import Mosquitto

COUNTY = "341523"
HEADERS = ["terminals", "run", "50% (s)", "99% (s)", "100% (s)",
           "ratio to floor 50/99/100", "accept to publish", "acked"]


async def measure(count: int, work: Path, *, timeout: float,
                  processes: int) -> tuple[Run, list[Run]]:
    broker = Mosquitto(work / "mosquitto")
    broker.start()
    runs: list[Run] = []
    harness = FanoutHarness(work, COUNTY, count, root_url=broker.url, processes=processes,
                            timeout=timeout, broker_pids=(broker.pid,))
    try:
        connect = await harness.setup()
        floor = await harness.floor()
        floor.extra["connect_s"] = connect
        runs.append(await harness.platform_run())
        if harness.platform is not None:
            await asyncio.to_thread(harness.platform.stop)
    finally:
        await asyncio.to_thread(harness.stop)
        broker.stop()
    return floor, runs


def run(quick: bool = False, sizes: list[int] | None = None) -> Section:
    load = Load()
    section = Section("(b) Fan-out over Mosquitto, beside the bare-broker floor",
                      "python -m bench --only fanout", HEADERS)
    for count in sizes or ([40] if quick else [1000, 10_000]):
        with tempfile.TemporaryDirectory(prefix=f"bench-fanout-{count}-") as tmp:
            floor, runs = asyncio.run(measure(
                count, Path(tmp), timeout=20.0 if quick else 90.0,
                processes=max(1, count // 5000)))
        section.rows += rows_for(floor, runs)
        section.data[str(count)] = {"floor": floor.__dict__, "runs": [r.__dict__ for r in runs]}
        for r in runs:
            section.notes.append(
                f"{count} terminals, {r.label}: intake {r.extra['intake_ms']:.0f} ms, first copy "
                f"at an observer {_ms(r.extra.get('observer_ms'))}, fleet "
                f"registered in {r.extra['registration_s']:.1f} s, terminals' own first ack "
                f"p99 {_s(r.extra['terminal_p99_s'])} max {_s(r.extra['terminal_max_s'])}")
        section.notes += cpu_note(count, floor, runs)
    section.notes.append(load.note())
    return section


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"
