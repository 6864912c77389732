"""The frame codec and the bodies: round trips, and every refusal with its own code."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.errors import BinaryFormatError
from protocols.legacy_ip import (
    BLOCK_LENGTH,
    Addressing,
    Auxiliary,
    BroadcastType,
    Clock,
    Command,
    Direction,
    GeneralReply,
    Heartbeat,
    LegacyFrameError,
    Query,
    ReplyResult,
    StartStop,
    StartStopReply,
    TaskEnd,
    TaskEndResult,
    TaskStart,
    WorkState,
    body_of,
    crc32_mpeg2,
    decode_body,
    decode_frame,
    encode_frame,
)
from signing.block import crc32_mpeg2 as signing_crc
from tests.unit.legacy_ip.helpers import EBMID, TERMINAL, FixedSigner, down, up
from tests.unit.legacy_ip.independent_decoder import crc32_mpeg2_bitwise

BLOCK = bytes(BLOCK_LENGTH)


def craft(
    body: bytes = b"",
    *,
    direction: int = 0x49,
    version: int = 1,
    command: int = 0x09,
    length: int | None = None,
    signature_length: int = 0x004A,
) -> bytes:
    """A frame with any header, and a CRC that matches it."""
    size = len(body) if length is None else length
    head = bytes([direction]) + version.to_bytes(2, "big") + bytes([command, 0])
    data = head + size.to_bytes(4, "big") + body + signature_length.to_bytes(2, "big") + BLOCK
    return data + crc32_mpeg2(data).to_bytes(4, "big")


def code_of(data: bytes, **kwargs: object) -> str:
    with pytest.raises(LegacyFrameError) as caught:
        frame = decode_frame(data, **kwargs)  # type: ignore[arg-type]
        body_of(frame)
    assert isinstance(caught.value, BinaryFormatError)
    return caught.value.code


CLOCK_FRAME = craft(bytes(4))


def test_a_crafted_frame_decodes() -> None:
    frame = decode_frame(CLOCK_FRAME, expect=Direction.DOWN)
    assert body_of(frame) == Clock(0)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (CLOCK_FRAME[:5], "truncated"),
        (CLOCK_FRAME[:-1], "truncated"),
        (CLOCK_FRAME + b"\x00", "trailing-bytes"),
        (CLOCK_FRAME[:-1] + bytes([CLOCK_FRAME[-1] ^ 1]), "bad-crc"),
        (craft(bytes(4), direction=0x51), "bad-direction"),
        (craft(bytes(4), version=2), "bad-version"),
        (craft(bytes(4), length=0x7FFFFFFF), "too-long"),
        (craft(bytes(4), command=0x77), "unknown-command"),
        (craft(bytes(4), command=0x05), "unknown-command"),  # named, but no body layout yet
        (craft(bytes(4), signature_length=0x004B), "bad-signature-length"),
        (craft(bytes(3)), "truncated"),  # a clock body one byte short
        (craft(bytes(5)), "trailing-bytes"),
    ],
)
def test_refusals_have_their_own_codes(data: bytes, code: str) -> None:
    assert code_of(data) == code


def test_wrong_direction_for_the_reader() -> None:
    assert code_of(CLOCK_FRAME, expect=Direction.UP) == "bad-direction"


def test_verifier_saying_no_is_bad_signature() -> None:
    calls: list[tuple[bytes, bytes]] = []

    def verify(payload: bytes, block: bytes) -> bool:
        calls.append((payload, block))
        return False

    assert code_of(CLOCK_FRAME, verify=verify) == "bad-signature"
    assert calls == [(CLOCK_FRAME[:13], BLOCK)]


def test_max_body_is_configurable() -> None:
    big = craft(bytes(100), command=0x12)
    assert code_of(big, max_body=99) == "too-long"


START = StartStop(
    EBMID,
    True,
    BroadcastType.EMERGENCY,
    "11B03",
    2,
    1,
    2,
    50,
    Addressing.RESOURCE_CODE,
    (TERMINAL,),
)


def _with(body: bytes, at: int, value: bytes) -> bytes:
    return body[:at] + value + body[at + len(value) :]


@pytest.mark.parametrize(
    ("at", "value", "code"),
    [
        (0, b"\x04", "bad-bcd"),  # EBMID pad nibble is not F
        (1, b"\xa3", "bad-bcd"),  # a non-decimal nibble
        (18, b"\x02", "bad-field"),  # on/off
        (19, b"\x07", "bad-field"),  # broadcast type
        (25, b"\x09", "bad-field"),  # level
        (34, b"\x65", "bad-field"),  # volume 101
        (35, b"\x03", "bad-field"),  # addressing type
        (38, b"\x04", "bad-bcd"),  # an addressed code's pad nibble
    ],
)
def test_start_stop_field_errors(at: int, value: bytes, code: str) -> None:
    with pytest.raises(LegacyFrameError) as caught:
        decode_body(Command.START_STOP, _with(START.to_bytes(), at, value))
    assert caught.value.code == code


def test_start_stop_body_cut_short_or_padded() -> None:
    raw = START.to_bytes()
    for cut in (0, 17, 40, len(raw) - 1):
        with pytest.raises(LegacyFrameError, match="needs") as caught:
            StartStop.from_bytes(raw[:cut])
        assert caught.value.code == "truncated"
    with pytest.raises(LegacyFrameError) as caught:
        StartStop.from_bytes(raw + b"\x00")
    assert caught.value.code == "trailing-bytes"


@pytest.mark.parametrize(
    "change",
    [
        {"ebmid": "1234"},
        {"ebmid": "x" * 35},
        {"event_type": "11B0"},
        {"language": "zh"},
        {"agency": "长" * 200},
        {"addresses": ("not-a-code",)},
        {"addressing": Addressing.PHYSICAL, "addresses": ("0011",)},
        {"auxiliary": Auxiliary(0, b"data")},
        {"start": 1 << 32},
    ],
)
def test_encoding_refuses_what_it_cannot_write(change: dict[str, object]) -> None:
    with pytest.raises(LegacyFrameError):
        dataclasses.replace(START, **change).to_bytes()  # type: ignore[arg-type]


@pytest.mark.parametrize("change", [{"level": 5}, {"volume": 101}, {"volume": -1}])
def test_construction_refuses_out_of_range(change: dict[str, object]) -> None:
    with pytest.raises(LegacyFrameError):
        dataclasses.replace(START, **change)  # type: ignore[arg-type]


def test_encode_frame_needs_exactly_one_block_source() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        encode_frame(Direction.DOWN, Command.CLOCK, bytes(4))
    with pytest.raises(ValueError, match="74 bytes"):
        encode_frame(Direction.DOWN, Command.CLOCK, bytes(4), block=bytes(10))
    with pytest.raises(ValueError, match="one byte"):
        encode_frame(Direction.DOWN, Command.CLOCK, bytes(4), block=BLOCK, sequence=256)


@given(st.binary(max_size=300))
def test_crc_agrees_with_signing_and_the_bitwise_reference(data: bytes) -> None:
    assert crc32_mpeg2(data) == signing_crc(data) == crc32_mpeg2_bitwise(data)


# --- round trips --------------------------------------------------------------------------

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
ebrids = st.text(alphabet="0123456789", min_size=23, max_size=23)
ebmids = st.text(alphabet="0123456789", min_size=35, max_size=35)
u32 = st.integers(0, 0xFFFFFFFF)
macs = st.binary(min_size=6, max_size=6).map(bytes.hex)
printable = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


@st.composite
def start_stops(draw: st.DrawFn) -> StartStop:
    addressing = draw(st.sampled_from(Addressing))
    pool = ebrids if addressing is Addressing.RESOURCE_CODE else macs
    aux = draw(st.none() | st.builds(Auxiliary, st.integers(1, 255), st.binary(max_size=300)))
    return StartStop(
        ebmid=draw(ebmids),
        on=draw(st.booleans()),
        broadcast_type=draw(st.sampled_from(BroadcastType)),
        event_type=draw(st.text(printable, min_size=5, max_size=5)),
        level=draw(st.integers(0, 4)),
        start=draw(u32),
        end=draw(u32),
        volume=draw(st.integers(0, 100) | st.just(0xFF)),
        addressing=addressing,
        addresses=tuple(draw(st.lists(pool, max_size=40))),
        language=draw(st.text(printable, min_size=3, max_size=3)),
        agency=draw(
            st.text(st.characters(codec="gb18030", exclude_categories=["Cs"]), max_size=60)
        ),
        auxiliary=aux,
    )


bodies = st.one_of(
    start_stops(),
    st.builds(Query, ebrids),
    st.builds(Clock, u32),
    st.builds(GeneralReply, st.integers(0, 255), st.integers(0, 255)),
    st.builds(StartStopReply, ebrids, ebmids, st.booleans(), st.sampled_from(ReplyResult)),
    st.builds(TaskStart, ebrids, ebmids, u32),
    st.builds(TaskEnd, ebrids, ebmids, u32, st.sampled_from(TaskEndResult)),
    st.builds(
        Heartbeat,
        ebrids,
        st.sampled_from(WorkState),
        st.integers(0, 255),
        st.none() | ebmids.filter(lambda e: e != "0" * 35),
    ),
)


@settings(max_examples=300)
@given(bodies, st.sampled_from(Direction), st.integers(0, 255))
def test_every_body_round_trips_through_a_frame(body, direction, sequence) -> None:  # type: ignore[no-untyped-def]
    block = bytes(range(BLOCK_LENGTH))
    raw = encode_frame(direction, body.COMMAND, body.to_bytes(), sequence=sequence, block=block)
    frame = decode_frame(raw, expect=direction)
    assert (frame.direction, frame.sequence, frame.block) == (direction, sequence, block)
    assert body_of(frame) == body


SIGNED = down(START, FixedSigner())


@settings(max_examples=300)
@given(st.integers(0, len(SIGNED) * 8 - 1))
def test_any_flipped_bit_is_refused(bit: int) -> None:
    data = bytearray(SIGNED)
    data[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(LegacyFrameError):
        decode_frame(bytes(data), expect=Direction.DOWN)


def test_terminal_frames_carry_their_reporter() -> None:
    frame = decode_frame(up(Heartbeat(TERMINAL, WorkState.IDLE)), expect=Direction.UP)
    body = body_of(frame)
    assert isinstance(body, Heartbeat) and body.terminal == TERMINAL
