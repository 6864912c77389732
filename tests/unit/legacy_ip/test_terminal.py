"""The simulated legacy loudspeaker: what it acts on, and what it refuses (counted, not acted on).

The terminal is never connected here: what it would send is recorded in ``sent``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.codes import CertSN
from protocols.legacy_ip import (
    Addressing,
    BroadcastType,
    Clock,
    GeneralReply,
    Heartbeat,
    Query,
    ReplyResult,
    StartStop,
    StartStopReply,
    TaskEnd,
    TaskEndResult,
    TaskStart,
    WorkState,
    crc32_mpeg2,
)
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from signing.trust import Rights, TrustEntry, TrustStore
from simulators.legacy_terminal import LegacyTerminal
from tests.unit.legacy_ip.helpers import (
    CERT_SN,
    EBMID,
    ELSEWHERE,
    NOW,
    NOW_UNIX,
    TERMINAL,
    down,
    eventually,
    up,
)

KEY = SM2PrivateKey.generate()
OTHER_KEY = SM2PrivateKey.generate()
SIGNER = SoftwareSigner(KEY, CERT_SN)
COUNTY = Rights(("341523000000",), ("*",), (1, 2, 3, 4, 5))


def anchors(rights: Rights = COUNTY) -> TrustStore:
    return TrustStore(
        [TrustEntry(CERT_SN, KEY.public_key(), "county platform", None, None, None, False, rights)]
    )


def start(*addresses: str, on: bool = True, event_type: str = "11B03") -> StartStop:
    return StartStop(
        EBMID,
        on,
        BroadcastType.EMERGENCY,
        event_type,
        2,
        0,
        0,
        80,
        Addressing.RESOURCE_CODE,
        addresses or (TERMINAL,),
    )


def make(trust: TrustStore | None = None, **options: object) -> LegacyTerminal:
    settings_ = {"play_seconds": 0.0, **options}
    return LegacyTerminal(TERMINAL, trust or anchors(), port=1, clock=lambda: NOW, **settings_)  # type: ignore[arg-type]


@pytest.fixture
async def terminal() -> AsyncIterator[LegacyTerminal]:
    made = make()
    yield made
    await made.stop()


async def test_a_start_is_answered_then_played(terminal: LegacyTerminal) -> None:
    await terminal.receive(down(start(TERMINAL, ELSEWHERE), SIGNER, sequence=7))
    await eventually(lambda: terminal.finished)
    reply, began, ended = terminal.sent
    assert reply == StartStopReply(TERMINAL, EBMID, True, ReplyResult.ACCEPTED)
    assert began == TaskStart(TERMINAL, EBMID, NOW_UNIX)
    assert ended == TaskEnd(TERMINAL, EBMID, NOW_UNIX, TaskEndResult.COMPLETED)
    assert terminal.state is WorkState.IDLE and terminal.refused_total == 0


async def test_a_stop_ends_the_broadcast() -> None:
    terminal = make(play_seconds=3600.0)
    try:
        await terminal.receive(down(start(), SIGNER))
        assert (terminal.state, terminal.playing) == (WorkState.WORKING, EBMID)
        await terminal.receive(down(start(on=False), SIGNER))
        assert (terminal.state, terminal.playing) == (WorkState.IDLE, None)
        assert terminal.finished == [(EBMID, TaskEndResult.STOPPED)]
        assert [type(b).__name__ for b in terminal.sent] == [
            "StartStopReply",
            "TaskStart",
            "StartStopReply",
            "TaskEnd",
        ]
    finally:
        await terminal.stop()


async def test_a_repeated_start_is_answered_but_played_once(terminal: LegacyTerminal) -> None:
    frame = down(start(), SIGNER)
    await terminal.receive(frame)
    await eventually(lambda: terminal.finished)
    await terminal.receive(frame)
    assert terminal.duplicates == 1
    assert sum(isinstance(b, TaskStart) for b in terminal.sent) == 1
    assert sum(isinstance(b, StartStopReply) for b in terminal.sent) == 2


async def test_query_clock_and_general_reply(terminal: LegacyTerminal) -> None:
    await terminal.receive(down(Query(TERMINAL), SIGNER))
    assert terminal.sent == [Heartbeat(TERMINAL, WorkState.IDLE, 60)]
    await terminal.receive(down(Clock(NOW_UNIX + 5), SIGNER))
    assert terminal.clock_set == NOW_UNIX + 5
    await terminal.receive(down(GeneralReply(0x20), SIGNER))
    await terminal.receive(down(Query(ELSEWHERE), SIGNER))
    assert terminal.refused == {"not-addressed": 1}
    assert len(terminal.sent) == 1


GOOD = down(start(), SIGNER)
STALE_AT, FUTURE_AT = NOW_UNIX - 301, NOW_UNIX + 61


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (GOOD[:-10], "truncated"),
        (GOOD[:-1] + bytes([GOOD[-1] ^ 0x01]), "bad-crc"),
        (down(start(), SoftwareSigner(OTHER_KEY, CERT_SN)), "signature-invalid"),
        (down(start(), SoftwareSigner(KEY, CertSN("999999999999"))), "unknown-certificate"),
        (down(start(ELSEWHERE), SIGNER), "not-addressed"),
        (down(start(), SIGNER, at=STALE_AT), "stale-timestamp"),
        (down(start(), SIGNER, at=FUTURE_AT), "stale-timestamp"),
        (up(start()), "bad-direction"),
    ],
    ids=[
        "truncated",
        "crc",
        "forged",
        "unknown-cert",
        "other-region",
        "stale",
        "future",
        "reflected",
    ],
)
async def test_bad_frames_are_refused_and_counted(
    terminal: LegacyTerminal, raw: bytes, reason: str
) -> None:
    await terminal.receive(raw)
    assert terminal.refused == {reason: 1}
    assert terminal.sent == [] and terminal.playing is None
    assert terminal.state is WorkState.IDLE


async def test_a_forged_signature_over_a_copied_block_is_refused(terminal: LegacyTerminal) -> None:
    """A valid block moved onto another body: the signature covers header + body + time."""
    forged_body = dataclasses.replace(start(), volume=100)
    good, other = bytearray(GOOD), bytearray(down(forged_body, SIGNER))
    other[-80:-4] = good[-80:-4]
    other[-4:] = crc32_mpeg2(bytes(other[:-4])).to_bytes(4, "big")
    await terminal.receive(bytes(other))
    assert terminal.refused == {"signature-invalid": 1} and terminal.sent == []


async def test_a_signer_for_another_region_is_refused() -> None:
    terminal = make(anchors(Rights(("340102000000",), ("*",), (1,))))
    await terminal.receive(GOOD)
    assert terminal.refused == {"not-authorised": 1} and terminal.sent == []


async def test_an_event_type_the_signer_may_not_send_is_refused_with_a_reply() -> None:
    terminal = make(anchors(Rights(("341523000000",), ("11B01",), (1,))))
    await terminal.receive(GOOD)
    assert terminal.refused == {"not-authorised": 1}
    assert terminal.sent == [StartStopReply(TERMINAL, EBMID, True, ReplyResult.REFUSED)]
    assert terminal.playing is None


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(GOOD) * 8 - 1))
def test_any_flipped_bit_is_refused_and_counted(bit: int) -> None:
    terminal = make()
    data = bytearray(GOOD)
    data[bit // 8] ^= 1 << (bit % 8)
    assert terminal.admit(bytes(data)) is None
    assert terminal.refused_total == 1
    assert terminal.admit(GOOD) is not None
