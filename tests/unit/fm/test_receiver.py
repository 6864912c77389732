"""The simulated FM receiver: what it accepts and acks, and every input it refuses (counted,
logged, never acted upon). Its return path is off here; acks are read from ``receiver.acks``."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols.codes import CertSN, ResourceCode
from protocols.fm import (
    Action,
    CertificateEntry,
    Certificates,
    Packet,
    Revocations,
    Text,
    TimeSync,
    crc32_mpeg2,
    region_code,
)
from protocols.terminal import terminal_pb2 as pb
from simulators.fm_receiver import FmReceiver
from tests.unit.fm.support import (
    CODES,
    EBMID,
    END_AT,
    MESSAGE,
    NEIGHBOUR,
    OTHER_COUNTY,
    OTHER_SIGNER,
    SIGNED_AT,
    TERMINAL,
    TITLE,
    Clock,
    anchors,
    lines_of,
    sign,
    start,
)

OTHER_EBMID = EBMID[:-4] + "0002"


def receiver(clock: Clock | None = None) -> FmReceiver:
    return FmReceiver(
        TERMINAL, anchors(), input="udp://127.0.0.1:9", broker_url=None, clock=clock or Clock()
    )


def carousel(signed_at: int = SIGNED_AT, **changes: object) -> list[str]:
    return lines_of(
        sign(Packet((), TimeSync(signed_at)), signed_at),
        sign(Packet(CODES, start(**changes)), signed_at),
        sign(Packet(CODES, Text(EBMID, "zho", TITLE, MESSAGE)), signed_at),
    )


def feed(rx: FmReceiver, lines: list[str]) -> FmReceiver:
    for line in lines:
        rx.feed_line(line)
    return rx


def states(rx: FmReceiver) -> list[tuple[str, str, str]]:
    return [(pb.AckState.Name(a.state), a.alert_id, a.reason) for a in rx.acks]


def recrc(data: bytes) -> bytes:
    return data[:-4] + crc32_mpeg2(data[:-4]).to_bytes(4, "big")


def test_a_start_is_verified_played_and_its_text_shown() -> None:
    rx = feed(receiver(), carousel())
    assert states(rx) == [("ACK_VERIFIED", "alert-0001", ""), ("ACK_PLAYING", "alert-0001", "")]
    assert rx.acks[0].ebmid == EBMID and rx.acks[0].terminal_ebrid == TERMINAL
    assert rx.playing == EBMID and rx.state_of(EBMID) == "playing"
    assert rx.texts[(EBMID, "zho")] == f"{TITLE} {MESSAGE}"
    assert rx.clock_offset == -1.0
    assert rx.stats.accepted == 3 and not rx.counters


def test_carousel_repeats_are_quiet() -> None:
    clock = Clock()
    rx = feed(receiver(clock), carousel() * 3)
    assert rx.stats.repeats == 6 and len(rx.acks) == 2
    clock.now += 2
    feed(rx, carousel(SIGNED_AT + 2))  # the adapter re-signs each repetition
    assert rx.stats.refreshed == 2 and len(rx.acks) == 2 and not rx.counters


def test_a_stop_stops_and_a_later_start_does_not_restart() -> None:
    clock = Clock()
    rx = feed(receiver(clock), carousel())
    clock.now += 1
    stop = sign(
        Packet(CODES, start(action=Action.STOP, alert_id="cancel-1", end_unix=0)), SIGNED_AT + 1
    )
    feed(rx, lines_of(stop))
    assert rx.state_of(EBMID) == "stopped" and rx.playing is None
    assert states(rx)[-1] == ("ACK_STOPPED", "cancel-1", "")
    clock.now += 1
    feed(rx, carousel(SIGNED_AT + 2))
    assert rx.state_of(EBMID) == "stopped" and len(rx.acks) == 3


def test_a_stop_for_something_not_playing() -> None:
    stop = sign(Packet(CODES, start(action=Action.STOP, alert_id="c", end_unix=0)), SIGNED_AT)
    rx = feed(receiver(), lines_of(stop))
    assert states(rx) == [("ACK_STOPPED", "c", "not-playing")]
    feed(rx, carousel())  # stopped before it began: stays stopped
    assert rx.state_of(EBMID) == "stopped" and len(rx.acks) == 1


def test_played_at_the_end_time() -> None:
    clock = Clock()
    rx = feed(receiver(clock), carousel())
    rx.tick()
    assert rx.state_of(EBMID) == "playing"
    clock.now = END_AT
    rx.tick()
    assert rx.state_of(EBMID) == "played" and states(rx)[-1][0] == "ACK_PLAYED"


def test_open_ended_broadcast_played_once_the_carousel_falls_silent() -> None:
    clock = Clock()
    rx = feed(receiver(clock), carousel(end_unix=0))
    clock.now += 30
    rx.tick()
    assert rx.state_of(EBMID) == "playing"
    clock.now += 31
    rx.tick()
    assert rx.state_of(EBMID) == "played"


def test_a_future_start_waits() -> None:
    clock = Clock()
    rx = feed(receiver(clock), carousel(start_unix=SIGNED_AT + 10))
    assert states(rx) == [("ACK_VERIFIED", "alert-0001", "")] and rx.playing is None
    clock.now = SIGNED_AT + 10
    rx.tick()
    assert rx.playing == EBMID


def test_a_newer_broadcast_preempts() -> None:
    rx = feed(receiver(), carousel())
    feed(rx, lines_of(sign(Packet(CODES, start(ebmid=OTHER_EBMID, alert_id="b")), SIGNED_AT)))
    assert ("ACK_FAILED", "alert-0001", f"preempted by {OTHER_EBMID}") in states(rx)
    assert rx.playing == OTHER_EBMID


def test_an_expired_start_fails() -> None:
    rx = feed(receiver(), carousel(end_unix=SIGNED_AT))
    assert states(rx) == [("ACK_FAILED", "alert-0001", "expired")]


def test_a_drill_is_played_as_a_drill() -> None:
    rx = feed(receiver(), carousel(drill=True))
    assert rx.broadcasts[EBMID].drill and rx.playing == EBMID


# -- refused, counted, never acted upon -------------------------------------------------


def refused_only(lines: list[str], reason: str, clock: Clock | None = None) -> FmReceiver:
    rx = feed(receiver(clock), lines)
    rx.finish()
    assert rx.counters[reason] >= 1, rx.counters
    assert not rx.acks and rx.state_of(EBMID) is None and rx.playing is None
    return rx


def start_lines(**changes: object) -> list[str]:
    return lines_of(sign(Packet(CODES, start(**changes)), SIGNED_AT))


def test_bit_flip_in_a_group_line() -> None:
    lines = start_lines()
    lines[6] = lines[6][:12] + format(int(lines[6][12], 16) ^ 0x4, "X") + lines[6][13:]
    refused_only(lines, "bad-crc")


def test_missing_segment() -> None:
    lines = start_lines()
    del lines[7]
    refused_only(lines, "missing-segment")


def test_truncated_packet() -> None:
    lines = start_lines()[:-3]
    last = lines[-1].split()
    last[1] = format(int(last[1], 16) | 0b01000, "04X")
    refused_only([*lines[:-1], " ".join(last)], "truncated")


def test_wrong_crc() -> None:
    data = sign(Packet(CODES, start()), SIGNED_AT)
    refused_only(lines_of(data[:-1] + bytes([data[-1] ^ 1])), "bad-crc")


def test_wrong_signature() -> None:
    data = bytearray(sign(Packet(CODES, start()), SIGNED_AT))
    data[-10] ^= 0x01  # inside s
    refused_only(lines_of(recrc(bytes(data))), "forged")


def test_unknown_signer() -> None:
    refused_only(
        lines_of(sign(Packet(CODES, start()), SIGNED_AT, OTHER_SIGNER)), "unknown-certificate"
    )


def test_stale_packet() -> None:
    refused_only(start_lines(), "stale", Clock(SIGNED_AT + 301))


def test_other_regions_codes() -> None:
    codes = (region_code(OTHER_COUNTY), ResourceCode(NEIGHBOUR))
    refused_only(lines_of(sign(Packet(codes, start()), SIGNED_AT)), "out-of-region")


@pytest.mark.parametrize("older", [0, 5])
def test_replayed_start(older: int) -> None:
    clock = Clock()
    rx = feed(receiver(clock), start_lines())
    first = list(rx.acks)
    # validly signed, fresh, but not newer than the start already accepted: SM2 signatures
    # differ each time, so the same second gives other bytes
    feed(rx, lines_of(sign(Packet(CODES, start(alert_id="evil")), SIGNED_AT - older)))
    assert rx.counters["replay"] == 1 and rx.acks == first


def test_replayed_stop_after_a_newer_start() -> None:
    clock = Clock(SIGNED_AT + 20)
    rx = feed(
        receiver(clock),
        lines_of(sign(Packet(CODES, start(action=Action.STOP, end_unix=0)), SIGNED_AT + 10)),
    )
    feed(
        rx,
        lines_of(
            sign(Packet(CODES, start(action=Action.STOP, end_unix=0, alert_id="x")), SIGNED_AT + 10)
        ),
    )
    assert rx.counters["replay"] == 1 and len(rx.acks) == 1


RECORDING = carousel()
CLEAN = states(feed(receiver(), RECORDING))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(RECORDING) - 1), st.data())
def test_any_single_bit_flip_is_refused_or_harmless(index: int, data: st.DataObject) -> None:
    line = RECORDING[index]
    position = data.draw(st.integers(0, len(line) - 1))
    flipped = chr(ord(line[position]) ^ (1 << data.draw(st.integers(0, 7))))
    lines = [
        *RECORDING[:index],
        line[:position] + flipped + line[position + 1 :],
        *RECORDING[index + 1 :],
    ]
    rx = feed(receiver(), lines)
    rx.finish()
    acted = states(rx)
    # Never an action the clean stream would not have taken; anything less than the clean
    # stream's actions is explained by a counted refusal. A flip may be harmless: TP, PTY,
    # the 3A's version word or a hex letter's case carry nothing the packets depend on.
    assert all(ack in CLEAN for ack in acted)
    assert set(rx.texts.values()) <= {f"{TITLE} {MESSAGE}"}
    if acted != CLEAN or not rx.texts:
        assert sum(rx.counters.values()) >= 1


# -- certificates -----------------------------------------------------------------------


def test_certificate_packets_add_and_revoke_keys() -> None:
    entry = CertificateEntry(CertSN(OTHER_SIGNER.cert_sn.value), OTHER_SIGNER.public_key.point)
    rx = feed(receiver(), lines_of(sign(Packet((), Certificates((entry,))), SIGNED_AT)))
    feed(rx, lines_of(sign(Packet(CODES, start()), SIGNED_AT, OTHER_SIGNER)))
    assert rx.playing == EBMID
    revoke = sign(Packet((), Revocations((OTHER_SIGNER.cert_sn,))), SIGNED_AT)
    feed(rx, lines_of(revoke))
    feed(rx, lines_of(sign(Packet(CODES, start(ebmid=OTHER_EBMID)), SIGNED_AT, OTHER_SIGNER)))
    assert rx.counters["certificate-revoked"] == 1 and rx.playing == EBMID


# -- file input -------------------------------------------------------------------------


async def test_follows_a_file(tmp_path: Path) -> None:
    path = tmp_path / "groups.txt"
    path.write_text("\n".join(carousel()[:10]) + "\n", encoding="ascii")
    rx = FmReceiver(
        TERMINAL, anchors(), input=f"file:{path}", broker_url=None, clock=lambda: SIGNED_AT + 1.0
    )
    stop = asyncio.Event()
    task = asyncio.create_task(rx.run(stop))
    try:
        with path.open("a", encoding="ascii") as handle:
            handle.write("\n".join(carousel()[10:]) + "\n")
        deadline = time.monotonic() + 30  # a hang guard, not a measurement
        while rx.playing != EBMID and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert rx.playing == EBMID
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_the_cli_registry_runs_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``ebc receiver run --bearer fm`` goes through simulators.receivers.RECEIVERS."""
    from simulators.receivers import RECEIVERS

    path = tmp_path / "groups.txt"
    path.write_text("\n".join(carousel()) + "\n", encoding="ascii")
    stop = asyncio.Event()
    caplog.set_level("INFO", logger="ebc.fm_receiver")
    task = asyncio.create_task(
        RECEIVERS["fm"](
            bearer="fm",
            input=f"file:{path}",
            ebrid=TERMINAL,
            anchors=anchors(),
            broker_url=None,
            username=None,
            password=None,
            stop=stop,
            pid=0x21,
            clock=lambda: SIGNED_AT + 1.0,
        )
    )
    deadline = time.monotonic() + 30  # a hang guard, not a measurement
    while "playing" not in caplog.text and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    rx = await asyncio.wait_for(task, 30)
    assert isinstance(rx, FmReceiver) and rx.playing == EBMID and not dict(rx.counters)
    assert f"playing {EBMID}" in caplog.text
