"""What the runner saw while a drill ran; report.build_result turns it into the result."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from dispatcher.config import Settings
from simulators.drill import faults as faultlib
from simulators.drill.faults import Injection
from simulators.drill.platform import Accepted
from simulators.drill.scenario import Scenario

__all__ = ["Injection", "Observed"]


@dataclass
class Observed:
    scenario: Scenario
    settings: Settings
    started_at: dt.datetime
    plan: dict[str, faultlib.TerminalFaults]  # IP terminals and receivers
    terminals: list[str]  # the IP terminals
    accepted: list[Accepted] = field(default_factory=list)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    timeline: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    injections: list[Injection] = field(default_factory=list)
    genuine: dict[str, str] = field(default_factory=dict)  # alert id -> command id
    events: list[tuple[float, str]] = field(default_factory=list)
    connect_seconds: float = 0.0
    t0: float = 0.0
    drill_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    broker: str = ""
    # the broker layout: {"kind", "count" (brokers), "leaves": [{"townships", "terminals"}]}
    brokers: dict[str, Any] = field(default_factory=dict)
    processes: int = 0  # fleet processes started (0: none yet)
    finished_at: dt.datetime | None = None
    receivers: dict[str, str] = field(default_factory=dict)  # EBRID -> bearer, not IP

    def bearer(self, ebrid: str) -> str:
        return self.receivers.get(ebrid, "ip")
