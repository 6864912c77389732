"""Every way an FM packet or group stream is refused, with its code."""

from __future__ import annotations

import pytest

from protocols.errors import BinaryFormatError
from protocols.fm import (
    BadBcd,
    BadCrc,
    BadField,
    BadLine,
    FmFormatError,
    Group,
    MissingSegment,
    SignedPacket,
    Truncated,
    UnknownType,
    crc32_mpeg2,
    decode_lines,
    decode_packet,
)
from tests.unit.fm.support import PROFILE, golden_bytes

START = golden_bytes("type11-start")
TEXT = golden_bytes("type15-text")


def recrc(data: bytes) -> bytes:
    """The CRC made right again: for errors the CRC would otherwise hide."""
    return data[:-4] + crc32_mpeg2(data[:-4]).to_bytes(4, "big")


def raw(packet_type: int, body: bytes, codes: bytes = b"", count: int | None = None) -> bytes:
    length = 1 + len(codes) + len(body) + 74 + 4
    head = (packet_type << 11 | length).to_bytes(2, "big")
    n = len(codes) // 12 if count is None else count
    block = (1).to_bytes(4, "big") + bytes.fromhex("340000000001") + bytes(64)
    return recrc(head + bytes([n]) + codes + body + block + bytes(4))


def codes_of(decoded: list[object]) -> list[str]:
    return [d.code for d in decoded if isinstance(d, FmFormatError)]


def test_every_error_is_a_binary_format_error_with_its_code() -> None:
    expected = {
        BadLine: "bad-line",
        MissingSegment: "missing-segment",
        Truncated: "truncated",
        BadCrc: "bad-crc",
        BadBcd: "bad-bcd",
        UnknownType: "unknown-type",
        BadField: "bad-field",
    }
    for cls, code in expected.items():
        assert issubclass(cls, BinaryFormatError)
        assert cls("x").code == code


@pytest.mark.parametrize(
    "line",
    [
        "3456 B010 12",
        "3456 B010 XYZ1 0000",
        "3456 B010 0000 0000 0000",
        "3456 B010 ---- 0000",
        "3456 B010 00000 000",
        "３４５６ B010 0000 0000",
    ],
)
def test_malformed_lines(line: str) -> None:
    with pytest.raises(BadLine):
        Group.parse(line)


def test_blank_and_comment_lines_are_skipped() -> None:
    assert Group.parse("") is None
    assert Group.parse("   # a comment") is None
    assert Group.parse(" 3456  b010\t0000 00FF ") == Group(0x3456, 0xB010, 0, 0xFF)


def test_bad_line_inside_a_packet_is_one_refusal() -> None:
    lines = PROFILE.lines([START, TEXT])
    lines[5] = "3456 B0!0 0000 0000"
    decoded = decode_lines(lines)
    assert codes_of(decoded) == ["bad-line"]
    assert [d.raw for d in decoded if isinstance(d, SignedPacket)] == [TEXT]


def test_bad_crc() -> None:
    corrupted = bytearray(START)
    corrupted[40] ^= 0x01
    with pytest.raises(BadCrc):
        decode_packet(bytes(corrupted))
    with pytest.raises(BadCrc):
        decode_packet(START[:-1] + bytes([START[-1] ^ 0x80]))


def test_truncated_packets() -> None:
    with pytest.raises(Truncated):
        decode_packet(START[:-1])
    with pytest.raises(Truncated):
        decode_packet(START[:1])
    with pytest.raises(Truncated):  # a count promising more codes than there are bytes
        decode_packet(raw(8, b"", count=9))


def test_trailing_bytes() -> None:
    with pytest.raises(BadField):
        decode_packet(START + b"\x00")


def test_a_stream_whose_last_flag_comes_too_early_is_truncated() -> None:
    groups = PROFILE.groups([START])
    cut = groups[:-3]
    last = cut[-1]
    cut[-1] = Group(last.pi, last.b | 0b01000, last.c, last.d)
    assert codes_of(decode_lines([g.line() for g in cut])) == ["truncated"]


def test_missing_segments() -> None:
    lines = PROFILE.lines([START, TEXT])
    del lines[10]
    decoded = decode_lines(lines)
    assert codes_of(decoded) == ["missing-segment"]
    assert [d.raw for d in decoded if isinstance(d, SignedPacket)] == [TEXT]


def test_a_lost_first_segment_is_one_refusal() -> None:
    lines = PROFILE.lines([START, TEXT])
    del lines[1]
    assert codes_of(decode_lines(lines)) == ["missing-segment"]


def test_segments_out_of_order() -> None:
    lines = PROFILE.lines([START])
    lines[4], lines[5] = lines[5], lines[4]
    assert codes_of(decode_lines(lines)) == ["missing-segment"]


