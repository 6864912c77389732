"""One contract every adapter keeps, run against each registered bearer.

- it is built by the registry from (ebrid, config, context) and starts and stops cleanly;
- send() answers one TargetOutcome per target, never a bare bool, never an exception for a
  target it cannot reach;
- cancel() of a cancel transmission answers per target too;
- with its transport down it reports every target as not delivered instead of raising.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.base import (
    AckReport,
    Adapter,
    AdapterContext,
    Outcome,
    SendReport,
    Transmission,
    adapter_class,
    default_registry,
)
from protocols.codes import CertSN
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from terminals.link import LinkUnavailable
from tests.contract.ebd_peer import EbdPeer

TARGETS = ("63415231000010314010401", "63415231010010314010401")
NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


@dataclass
class Acks:
    received: list[AckReport] = field(default_factory=list)

    async def submit(self, acks: Sequence[AckReport]) -> None:
        self.received.extend(acks)


@dataclass
class Broker:
    up: bool = True
    published: list[tuple[str, bytes]] = field(default_factory=list)

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        if not self.up:
            raise LinkUnavailable("broker down")
        self.published.append((topic, payload))


def transmission(msg_type: int = 3, **extra: object) -> Transmission:
    return Transmission(
        alert_id="a1",
        task_id="t1",
        ebmid="43415230000000103010101202611270001",
        msg_type=msg_type,
        drill=msg_type >= 3,
        event_type="11B03",
        severity=2,
        texts=(("zho", "暴雨预警", "请注意"),),
        regions=("341523000000",),
        targets=TARGETS,
        start=None,
        end=None,
        extra=dict(extra),
    )


@pytest.fixture(params=sorted(default_registry().bearers()))
def bearer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def example_config(bearer: str, tmp_path: Path) -> dict[str, object]:
    """An adapter may offer ``example_config(tmp_path)``: a loopback-only configuration."""
    make = getattr(adapter_class(bearer), "example_config", None)
    return dict(make(tmp_path)) if make else {}


@dataclass
class Harness:
    adapter: Adapter
    acks: Acks
    broker: Broker


@pytest.fixture
async def harness(bearer: str, tmp_path: Path) -> AsyncIterator[Harness]:
    acks, broker = Acks(), Broker()
    signer = SoftwareSigner(SM2PrivateKey.generate(), CertSN("100000000001"))
    clock: Callable[[], dt.datetime] = lambda: NOW  # noqa: E731
    context = AdapterContext(
        acks=acks, platform_ebrid="43415230000000103010101", signer=signer, link=broker, clock=clock
    )
    config = example_config(bearer, tmp_path)
    peer = None
    if bearer == "platform":  # a lower platform: its transport is a real GY/T 384 peer
        peer = EbdPeer("43415230000000399010201")
        await peer.start()
        config.update(peer.config)
    adapter = default_registry().create(
        bearer=bearer,
        ebrid="43415230000000399010201",
        config=config,
        context=context,
    )
    assert isinstance(adapter, Adapter)
    await adapter.start()
    yield Harness(adapter, acks, broker)
    await adapter.stop()
    if peer is not None:
        await peer.stop()


def _per_target(report: SendReport) -> dict[str, Outcome]:
    assert isinstance(report, SendReport)
    outcomes = {o.target: o.outcome for o in report.outcomes}
    assert sorted(outcomes) == sorted(TARGETS), "one outcome per target"
    return outcomes


async def test_send_reports_every_target(harness: Harness) -> None:
    outcomes = _per_target(await harness.adapter.send(transmission()))
    assert set(outcomes.values()) == {Outcome.DELIVERED}


async def test_cancel_reports_every_target(harness: Harness) -> None:
    report = await harness.adapter.cancel(
        transmission(msg_type=2, cancels="43415230000000103010101202611270001")
    )
    assert set(_per_target(report).values()) == {Outcome.DELIVERED}


async def test_transport_down_is_an_outcome_not_an_exception(harness: Harness) -> None:
    """Adapters whose transport is not the broker link expose a ``down`` switch to simulate it."""
    harness.broker.up = False
    if hasattr(harness.adapter, "down"):
        harness.adapter.down = True
    outcomes = _per_target(await harness.adapter.send(transmission()))
    assert Outcome.DELIVERED not in outcomes.values()


def test_a_report_of_targets_delivered_alike_reads_like_one_per_target() -> None:
    from adapters.base import Outcome, SendReport, TargetOutcome

    alike = SendReport.all_delivered(["t-1", "t-2"])
    mixed = SendReport((TargetOutcome("t-3", Outcome.FAILED, "down"),), delivered=["t-1"])
    assert alike.delivered == ("t-1", "t-2") and alike.not_delivered == ()
    assert alike.outcomes == (TargetOutcome("t-1", Outcome.DELIVERED),
                              TargetOutcome("t-2", Outcome.DELIVERED))
    assert mixed.delivered == ("t-1",)
    assert mixed.not_delivered == (TargetOutcome("t-3", Outcome.FAILED, "down"),)
    assert [o.target for o in mixed.outcomes] == ["t-1", "t-3"]
