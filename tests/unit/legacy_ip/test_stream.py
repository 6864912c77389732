"""The TCP reassembler: frames split and joined arbitrarily across reads come out whole."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.legacy_ip import (
    Clock,
    Direction,
    FrameReader,
    Heartbeat,
    LegacyFrameError,
    StartStopReply,
    WorkState,
    body_of,
    decode_frame,
)
from protocols.legacy_ip.reports import ReplyResult
from tests.unit.legacy_ip.helpers import EBMID, TERMINAL, FixedSigner, down, up

FRAMES = [
    up(Heartbeat(TERMINAL, WorkState.IDLE), sequence=1),
    up(StartStopReply(TERMINAL, EBMID, True, ReplyResult.ACCEPTED), sequence=2),
    down(Clock(1), FixedSigner(), sequence=3),
    up(Heartbeat(TERMINAL, WorkState.WORKING, 9, EBMID), sequence=4),
]


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from(range(len(FRAMES))), min_size=1, max_size=12),
    st.lists(st.integers(0, 10_000), max_size=30),
)
def test_any_split_gives_back_the_same_frames(order: list[int], cuts: list[int]) -> None:
    frames = [FRAMES[i] for i in order]
    reader = FrameReader()
    out: list[bytes] = []
    for chunk in _split(b"".join(frames), cuts):
        out += reader.feed(chunk)
    assert out == frames
    assert reader.pending == 0


@given(st.lists(st.sampled_from(FRAMES), min_size=1, max_size=5))
def test_one_byte_at_a_time(frames: list[bytes]) -> None:
    reader = FrameReader()
    out: list[bytes] = []
    for byte in b"".join(frames):
        out += reader.feed(bytes([byte]))
    assert out == frames
    assert [body_of(decode_frame(f)) for f in out] == [body_of(decode_frame(f)) for f in frames]


def test_a_partial_frame_waits() -> None:
    reader = FrameReader()
    assert reader.feed(FRAMES[0][:-1]) == []
    assert reader.pending == len(FRAMES[0]) - 1
    assert reader.feed(FRAMES[0][-1:]) == [FRAMES[0]]


def test_an_absurd_length_is_refused_before_buffering() -> None:
    reader = FrameReader(max_body=1024)
    header = bytes([0x50, 0, 1, 0x20, 0]) + (1 << 30).to_bytes(4, "big")
    with pytest.raises(LegacyFrameError) as caught:
        reader.feed(header)
    assert caught.value.code == "too-long"
    assert reader.pending == 0
    with pytest.raises(LegacyFrameError):  # the stream stays refused: framing is lost
        reader.feed(FRAMES[0])


@pytest.mark.parametrize(
    ("garbage", "code"),
    [(b"\x00" * 9, "bad-direction"), (bytes([0x50, 0, 2]) + bytes(6), "bad-version")],
)
def test_a_lost_frame_start_ends_the_stream(garbage: bytes, code: str) -> None:
    reader = FrameReader()
    assert reader.feed(FRAMES[0]) == [FRAMES[0]]
    with pytest.raises(LegacyFrameError) as caught:
        reader.feed(garbage + FRAMES[0])
    assert caught.value.code == code


def test_a_bad_crc_spoils_one_frame_not_the_stream() -> None:
    broken = FRAMES[1][:-1] + bytes([FRAMES[1][-1] ^ 0xFF])
    out = FrameReader().feed(FRAMES[0] + broken + FRAMES[3])
    assert out == [FRAMES[0], broken, FRAMES[3]]
    with pytest.raises(LegacyFrameError) as caught:
        decode_frame(out[1], expect=Direction.UP)
    assert caught.value.code == "bad-crc"
