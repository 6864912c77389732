"""(e) Platform CPU per uplink: what one terminal ack costs the platform, which bounds a
fan-out on a machine whose cores the fleet and the broker share. Two parts, each the least
of three rounds (the box's other work only ever adds):

- the broker link alone: N QoS 1 acks queued in its persistent session on a private
  Mosquitto, drained through `TerminalLink` to a handler that only counts, with the replies
  to one socket read sent in one write, and (for comparison) one PUBACK write per message;
- the uplink service: 10,000 terminals x VERIFIED, PLAYING, PLAYED handed to
  `UplinkService.receive` as the link would, into the AckCollector and the sighting flush on
  SQLite, until every ack is written: CPU of the event loop thread and of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import gmqtt

from bench.acks import _alert
from bench.common import Load, Section
from dispatcher.services.acks import AckCollector
from dispatcher.services.uplinks import UplinkService
from dispatcher.store import repo
from dispatcher.store.bench_log import _database
from dispatcher.store.records import NewTerminal
from protocols.codes import RegionCode
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import terminal_topic
from simulators.drill.brokers import Mosquitto
from simulators.fleet import fleet_ebrids
from terminals import link as link_module
from terminals.link import TerminalLink

COUNTY = "341523"
ROUNDS = 3
DEADLINE = 120.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _acks(ebrids: list[str], alert_id: str) -> list[tuple[str, bytes]]:
    at = int(time.time())
    return [(e, pb.Ack(terminal_ebrid=e, command_id="c-1", ebmid="e-1", alert_id=alert_id,
                       state=state, at_unix=at).SerializeToString())
            for state in (pb.ACK_VERIFIED, pb.ACK_PLAYING, pb.ACK_PLAYED) for e in ebrids]


@contextlib.contextmanager
def _one_write_per_reply(enabled: bool) -> Iterator[None]:
    if enabled:
        yield
        return
    with mock.patch.object(link_module, "coalesce_replies", lambda client: None):
        yield


async def _drain(url: str, port: int, acks: list[tuple[str, bytes]], coalesce: bool) -> float:
    """CPU seconds per message for the link to take every queued ack."""
    got = 0
    done = asyncio.Event()

    def count(kind: str, ebrid: str, payload: bytes, retained: bool) -> None:
        nonlocal got
        got += 1
        if got >= len(acks):
            done.set()

    client_id = f"bench-link-{coalesce}-{time.monotonic_ns()}"
    link = TerminalLink(url, client_id=client_id, on_uplink=count)
    await link.start()
    await link.stop()  # the session stays: what is published now is queued for it
    publisher = gmqtt.Client(f"{client_id}-pub")
    await publisher.connect("127.0.0.1", port, version=4)
    for n, (ebrid, payload) in enumerate(acks):
        publisher.publish(terminal_topic(ebrid, "ack"), payload, qos=1)
        if n % 500 == 0:
            await asyncio.sleep(0)
    await asyncio.sleep(2.0)  # the broker has them all before the link returns
    await publisher.disconnect()
    with _one_write_per_reply(coalesce):
        link = TerminalLink(url, client_id=client_id, on_uplink=count)
        started = time.process_time()
        await link.start()
        await asyncio.wait_for(done.wait(), DEADLINE)
        spent = time.process_time() - started
        await link.stop()
    return spent / len(acks)


async def _service(count: int) -> tuple[float, float]:
    """(process, event-loop thread) CPU seconds per uplink through the uplink service."""
    async with _database(None) as db:
        ebrids = fleet_ebrids(COUNTY, count)
        async with db.session() as session:
            await repo.upsert_terminals(session, terminals=[
                NewTerminal(ebrid=e, bearer="ip", region=e[1:13], state="online")
                for e in ebrids])
            await session.commit()
        acks = _acks(ebrids, await _alert(db, ebrids))
        collector = AckCollector(db=db, clock=_now, batch_size=1000, flush_interval=0.02)
        uplinks = UplinkService(db=db, acks=collector, adapters={},
                                jurisdiction=RegionCode.parse(COUNTY), clock=_now)
        await collector.start()
        await uplinks.start()
        started, loop_started = time.process_time(), time.thread_time()
        deadline = time.monotonic() + DEADLINE
        for n in range(0, len(acks), 300):  # about one socket read's worth at a time
            for ebrid, payload in acks[n:n + 300]:
                uplinks.receive("ack", ebrid, payload, False)
            await asyncio.sleep(0)
        while collector.written < len(acks) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        await uplinks.flush()
        spent, loop_spent = time.process_time() - started, time.thread_time() - loop_started
        await uplinks.stop()
        await collector.stop()
        if collector.written < len(acks):
            raise RuntimeError(f"only {collector.written} of {len(acks)} acks written")
    return spent / len(acks), loop_spent / len(acks)


async def _measure(count: int, rounds: int) -> dict[str, float]:
    ebrids = fleet_ebrids(COUNTY, count)
    acks = _acks(ebrids, "a" * 32)
    best: dict[str, float] = {}

    def keep(name: str, value: float) -> None:
        best[name] = min(best.get(name, value), value)

    with tempfile.TemporaryDirectory(prefix="bench-uplinks-") as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto")
        broker.start()
        try:
            for _ in range(rounds):
                keep("link", await _drain(broker.url, broker.port, acks, coalesce=True))
                keep("link_per_write", await _drain(broker.url, broker.port, acks,
                                                    coalesce=False))
        finally:
            broker.stop()
    for _ in range(rounds):
        process, loop = await _service(count)
        keep("service", process)
        keep("service_loop", loop)
    return best


def run(quick: bool = False) -> Section:
    load = Load()
    count, rounds = (200, 1) if quick else (10_000, ROUNDS)
    best = asyncio.run(_measure(count, rounds))
    us = {name: value * 1e6 for name, value in best.items()}
    section = Section(
        "(e) Platform CPU per uplink", "python -m bench --only uplinks",
        ["part", "CPU per uplink (µs)", "uplinks"],
        [["broker link: gmqtt receive and PUBACK, replies to one read in one write",
          us["link"], 3 * count],
         ["broker link, one PUBACK write per message (gmqtt by itself)",
          us["link_per_write"], 3 * count],
         ["uplink service to SQLite (decode, sighting, ack and log rows): whole process",
          us["service"], 3 * count],
         ["the same, event-loop thread only (the rest is SQLite's thread)",
          us["service_loop"], 3 * count]],
        [f"{count} terminals x VERIFIED, PLAYING, PLAYED; the least of {rounds} rounds; "
         "process CPU time, so Mosquitto's own share is not in it",
         load.note()],
        {"per_uplink_us": us},
    )
    return section
