"""(a) Intake: signed CAP alerts accepted per second over HTTP with p50/p99 latency, and
accept to first publish on the county topic. A county platform (`ebc serve`, SQLite,
Mosquitto) with 10,000 IP terminals in its inventory, as in the fan-out benchmark; bodies
are signed before the clock starts, so the figures are the platform's."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from bench.common import Load, Section, ms
from dispatcher.services.authn import sign_request
from protocols.codes import RegionCode
from protocols.terminal.topics import region_topic
from simulators.drill.brokers import Mosquitto
from simulators.drill.mqtt import Observer
from simulators.drill.platform import (
    Intake,
    PlatformProcess,
    cap_exercise,
    ensure_issuer,
    ensure_platform,
)
from simulators.fleet import provision_fleet

COUNTY = "341523"
CONCURRENCY = 8


async def _throughput(url: str, bodies: list[tuple[bytes, dict[str, str]]]
                      ) -> tuple[float, list[float], Counter[int]]:
    """Accepted alerts per second; a refusal (503 when the store is busy) is counted, not
    retried, so the figure is what issuers would see."""
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    queue = list(bodies)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def worker() -> None:
            while queue:
                body, headers = queue.pop()
                started = time.perf_counter()
                response = await client.post("/api/v1/alerts", content=body, headers=headers)
                codes[response.status_code] += 1
                if response.status_code == 202:
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return codes[202] / elapsed, latencies, codes


async def _first_publish(intake: Intake, broker_url: str, rounds: int,
                         gap: float) -> list[float]:
    county = RegionCode.parse(COUNTY)
    observer = Observer(broker_url, [region_topic(county)], name="bench-intake")
    await observer.start()
    delays: list[float] = []
    try:
        for n in range(rounds):
            seen = len(observer.messages)
            ident = f"pub-{n}-{uuid.uuid4().hex[:8]}"
            body = cap_exercise(ident, area=[county.value], event="11B03", severity="Severe",
                                headline="bench", description="bench")
            accepted = await asyncio.to_thread(intake.send, body, ident)
            deadline = time.monotonic() + 10
            while len(observer.messages) == seen and time.monotonic() < deadline:
                await asyncio.sleep(0.001)
            if len(observer.messages) > seen:
                delays.append(observer.messages[seen][0] - accepted.accepted_at)
            # the previous alert's bookkeeping (10k delivery rows) is done before the next
            await asyncio.sleep(gap)
    finally:
        await observer.stop()
    return delays


def _wait_idle(url: str, limit: float = 300.0) -> float:
    """Until the platform has no task due or sending (the throughput phase leaves a fan-out
    backlog: 300 county alerts of 10,000 terminals each), so the one-at-a-time probe
    measures an idle platform. Returns the seconds waited."""
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() - started < limit:
            text = client.get("/metrics").text
            busy = [line for line in text.splitlines()
                    if line.startswith(("ebc_queue_depth ", 'ebc_tasks{state="sending"}'))
                    and float(line.rsplit(" ", 1)[1]) > 0]
            if not busy:
                break
            time.sleep(0.5)
    return time.monotonic() - started


def run(quick: bool = False) -> Section:
    load = Load()
    count, rounds, fleet = (20, 5, 50) if quick else (300, 50, 10_000)
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto")
        broker.start()
        settings = ensure_platform(work / "platform", COUNTY)
        signer = ensure_issuer(settings)
        asyncio.run(provision_fleet(settings.database_url, COUNTY, fleet,
                                    directory=settings.dir))
        platform = PlatformProcess(settings.dir, {"mqtt_url": broker.url,
                                                  "rate_limit_per_minute": 10**7},
                                   work / "platform.log")
        platform.start()
        intake = Intake(platform.url, signer)
        try:
            now = int(time.time())
            bodies = []
            for n in range(count):
                body = cap_exercise(f"rate-{n}-{uuid.uuid4().hex[:8]}", area=[COUNTY + "000000"],
                                    event="11B03", severity="Severe", headline="bench",
                                    description="bench")
                headers = sign_request(body, sign=signer.sign, cert_sn=signer.cert_sn.value,
                                       signed_at=now)
                headers["Content-Type"] = "application/cap+xml"
                bodies.append((body, headers))
            rate, latencies, codes = asyncio.run(_throughput(platform.url, bodies))
            drained = _wait_idle(platform.url)
            time.sleep(2.0)
            delays = asyncio.run(_first_publish(intake, broker.url, rounds,
                                                0.2 if quick else 2.0))
        finally:
            intake.close()
            platform.stop()
            broker.stop()
    return Section(
        "(a) Intake", "python -m bench --only intake",
        ["measure", "value", "p50 (ms)", "p99 (ms)", "samples"],
        [[f"signed CAP alerts accepted per second ({CONCURRENCY} concurrent clients)", rate,
          ms(latencies, 50), ms(latencies, 99), len(latencies)],
         ["accept (202 received) to first publish on the county topic, one alert at a time",
          "-", ms(delays, 50), ms(delays, 99), len(delays)]],
        [f"{fleet} IP terminals in the inventory (not connected); SQLite; Mosquitto",
         "responses: " + ", ".join(f"{n} x {code}" for code, n in sorted(codes.items())),
         f"the throughput phase's fan-out backlog drained {drained:.0f} s after the last 202; "
         "the probe ran after that",
         load.note()],
        {"per_s": rate, "codes": dict(codes), "latency_p50_ms": ms(latencies, 50),
         "latency_p99_ms": ms(latencies, 99),
         "first_publish_p50_ms": ms(delays, 50), "first_publish_p99_ms": ms(delays, 99)},
    )
