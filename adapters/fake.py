"""An in-process adapter for tests and demos: 'delivers' to every target and acks for it.

Configuration (all optional): ``delay`` seconds per target before it is delivered,
``fail`` targets that never get delivered, ``silent`` targets that are delivered but never ack,
``ack_state`` the ack it sends (default ``played``), ``ack_delay`` seconds before acking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from adapters.base import (
    AckReport,
    AckSink,
    AdapterContext,
    Outcome,
    SendReport,
    TargetOutcome,
    Transmission,
)


class FakeAdapter:
    bearer = "fake"

    def __init__(self, ebrid: str, config: dict[str, Any], acks: AckSink) -> None:
        self.ebrid = ebrid
        self._acks = acks
        self._delay = float(config.get("delay", 0.0))
        self._ack_delay = float(config.get("ack_delay", 0.0))
        self._fail = set(config.get("fail", ()))
        self._silent = set(config.get("silent", ()))
        self._ack_state = str(config.get("ack_state", "played"))
        #: Simulates a lost transport: nothing is delivered while set.
        self.down = bool(config.get("down", False))
        self._pending: set[asyncio.Task[None]] = set()
        self.sent: list[Transmission] = []
        self.cancelled: list[Transmission] = []

    @classmethod
    def factory(cls, ebrid: str, config: dict[str, Any], context: AdapterContext) -> FakeAdapter:
        return cls(ebrid, config, context.acks)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def send(self, transmission: Transmission) -> SendReport:
        self.sent.append(transmission)
        outcomes: list[TargetOutcome] = []
        for target in transmission.targets:
            if self._delay:
                await asyncio.sleep(self._delay)
            if self.down:
                outcomes.append(TargetOutcome(target, Outcome.FAILED, "transport down"))
            elif target in self._fail:
                outcomes.append(TargetOutcome(target, Outcome.UNREACHABLE, "configured to fail"))
            else:
                outcomes.append(TargetOutcome(target, Outcome.DELIVERED))
        acking = [o.target for o in outcomes if o.outcome is Outcome.DELIVERED]
        acking = [t for t in acking if t not in self._silent]
        if acking:
            job = asyncio.create_task(self._ack_later(transmission.alert_id, acking))
            self._pending.add(job)
            job.add_done_callback(self._pending.discard)
        return SendReport(tuple(outcomes))

    async def cancel(self, transmission: Transmission) -> SendReport:
        self.cancelled.append(transmission)
        return SendReport(tuple(TargetOutcome(t, Outcome.DELIVERED) for t in transmission.targets))

    async def _ack_later(self, alert_id: str, targets: Sequence[str]) -> None:
        if self._ack_delay:
            await asyncio.sleep(self._ack_delay)
        await self._acks.submit([AckReport(alert_id, t, self._ack_state) for t in targets])
