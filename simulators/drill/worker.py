"""A fleet process: one DrillFleet driven over a pipe by the drill or a benchmark.

Requests (tuples) and their answers:
``("start",)`` -> ``("ready", connected, seconds)``; ``("offline", ebrids)`` / ``("online",
ebrids)`` -> ``("ok",)``; ``("flap", ebrids, down, up, until)`` -> ``("ok",)`` at once, the
flapping goes on in the background until ``until`` (wall clock); ``("collect",)`` ->
``("records", {...})``; ``("stop",)`` -> ``("stopped",)`` and the process ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from signing.sm2 import SM2PublicKey
from simulators.drill.faults import TerminalFaults
from simulators.drill.terminals import DrillFleet
from simulators.fleet import Credentials
from terminals.mqtt_terminal import anchor_for_key

REPLY_TIMEOUT = 900.0


@dataclass
class WorkerSpec:
    broker_url: str
    terminals: list[Credentials]
    platform_key_pem: bytes
    platform_cert_sn: str
    plan: dict[str, TerminalFaults] = field(default_factory=dict)
    heartbeat_seconds: int = 60
    play_seconds: float = 5.0
    concurrency: int = 200


async def _flap(fleet: DrillFleet, ebrids: list[str], down: float, up: float,
                until: float) -> None:
    while time.time() < until:
        await fleet.take_offline(ebrids)
        await asyncio.sleep(min(down, max(0.0, until - time.time())))
        await fleet.bring_online(ebrids)
        await asyncio.sleep(min(up, max(0.0, until - time.time())))


async def _serve(spec: WorkerSpec, pipe: Connection) -> None:
    anchors = anchor_for_key(SM2PublicKey.from_pem(spec.platform_key_pem), spec.platform_cert_sn)
    fleet = DrillFleet(spec.broker_url, spec.terminals, anchors, spec.plan,
                       heartbeat_seconds=spec.heartbeat_seconds, play_seconds=spec.play_seconds,
                       concurrency=spec.concurrency)
    loop = asyncio.get_running_loop()
    background: set[asyncio.Task[None]] = set()
    try:
        while True:
            request: tuple[Any, ...] = await loop.run_in_executor(None, pipe.recv)
            kind = request[0]
            if kind == "start":
                started = time.monotonic()
                await fleet.start()
                pipe.send(("ready", len(fleet.online()), time.monotonic() - started))
            elif kind == "offline":
                await fleet.take_offline(request[1])
                pipe.send(("ok",))
            elif kind == "online":
                await fleet.bring_online(request[1])
                pipe.send(("ok",))
            elif kind == "flap":
                task = asyncio.create_task(_flap(fleet, *request[1:]))
                background.add(task)
                task.add_done_callback(background.discard)
                pipe.send(("ok",))
            elif kind == "collect":
                pipe.send(("records", fleet.records()))
            elif kind == "stop":
                break
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(fleet.stop(), 60)
        pipe.send(("stopped",))


def _main(spec: WorkerSpec, pipe: Connection) -> None:
    logging.basicConfig(level=logging.ERROR)
    # Ten thousand terminals refusing a forgery each log a warning: keep the drill readable.
    logging.getLogger("ebc").setLevel(logging.ERROR)
    asyncio.run(_serve(spec, pipe))


class FleetProcess:
    """The parent's handle on one fleet process."""

    def __init__(self, spec: WorkerSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self.ebrids = [e for e, _, _ in spec.terminals]
        self.process = context.Process(target=_main, args=(spec, child), daemon=True,
                                       name=f"ebc-fleet-{len(self.ebrids)}")
        self.process.start()
        child.close()

    def request(self, *message: Any, timeout: float = REPLY_TIMEOUT) -> tuple[Any, ...]:
        self._pipe.send(message)
        return self.reply(timeout)

    def send(self, *message: Any) -> None:
        self._pipe.send(message)

    def reply(self, timeout: float = REPLY_TIMEOUT) -> tuple[Any, ...]:
        if not self._pipe.poll(timeout):
            raise TimeoutError(f"fleet process {self.process.pid} did not answer in {timeout}s")
        answer: tuple[Any, ...] = self._pipe.recv()
        return answer

    def stop(self, timeout: float = 90.0) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError, EOFError, TimeoutError):
                self._pipe.send(("stop",))
                self.reply(timeout)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def split(terminals: list[Credentials], parts: int) -> list[list[Credentials]]:
    """Round-robin, so every process holds terminals of every township."""
    return [terminals[i::parts] for i in range(max(parts, 1)) if terminals[i::parts]]