def test_a_packet_cut_short_by_the_next() -> None:
    start_lines = PROFILE.lines([START])
    text_lines = PROFILE.lines([TEXT])[1:]
    decoded = decode_lines([*start_lines[:-4], *text_lines])
    assert codes_of(decoded) == ["missing-segment"]
    assert [d.raw for d in decoded if isinstance(d, SignedPacket)] == [TEXT]


def test_the_stream_ending_inside_a_packet() -> None:
    assert codes_of(decode_lines(PROFILE.lines([START])[:-1])) == ["missing-segment"]


def test_non_zero_padding() -> None:
    groups = PROFILE.groups([START])
    assert len(START) % 4, "the golden start packet needs padding for this test"
    last = groups[-1]
    groups[-1] = Group(last.pi, last.b, last.c, last.d | 0x0001)
    assert codes_of(decode_lines([g.line() for g in groups])) == ["bad-field"]


def test_an_announcement_of_another_data_group_changes_nothing() -> None:
    lines = PROFILE.lines([START])
    lines[0] = "3456 3012 0001 EBC1"  # 9A instead of 11A
    decoded = decode_lines(lines)
    assert codes_of(decoded) == ["bad-field"]
    assert [d.raw for d in decoded if isinstance(d, SignedPacket)] == [START]


def test_other_stations_and_group_types_are_ignored() -> None:
    lines = PROFILE.lines([START])
    noise = ["3456 0408 E0CD 4142", "1234 B010 0000 0000", "3456 2000 4142 4344"]
    decoded = decode_lines([*lines[:3], *noise, *lines[3:]], pi=0x3456)
    assert [d.raw for d in decoded if isinstance(d, SignedPacket)] == [START]


@pytest.mark.parametrize(
    "code",
    [
        "F63415231000010314010A01",  # a non-decimal nibble
        "063415231000010314010401",  # pad nibble 0, not F
        "F63415231000019999010401",  # decimal, but resource type 9999 does not exist
    ],
)
def test_bad_bcd_codes(code: str) -> None:
    with pytest.raises(BadBcd):
        decode_packet(raw(8, b"", bytes.fromhex(code)))


def test_bad_bcd_ebmid() -> None:
    body = bytearray(START[27:-78])  # after the two codes
    body[6] = 0x0F  # the EBMID's pad nibble
    codes = START[3:27]
    with pytest.raises(BadBcd):
        decode_packet(raw(11, bytes(body), codes))


@pytest.mark.parametrize("packet_type", [22, 19, 0, 31])
def test_unknown_types(packet_type: int) -> None:
    with pytest.raises(UnknownType):
        decode_packet(raw(packet_type, b"\x00\x01"))


@pytest.mark.parametrize(
    "body",
    [
        b"\x02" + b"11B03" + bytes.fromhex("f4" + "11" * 17) + bytes.fromhex("097500"),  # action 0
        b"\xc2" + b"11B03" + bytes.fromhex("f4" + "11" * 17) + bytes.fromhex("097500"),  # action 3
        b"\x42" + b"11B\x003" + bytes.fromhex("f4" + "11" * 17) + bytes.fromhex("097500"),
        b"\x42"
        + b"11B03"
        + bytes.fromhex("f4" + "11" * 17)
        + bytes.fromhex("097500")
        + b"\x01\x01a\x01\x01b",  # the alert id twice
        b"\x42"
        + b"11B03"
        + bytes.fromhex("f4" + "11" * 17)
        + bytes.fromhex("097500")
        + b"\x03\x02\x00\x01",  # an end time of 2 bytes
    ],
)
def test_bad_emergency_fields(body: bytes) -> None:
    with pytest.raises(BadField):
        decode_packet(raw(11, body))


def test_an_extension_running_past_the_body_is_truncated() -> None:
    body = b"\x42" + b"11B03" + bytes.fromhex("f4" + "11" * 17) + bytes.fromhex("097500")
    with pytest.raises(Truncated):
        decode_packet(raw(11, body + b"\x01\x09abc"))


def test_unknown_extensions_are_skipped() -> None:
    body = b"\x42" + b"11B03" + bytes.fromhex("f4" + "11" * 17) + bytes.fromhex("097500")
    decoded = decode_packet(raw(11, body + b"\x7f\x02zz\x01\x02id"))
    assert decoded.packet.body.alert_id == "id"  # type: ignore[union-attr]


def test_text_that_is_not_gb18030() -> None:
    head = bytes.fromhex("f4" + "11" * 17) + b"zho" + bytes([0, 1, 0])
    with pytest.raises(BadField):
        decode_packet(raw(15, head + b"\x81\x20"))
    with pytest.raises(BadField):  # part 1 of 1
        decode_packet(raw(15, head[:-3] + bytes([1, 1, 0]) + b"ok"))
