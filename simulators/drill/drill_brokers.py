"""The drill's broker(s), as the scenario's ``platform.broker`` asks: one private Mosquitto,
the platform's embedded broker, a broker already running, or a root Mosquitto for the
platform with leaf brokers bridged to it along the county's townships (``bridged``), each
leaf serving at most ``platform.per_broker`` terminals."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulators.drill.brokers import BridgedBrokers, Mosquitto, free_port, plan_leaves
from simulators.drill.scenario import MAX_LEAVES, PlatformSpec, ScenarioError
from simulators.fleet import Credentials

BRIDGE_TIMEOUT = 30.0


def check_leaves(ebrids: Sequence[str], per_broker: int) -> int:
    """How many leaf brokers ``bridged`` needs for these terminals; ScenarioError beyond
    MAX_LEAVES (the scenario checks a lower bound, this the exact grouping)."""
    leaves = len(plan_leaves(ebrids, per_broker)) if ebrids else 0
    if leaves > MAX_LEAVES:
        raise ScenarioError(
            f"platform.per_broker: {per_broker} terminals per leaf broker makes {leaves} leaf "
            f"brokers for {len(ebrids)} IP terminals (whole townships per leaf); at most "
            f"{MAX_LEAVES}: raise platform.per_broker")
    return leaves


class DrillBrokers:
    def __init__(self, spec: PlatformSpec, work: Path, *, restartable: bool) -> None:
        self.spec = spec
        self.work = work
        self.restartable = restartable  # persistent sessions kept over a restart
        self.single: Mosquitto | None = None
        self.bridged: BridgedBrokers | None = None
        self.url = ""  # the platform's broker (the root when bridged)

    @property
    def kind(self) -> str:
        return self.spec.broker

    def start(self, ebrids: Sequence[str]) -> str:
        """Start what the drill owns; the platform's broker URL. Call stop() even when this
        raises: a root may be up when a leaf fails."""
        choice = self.spec.broker
        if choice == "mosquitto":
            self.single = Mosquitto(self.work / "mosquitto", persistence=self.restartable)
            self.single.start()
            self.url = self.single.url
        elif choice == "bridged":
            check_leaves(ebrids, self.spec.broker_capacity())
            self.bridged = BridgedBrokers(self.work, ebrids,
                                          per_broker=self.spec.broker_capacity(),
                                          by_township=True, platform_links=True)
            self.bridged.root.persistence = self.restartable
            self.bridged.start()
            self.bridged.wait_bridged(BRIDGE_TIMEOUT)
            self.url = self.bridged.root.url
        elif choice == "embedded":
            self.url = f"mqtt://127.0.0.1:{free_port()}"
        else:
            self.url = choice
        return self.url

    def groups(self, credentials: Sequence[Credentials]) -> list[tuple[str, list[Credentials]]]:
        """The IP terminals by the broker they connect to: their leaf when bridged."""
        if self.bridged is None:
            return [(self.url, list(credentials))] if credentials else []
        leaf_of = {e: leaf.broker.url for leaf in self.bridged.leaves for e in leaf.terminals}
        out: dict[str, list[Credentials]] = {}
        for cred in credentials:
            out.setdefault(leaf_of[cred[0]], []).append(cred)
        return list(out.items())

    def restart(self) -> None:
        """The broker restart fault: the single broker, or the root when bridged (the
        platform's link and every bridge drop; terminals stay connected to their leaves)."""
        if self.single is not None:
            self.single.restart()
        elif self.bridged is not None:
            self.bridged.root.restart()
        else:
            raise RuntimeError(f"broker {self.spec.broker!r} cannot be restarted by the drill")

    def stop(self) -> None:
        if self.single is not None:
            with contextlib.suppress(Exception):
                self.single.stop()
        if self.bridged is not None:
            self.bridged.stop()

    def layout(self) -> dict[str, Any]:
        """For the report: how many brokers, and what each leaf serves."""
        if self.bridged is None:
            return {"kind": self.kind, "count": 1, "leaves": []}
        leaves = [{"townships": [t.value[:9] for t in leaf.townships],
                   "terminals": len(leaf.terminals)} for leaf in self.bridged.leaves]
        return {"kind": "bridged", "count": 1 + len(leaves), "per_broker":
                self.spec.broker_capacity(), "leaves": leaves}
