"""The cable, DTMB and DTH adapters on file outputs: what they write, version numbers,
cancel, failures and the carousel's end. Waits are bounded polls, never timed assertions."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from adapters.base import AckReport, AdapterContext, Outcome, Transmission, default_registry
from adapters.cable import CableAdapter
from adapters.dth import DthAdapter
from adapters.dtmb import DtmbAdapter
from adapters.ts_common import TsAdapter
from protocols.ts import (
    AUX_ALERT_ID,
    AUX_CANCELLED_BY,
    CableDelivery,
    Certificates,
    Content,
    Depacketiser,
    DtmbDelivery,
    Ebit,
    SatelliteDelivery,
    Section,
    Table,
    decode_section,
    split_packets,
)
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from simulators.ts_receiver import ReceiverCore
from terminals.mqtt_terminal import anchor_for_key

SIGNER = SoftwareSigner(SM2PrivateKey.generate(), "340000000001")
START = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
EBMID = "43415230000000103010101202611270001"
TERMINALS = ("63415231000010303010401", "63415231000020303010401")


class Acks:
    async def submit(self, acks: Sequence[AckReport]) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def transmission(
    msg_type: int = 1, targets: tuple[str, ...] = TERMINALS, **changes: Any
) -> Transmission:
    base = Transmission(
        alert_id="alert-1",
        task_id="task-1",
        ebmid=EBMID,
        msg_type=msg_type,
        drill=False,
        event_type="11B03",
        severity=2,
        texts=(("zho", "暴雨预警", "请注意"),),
        regions=("341523000000",),
        targets=targets,
        start=None,
        end=None,
    )
    return dataclasses.replace(base, **changes)


def cancel(target: str = EBMID) -> Transmission:
    return transmission(
        2, alert_id="cancel-1", ebmid=EBMID[:-1] + "9", texts=(), extra={"cancels": target}
    )


def read(path: Path, pid: int = 0x21) -> list[tuple[Section, Table]]:
    packets, rest = split_packets(path.read_bytes())
    assert rest == 0
    depacketiser = Depacketiser(pid)
    found = [x for p in packets for x in depacketiser.feed(p)]
    assert all(isinstance(x, bytes) for x in found), found
    return [decode_section(x) for x in found if isinstance(x, bytes)]


def last_of(path: Path, kind: type) -> tuple[Section, Any]:
    return [(s, t) for s, t in read(path) if isinstance(t, kind)][-1]


async def wait_until(condition: Any, *, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):  # bounded: a broken run fails, it never hangs
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(cls: type[TsAdapter], tmp_path: Path, clock: Clock, **config: Any) -> TsAdapter:
    context = AdapterContext(
        acks=Acks(), platform_ebrid="43415230000000103010101", signer=SIGNER, clock=clock
    )
    return cls("43415230000000303010201", {**cls.example_config(tmp_path), **config}, context)


@pytest.fixture
async def dtmb(tmp_path: Path, clock: Clock) -> AsyncIterator[TsAdapter]:
    adapter = make(DtmbAdapter, tmp_path, clock, repeat_seconds=0.05, linger_seconds=0.2)
    await adapter.start()
    yield adapter
    await adapter.stop()


def output(tmp_path: Path, bearer: str = "dtmb") -> Path:
    return tmp_path / f"{bearer}.ts"


def test_the_registry_finds_the_three_bearers() -> None:
    assert {"dtmb", "cable", "dth"} <= set(default_registry().bearers())


@pytest.mark.parametrize(
    ("cls", "kind"),
    [(DtmbAdapter, DtmbDelivery), (CableAdapter, CableDelivery), (DthAdapter, SatelliteDelivery)],
)
async def test_each_bearer_writes_its_delivery_descriptor(
    cls: type[TsAdapter], kind: type, tmp_path: Path, clock: Clock
) -> None:
    adapter = make(cls, tmp_path, clock)
    report = await adapter.send(transmission())
    await adapter.stop()
    assert report.delivered == TERMINALS
    _, index = last_of(output(tmp_path, cls.bearer), Ebit)
    (entry,) = index.entries
    assert isinstance(entry.details.delivery[0], kind)
    assert entry.resource_codes == TERMINALS
    assert entry.start == START and entry.end is None


async def test_burst_order_and_what_it_carries(dtmb: TsAdapter, tmp_path: Path) -> None:
    await dtmb.send(transmission(end=START + dt.timedelta(hours=1)))
    tables = read(output(tmp_path))
    assert [type(t) for _, t in tables][:3] == [Certificates, Content, Ebit]
    content = tables[1][1]
    assert isinstance(content, Content)
    assert content.aux_text(AUX_ALERT_ID) == "alert-1"
    assert content.texts[0].language == "zho" and content.texts[0].agency.startswith("example")
    index = tables[2][1]
    assert isinstance(index, Ebit)
    entry = index.entries[0]
    assert (entry.ebm_class, entry.ebm_level, entry.ebm_type) == (4, 2, "11B03")
    assert all(s.signature.signed_at == int(START.timestamp()) for s, _ in tables)


async def test_region_targets_use_the_region_form(dtmb: TsAdapter, tmp_path: Path) -> None:
    report = await dtmb.send(transmission(targets=("341523000000", "not-a-code")))
    assert report.delivered == ("341523000000",)
    assert [o.outcome for o in report.not_delivered] == [Outcome.FAILED]
    _, index = last_of(output(tmp_path), Ebit)
    assert index.entries[0].resource_codes == ("43415230000000303000400",)


async def test_versions_bump_on_update_and_cancel(
    dtmb: TsAdapter, tmp_path: Path, clock: Clock
) -> None:
    await dtmb.send(transmission())
    first_content, first_index = (
        last_of(output(tmp_path), Content)[0],
        last_of(output(tmp_path), Ebit)[0],
    )
    await dtmb.send(transmission(texts=(("zho", "更新", "新的内容"),)))
    updated = last_of(output(tmp_path), Content)[0]
    clock.now += dt.timedelta(seconds=30)
    await dtmb.cancel(cancel())
    cancelled_section, cancelled = last_of(output(tmp_path), Content)
    index_section, index = last_of(output(tmp_path), Ebit)
    assert [
        first_content.header.version,
        updated.header.version,
        cancelled_section.header.version,
    ] == [0, 1, 2]
    assert first_index.header.version == 0 and index_section.header.version == 2
    assert cancelled.aux_text(AUX_CANCELLED_BY) == "cancel-1"
    assert index.entries[0].end == clock.now
    # the signed time only moves forwards
    assert updated.signature.signed_at == first_content.signature.signed_at + 1


async def test_versions_wrap_mod_32(dtmb: TsAdapter, tmp_path: Path) -> None:
    for _ in range(33):
        await dtmb.send(transmission())
    assert last_of(output(tmp_path), Content)[0].header.version == 0
    assert len(dtmb.on_air) == 1


async def test_a_receiver_follows_send_and_cancel(
    dtmb: TsAdapter, tmp_path: Path, clock: Clock
) -> None:
    core = ReceiverCore(
        TERMINALS[0], anchor_for_key(SIGNER.public_key), clock=lambda: clock.now.timestamp()
    )
    await dtmb.send(transmission())
    seen = output(tmp_path).read_bytes()
    core.feed(seen)
    assert core.state(EBMID) == "playing"
    clock.now += dt.timedelta(seconds=5)
    await dtmb.cancel(cancel())
    core.feed(output(tmp_path).read_bytes()[len(seen) :])  # repetitions, then the cancel
    assert core.state(EBMID) == "stopped"
    assert not core.counters, core.counters


async def test_cancel_of_an_ebm_not_on_air_still_ends_it(dtmb: TsAdapter, tmp_path: Path) -> None:
    other = "4" * 35
    report = await dtmb.cancel(cancel(other))
    assert report.delivered == TERMINALS
    _, index = last_of(output(tmp_path), Ebit)
    assert index.entries[0].ebm_id == other and index.entries[0].end == START


async def test_down_output_fails_every_target_and_recovers(dtmb: TsAdapter, tmp_path: Path) -> None:
    dtmb.down = True
    report = await dtmb.send(transmission())
    assert report.delivered == () and len(report.not_delivered) == 2
    assert dtmb.on_air == {}
    dtmb.down = False
    assert (await dtmb.send(transmission())).delivered == TERMINALS
    read(output(tmp_path))  # no continuity gap from the failed attempt


async def test_unwritable_output_fails(tmp_path: Path, clock: Clock) -> None:
    adapter = make(DtmbAdapter, tmp_path, clock, output=f"file:{tmp_path}/missing/dir/x.ts")
    report = await adapter.send(transmission())
    await adapter.stop()
    assert {o.outcome for o in report.outcomes} == {Outcome.FAILED}


async def test_the_carousel_repeats_and_ends_after_the_alert(
    dtmb: TsAdapter, tmp_path: Path, clock: Clock
) -> None:
    await dtmb.send(transmission(end=START + dt.timedelta(minutes=10)))
    await wait_until(lambda: dtmb.bursts >= 3)
    clock.now += dt.timedelta(minutes=10)
    await wait_until(lambda: not dtmb.on_air)
    clock.now += dt.timedelta(seconds=1)  # past the quiet index's linger
    await wait_until(lambda: dtmb._carousel is None)
    _, index = last_of(output(tmp_path), Ebit)
    assert index.entries == ()


async def test_open_ended_alerts_stop_after_max_duration(tmp_path: Path, clock: Clock) -> None:
    adapter = make(
        DtmbAdapter, tmp_path, clock, repeat_seconds=0.05, max_duration=60, linger_seconds=0.1
    )
    await adapter.send(transmission())
    clock.now += dt.timedelta(seconds=61)
    await wait_until(lambda: not adapter.on_air)
    await adapter.stop()


async def test_stop_stops_every_carousel(dtmb: TsAdapter) -> None:
    await dtmb.send(transmission())
    await dtmb.stop()
    assert dtmb._carousel is None
    written = dtmb.bursts
    await asyncio.sleep(0.15)  # three periods: a leftover carousel would have written
    assert dtmb.bursts == written


def test_configuration_errors(tmp_path: Path, clock: Clock) -> None:
    for bad in (
        {"output": "tcp://127.0.0.1:1"},
        {"pid": 0x2000},
        {"repeat_seconds": 0},
        {"frequency_hz": 474_000_005},
        {"constellation": "1024QAM"},
    ):
        with pytest.raises(ValueError):
            make(DtmbAdapter, tmp_path, clock, **bad)
    assert make(DtmbAdapter, tmp_path, clock, pid="0x22").config.pid == 0x22
