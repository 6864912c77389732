"""The FM adapter: what it writes, how it addresses, the carousel, cancel and failures."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.base import AdapterContext, Outcome, Transmission
from adapters.fm import FmAdapter
from protocols.codes import RegionCode, ResourceCode
from protocols.fm import (
    Action,
    Emergency,
    PacketType,
    SignedPacket,
    Text,
    TimeSync,
    decode_lines,
    region_code,
)
from simulators.fm_receiver import FmReceiver
from tests.unit.fm.support import EBMID, NEIGHBOUR, SIGNER, TERMINAL, anchors

NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
GUARD = 30.0  # seconds before a hung test fails; never a measurement


class Acks:
    async def submit(self, acks: object) -> None:
        return None


def context(clock: Callable[[], dt.datetime] = lambda: NOW) -> AdapterContext:
    return AdapterContext(
        acks=Acks(), platform_ebrid="43415230000000103010101", signer=SIGNER, clock=clock
    )


def config(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    made = FmAdapter.example_config(tmp_path)
    made.update(changes)
    return made


def transmission(targets: tuple[str, ...] = (TERMINAL, NEIGHBOUR), **changes: Any) -> Transmission:
    fields: dict[str, Any] = dict(
        alert_id="alert-7",
        task_id="t1",
        ebmid=EBMID,
        msg_type=1,
        drill=False,
        event_type="11B03",
        severity=2,
        texts=(("zho", "暴雨预警", "请注意防范。"),),
        regions=("341523100000",),
        targets=targets,
        start=None,
        end=None,
        extra={},
    )
    fields.update(changes)
    return Transmission(**fields)


def written(tmp_path: Path) -> list[str]:
    return (tmp_path / "fm-groups.txt").read_text(encoding="ascii").splitlines()


def packets(lines: list[str]) -> list[SignedPacket]:
    decoded = decode_lines(lines, pi=0x3456)
    assert all(isinstance(d, SignedPacket) for d in decoded), decoded
    return [d for d in decoded if isinstance(d, SignedPacket)]


async def until(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + GUARD
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached (hang guard)"
        await asyncio.sleep(0.02)


@pytest.fixture
async def adapter(tmp_path: Path) -> Any:
    made = FmAdapter("43415230000000301010201", config(tmp_path, repeat_seconds=0.05), context())
    yield made
    await made.stop()


async def test_send_writes_time_start_and_text(adapter: FmAdapter, tmp_path: Path) -> None:
    report = await adapter.send(transmission())
    assert {o.outcome for o in report.outcomes} == {Outcome.DELIVERED}
    time_sync, begin, text = packets(written(tmp_path))[:3]
    assert time_sync.packet.body == TimeSync(int(NOW.timestamp())) and not time_sync.packet.codes
    body = begin.packet.body
    assert isinstance(body, Emergency) and body.action is Action.START
    assert (body.alert_id, body.ebmid, body.level, body.frequency_khz) == (
        "alert-7",
        EBMID,
        2,
        97_500,
    )
    assert [c.value for c in begin.packet.codes] == [TERMINAL, NEIGHBOUR]
    assert text.packet.body == Text(EBMID, "zho", "暴雨预警", "请注意防范。")
    assert begin.seal.signed_at == int(NOW.timestamp())
    assert begin.seal.cert_sn == SIGNER.cert_sn


async def test_region_targets_travel_as_region_codes(adapter: FmAdapter, tmp_path: Path) -> None:
    await adapter.send(transmission(targets=("341523100000",)))
    begin = packets(written(tmp_path))[1]
    assert begin.packet.codes == (region_code(RegionCode("341523100000")),)


async def test_many_terminals_are_addressed_by_region(tmp_path: Path) -> None:
    made = FmAdapter("43415230000000301010201", config(tmp_path, max_codes=1), context())
    try:
        report = await made.send(transmission())
        assert {o.outcome for o in report.outcomes} == {Outcome.DELIVERED}
        assert packets(written(tmp_path))[1].packet.codes == (
            region_code(RegionCode("341523100000")),
        )
    finally:
        await made.stop()


async def test_targets_outside_the_coverage_are_unreachable(adapter: FmAdapter) -> None:
    away = "63415241000010314010401"
    report = await adapter.send(transmission(targets=(TERMINAL, away, "not-a-code")))
    outcomes = {o.target: o.outcome for o in report.outcomes}
    assert outcomes == {
        TERMINAL: Outcome.DELIVERED,
        away: Outcome.UNREACHABLE,
        "not-a-code": Outcome.FAILED,
    }


async def test_drills_are_type_14(adapter: FmAdapter, tmp_path: Path) -> None:
    await adapter.send(transmission(msg_type=3, drill=True))
    assert packets(written(tmp_path))[1].packet.packet_type == PacketType.DRILL


async def test_the_carousel_repeats_identical_bytes_within_a_second(
    adapter: FmAdapter, tmp_path: Path
) -> None:
    await adapter.send(transmission())
    await until(lambda: adapter.repetitions.get(EBMID, 0) >= 3)
    lines = written(tmp_path)
    size = len(lines) // adapter.repetitions[EBMID]
    assert lines[:size] == lines[size : 2 * size]


async def test_the_carousel_signs_anew_when_the_clock_moves(tmp_path: Path) -> None:
    ticks = iter(range(10_000))
    made = FmAdapter(
        "43415230000000301010201",
        config(tmp_path, repeat_seconds=0.05),
        context(lambda: NOW + dt.timedelta(seconds=next(ticks))),
    )
    try:
        await made.send(transmission())
        await until(lambda: made.repetitions.get(EBMID, 0) >= 2)
    finally:
        await made.stop()
    times = {p.seal.signed_at for p in packets(written(tmp_path))}
    assert len(times) >= 2


async def test_cancel_ends_the_carousel_and_repeats_the_stop(
    adapter: FmAdapter, tmp_path: Path
) -> None:
    await adapter.send(transmission())
    assert adapter.carousels == [EBMID]
    report = await adapter.cancel(
        transmission(msg_type=2, ebmid="4" * 35, alert_id="c-1", extra={"cancels": EBMID})
    )
    assert {o.outcome for o in report.outcomes} == {Outcome.DELIVERED}
    assert EBMID not in adapter.carousels  # ended before cancel() returned
    await until(lambda: not adapter.carousels)
    decoded = packets(written(tmp_path))
    stops = [
        n
        for n, p in enumerate(decoded)
        if isinstance(p.packet.body, Emergency) and p.packet.body.action is Action.STOP
    ]
    assert len(stops) == adapter.config.stop_repetitions
    starts_after = [
        p
        for p in decoded[stops[0] :]
        if isinstance(p.packet.body, Emergency) and p.packet.body.action is Action.START
    ]
    assert not starts_after, "no start may follow the stop"
    stop = decoded[stops[0]].packet.body
    assert isinstance(stop, Emergency)
    assert (stop.ebmid, stop.alert_id, stop.drill) == (EBMID, "c-1", False)


async def test_the_carousel_ends_with_the_alert(tmp_path: Path) -> None:
    made = FmAdapter("43415230000000301010201", config(tmp_path, repeat_seconds=0.05), context())
    try:
        await made.send(transmission(end=NOW + dt.timedelta(seconds=0.3)))
        await until(lambda: not made.carousels)
    finally:
        await made.stop()


async def test_stop_ends_every_carousel(adapter: FmAdapter) -> None:
    await adapter.send(transmission())
    await adapter.send(transmission(ebmid=EBMID[:-1] + "9"))
    assert len(adapter.carousels) == 2
    await adapter.stop()
    assert not adapter.carousels


async def test_output_down_or_failing_is_reported(adapter: FmAdapter, tmp_path: Path) -> None:
    adapter.down = True
    report = await adapter.send(transmission())
    assert {o.outcome for o in report.outcomes} == {Outcome.FAILED}
    broken = FmAdapter(
        "43415230000000301010201",
        config(tmp_path, output=f"file:{tmp_path}/missing/dir/x.txt"),
        context(),
    )
    report = await broken.send(transmission())
    assert {o.outcome for o in report.outcomes} == {Outcome.FAILED}
    assert "missing" in report.outcomes[0].detail and not broken.carousels


async def test_an_ebmid_that_cannot_be_carried_fails(adapter: FmAdapter) -> None:
    report = await adapter.send(transmission(ebmid="cap-identifier-1"))
    assert {o.outcome for o in report.outcomes} == {Outcome.FAILED}
    assert "EBMID" in report.outcomes[0].detail


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"repeat_secs": 1}, "unknown keys"),
        ({"pi_code": None}, "pi_code"),
        ({"pi_code": "0"}, "PI code"),
        ({"output": "tcp://127.0.0.1:1"}, "udp://"),
        ({"data_group": "2A"}, "ODA data group"),
        ({"frequency_khz": 12}, "frequency_khz"),
        ({"regions": ["34152"]}, "regions"),
        ({"repeat_seconds": 0}, "repeat_seconds"),
    ],
)
def test_configuration_errors_are_named(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        FmAdapter("43415230000000301010201", config(tmp_path, **changes), context())


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_over_udp_a_receiver_plays_and_stops(tmp_path: Path) -> None:
    """Adapter and receiver in one process on a loopback port, no broker."""
    port = free_udp_port()
    rx = FmReceiver(TERMINAL, anchors(), input=f"udp://127.0.0.1:{port}", broker_url=None)
    stop = asyncio.Event()
    running = asyncio.create_task(rx.run(stop))
    made = FmAdapter(
        "43415230000000301010201",
        config(tmp_path, output=f"udp://127.0.0.1:{port}", repeat_seconds=0.1),
        context(lambda: dt.datetime.now(dt.UTC)),
    )
    try:
        await asyncio.wait_for(rx.ready.wait(), GUARD)
        await made.send(transmission(targets=(TERMINAL,)))
        await until(lambda: rx.playing == EBMID)
        await made.cancel(transmission(msg_type=2, extra={"cancels": EBMID}, alert_id="c"))
        await until(lambda: rx.state_of(EBMID) == "stopped")
        assert [a.alert_id for a in rx.acks] == ["alert-7", "alert-7", "c"]
        assert not rx.counters, rx.counters
        assert ResourceCode(TERMINAL) == rx.ebrid
    finally:
        await made.stop()
        stop.set()
        await asyncio.wait_for(running, GUARD)


class BrokenSigner:
    """A cipher device that has gone away."""

    cert_sn = SIGNER.cert_sn
    public_key = SIGNER.public_key

    def sign(self, message: bytes) -> bytes:
        from signing.errors import SignatureError

        raise SignatureError("cipher device not responding")


async def test_a_failing_signer_is_an_outcome(tmp_path: Path) -> None:
    made = FmAdapter(
        "43415230000000301010201",
        config(tmp_path),
        AdapterContext(acks=Acks(), signer=BrokenSigner(), clock=lambda: NOW),
    )
    report = await made.send(transmission())
    assert {o.outcome for o in report.outcomes} == {Outcome.FAILED}
    assert "cipher device" in report.outcomes[0].detail and not made.carousels
