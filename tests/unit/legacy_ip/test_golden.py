"""Golden frames: the codec must produce exactly the bytes in tests/golden/legacy_ip/, and a
second decoder that shares no code with it must read the documented fields out of them.

Regenerate (after a deliberate layout change, and review the diff): EBC_REGEN_GOLDEN=1 pytest
tests/unit/legacy_ip/test_golden.py
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from protocols.legacy_ip import (
    Addressing,
    Auxiliary,
    Body,
    BroadcastType,
    Clock,
    Direction,
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
    body_of,
    decode_frame,
)
from tests.unit.legacy_ip.helpers import (
    CERT_SN,
    EBMID,
    FIXED_SIGNATURE,
    GOLDEN,
    NOW_UNIX,
    TERMINAL,
    TERMINAL_2,
    FixedSigner,
    down,
    up,
)
from tests.unit.legacy_ip.independent_decoder import bcd_digits, decode

AGENCY = "某县应急管理局"
URL = b"rtsp://127.0.0.1/live/1"


def _u(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _check_start(body: bytes) -> None:
    assert bcd_digits(body[0:18], 35) == EBMID
    assert body[18] == 1 and body[19] == 0x04
    assert body[20:25] == b"11B03" and body[25] == 2
    assert _u(body[26:30]) == NOW_UNIX and _u(body[30:34]) == NOW_UNIX + 3600
    assert body[34] == 80 and body[35] == 1 and _u(body[36:38]) == 2
    assert [bcd_digits(body[38:50], 23), bcd_digits(body[50:62], 23)] == [TERMINAL, TERMINAL_2]
    assert body[62:65] == b"zho"
    agency = AGENCY.encode("gb18030")
    assert body[65] == len(agency) and body[66 : 66 + len(agency)] == agency
    rest = body[66 + len(agency) :]
    assert rest[0] == 61 and _u(rest[1:3]) == len(URL) and rest[3:] == URL


def _check_drill(body: bytes) -> None:
    assert body[18] == 1 and body[19] == 0x05  # a drill goes out as a daily broadcast
    assert body[34] == 0xFF and body[35] == 2 and _u(body[36:38]) == 1
    assert body[38:44] == bytes.fromhex("001a2b3c4d5e")
    assert body[44:47] == b"zho" and body[47] == 0  # no agency
    assert body[48:] == bytes(3)  # no auxiliary data


def _check_stop(body: bytes) -> None:
    assert bcd_digits(body[0:18], 35) == EBMID and body[18] == 0
    assert body[26:34] == bytes(8)
    assert _u(body[36:38]) == 1 and bcd_digits(body[38:50], 23) == TERMINAL


def _check_query(body: bytes) -> None:
    assert len(body) == 13 and bcd_digits(body[0:12], 23) == TERMINAL and body[12] == 1


def _check_clock(body: bytes) -> None:
    assert body == NOW_UNIX.to_bytes(4, "big")


def _check_general(body: bytes) -> None:
    assert body == bytes([0x20, 0])


def _check_reply(body: bytes) -> None:
    assert len(body) == 32 and bcd_digits(body[0:12], 23) == TERMINAL
    assert bcd_digits(body[12:30], 35) == EBMID and body[30:32] == bytes([1, 0])


def _check_task_start(body: bytes) -> None:
    assert len(body) == 34 and bcd_digits(body[0:12], 23) == TERMINAL
    assert bcd_digits(body[12:30], 35) == EBMID and _u(body[30:34]) == NOW_UNIX + 1


def _check_task_end(body: bytes) -> None:
    assert len(body) == 35 and bcd_digits(body[12:30], 35) == EBMID
    assert _u(body[30:34]) == NOW_UNIX + 61 and body[34] == 0


def _check_beat_working(body: bytes) -> None:
    assert len(body) == 32 and bcd_digits(body[0:12], 23) == TERMINAL
    assert body[12] == 2 and body[13] == 60 and bcd_digits(body[14:32], 35) == EBMID


def _check_beat_idle(body: bytes) -> None:
    assert body[12] == 1 and bcd_digits(body[14:32], 35) == "0" * 35


@dataclass(frozen=True)
class Case:
    body: Body
    direction: Direction
    sequence: int
    check: Callable[[bytes], None]

    def build(self) -> bytes:
        if self.direction is Direction.DOWN:
            return down(self.body, FixedSigner(), sequence=self.sequence)
        return up(self.body, sequence=self.sequence)


START = StartStop(
    EBMID,
    True,
    BroadcastType.EMERGENCY,
    "11B03",
    2,
    NOW_UNIX,
    NOW_UNIX + 3600,
    80,
    Addressing.RESOURCE_CODE,
    (TERMINAL, TERMINAL_2),
    "zho",
    AGENCY,
    Auxiliary(61, URL),
)
D, U = Direction.DOWN, Direction.UP
CASES = {
    "04-start-emergency": Case(START, D, 1, _check_start),
    "04-start-drill-physical": Case(
        StartStop(
            EBMID,
            True,
            BroadcastType.DAILY,
            "11B03",
            2,
            0,
            0,
            0xFF,
            Addressing.PHYSICAL,
            ("001a2b3c4d5e",),
        ),
        D,
        2,
        _check_drill,
    ),
    "04-stop": Case(
        StartStop(
            EBMID,
            False,
            BroadcastType.EMERGENCY,
            "11B03",
            2,
            0,
            0,
            0xFF,
            Addressing.RESOURCE_CODE,
            (TERMINAL,),
        ),
        D,
        3,
        _check_stop,
    ),
    "08-query": Case(Query(TERMINAL), D, 4, _check_query),
    "09-clock": Case(Clock(NOW_UNIX), D, 5, _check_clock),
    "12-general-reply": Case(GeneralReply(0x20, 0), D, 6, _check_general),
    "17-start-stop-reply": Case(
        StartStopReply(TERMINAL, EBMID, True, ReplyResult.ACCEPTED), U, 1, _check_reply
    ),
    "18-task-start": Case(TaskStart(TERMINAL, EBMID, NOW_UNIX + 1), U, 2, _check_task_start),
    "19-task-end": Case(
        TaskEnd(TERMINAL, EBMID, NOW_UNIX + 61, TaskEndResult.COMPLETED), U, 3, _check_task_end
    ),
    "20-heartbeat-working": Case(
        Heartbeat(TERMINAL, WorkState.WORKING, 60, EBMID), U, 4, _check_beat_working
    ),
    "20-heartbeat-idle": Case(Heartbeat(TERMINAL, WorkState.IDLE, 60), U, 5, _check_beat_idle),
}


def _path(name: str) -> os.PathLike[str]:
    return GOLDEN / f"{name}.hex"


def _write(name: str, case: Case, data: bytes) -> None:
    lines = [
        f"# {name}: protocol type 0x{case.body.COMMAND:02X}, direction 0x{case.direction:02X}",
        "# layout: docs/legacy-loudspeakers.md; built by tests/unit/legacy_ip/test_golden.py",
    ]
    lines += [data[i : i + 16].hex(" ") for i in range(0, len(data), 16)]
    GOLDEN.joinpath(f"{name}.hex").write_text("\n".join(lines) + "\n", encoding="ascii")


def read_golden(name: str) -> bytes:
    text = GOLDEN.joinpath(f"{name}.hex").read_text(encoding="ascii")
    return bytes.fromhex("".join(line for line in text.splitlines() if not line.startswith("#")))


@pytest.fixture(scope="module", autouse=True)
def _regenerate() -> None:
    if os.environ.get("EBC_REGEN_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, case in CASES.items():
            _write(name, case, case.build())


@pytest.mark.parametrize("name", sorted(CASES))
def test_codec_builds_the_golden_bytes(name: str) -> None:
    assert CASES[name].build() == read_golden(name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_codec_reads_the_golden_bytes_back(name: str) -> None:
    case = CASES[name]
    frame = decode_frame(read_golden(name), expect=case.direction)
    assert (frame.command, frame.sequence) == (case.body.COMMAND, case.sequence)
    assert body_of(frame) == case.body


@pytest.mark.parametrize("name", sorted(CASES))
def test_independent_decoder_agrees(name: str) -> None:
    case, data = CASES[name], read_golden(name)
    seen = decode(data)
    assert seen.crc_ok
    assert seen.direction == case.direction
    assert (seen.version, seen.protocol_type, seen.sequence) == (
        1,
        case.body.COMMAND,
        case.sequence,
    )
    assert seen.signature_length == 0x004A
    assert seen.signed_at == NOW_UNIX
    if case.direction is Direction.DOWN:
        assert (seen.cert_sn, seen.signature) == (CERT_SN.value, FIXED_SIGNATURE)
    else:
        assert (seen.cert_sn, seen.signature) == ("000000000000", bytes(64))
    case.check(seen.body)


def test_signed_bytes_are_header_body_and_time() -> None:
    """What FixedSigner was asked to sign is what the independent reader says is signed."""
    asked: list[bytes] = []

    class Recording(FixedSigner):
        def sign(self, message: bytes) -> bytes:
            asked.append(message)
            return super().sign(message)

    data = down(START, Recording(), sequence=1)
    assert asked == [decode(data).signed_bytes]
    assert asked[0][:9] == data[:9] and asked[0][-4:] == NOW_UNIX.to_bytes(4, "big")


def test_every_golden_file_has_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.hex")) == sorted(CASES)
