"""Damaged input is refused with a specific code, never decoded into something else."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.errors import BinaryFormatError
from protocols.ts import (
    BadBcd,
    BadCrc,
    BadField,
    BadMjd,
    BadPacket,
    BadSignature,
    BadText,
    CcGap,
    Content,
    Depacketiser,
    Ebit,
    EbmEntry,
    LanguageText,
    Packetiser,
    TooLong,
    Truncated,
    UnknownTable,
    decode_section,
    encode_content,
    encode_ebit,
    encode_time,
    parse_section,
)
from protocols.ts.crc import crc32_mpeg2
from protocols.ts.section import SectionHeader, build_section
from tests.unit.ts.support import EBM_ID, fake_sign, sample_content, sample_ebit

EBIT = encode_ebit(sample_ebit(), version=5, sign=fake_sign)[0]
EBM_ID_AT = 9  # header 8 + EBM_count 1
START_AT = EBM_ID_AT + 18 + 2


def recrc(raw: bytes) -> bytes:
    return raw[:-4] + crc32_mpeg2(raw[:-4]).to_bytes(4, "big")


def patched(offset: int, value: int, raw: bytes = EBIT) -> bytes:
    return recrc(raw[:offset] + bytes([value]) + raw[offset + 1 :])


def test_every_single_bit_flip_is_refused() -> None:
    for bit in range(len(EBIT) * 8):
        damaged = bytearray(EBIT)
        damaged[bit // 8] ^= 0x80 >> (bit % 8)
        with pytest.raises(BinaryFormatError):
            decode_section(bytes(damaged))


@given(st.integers(0, len(EBIT) - 1))
def test_every_truncation_is_refused_as_truncated(length: int) -> None:
    with pytest.raises(Truncated):
        decode_section(EBIT[:length])


def test_wrong_crc() -> None:
    with pytest.raises(BadCrc) as caught:
        decode_section(EBIT[:-1] + bytes([EBIT[-1] ^ 1]))
    assert caught.value.code == "bad-crc"


@pytest.mark.parametrize(
    ("offset", "value", "error"),
    [
        (EBM_ID_AT, 0x44, BadBcd),  # the pad nibble must be 0xF
        (EBM_ID_AT + 1, 0x3A, BadBcd),  # a nibble above 9
        (START_AT, 0x00, BadMjd),  # MJD 0x00xx is long before 1970
        (START_AT + 2, 0x25, BadBcd),  # 25 o'clock
        (START_AT + 3, 0x6A, BadBcd),  # minutes 6A
        (0, 0xFA, UnknownTable),
        (len(EBIT) - 80, 0x01, BadField),  # signature_length 0x014A
        (1, EBIT[1] & 0x7F, BadField),  # section_syntax_indicator 0
    ],
)
def test_bad_fields_with_a_good_crc(offset: int, value: int, error: type) -> None:
    with pytest.raises(error):
        decode_section(patched(offset, value))


def test_codes_are_specific() -> None:
    assert [
        e.code
        for e in (
            BadCrc(""),
            Truncated(""),
            BadBcd(""),
            BadMjd(""),
            UnknownTable(""),
            CcGap(""),
            BadSignature(""),
        )
    ] == ["bad-crc", "truncated", "bad-bcd", "bad-mjd", "unknown-table", "cc-gap", "bad-signature"]


def test_a_loop_longer_than_its_section_is_truncated() -> None:
    loop_at = START_AT + 5 + 5 + 5 + 1  # resource_loop_length
    with pytest.raises(Truncated):
        decode_section(patched(loop_at, 0xFF))


def test_signature_refused_by_the_verifier() -> None:
    seen: list[tuple[bytes, bytes]] = []

    def verify(payload: bytes, block: bytes) -> bool:
        seen.append((payload, block))
        return False

    with pytest.raises(BadSignature):
        parse_section(EBIT, verify=verify)
    payload, block = seen[0]
    assert payload == EBIT[: len(EBIT) - 80] and block == EBIT[-78:-4]


def test_encoder_refuses_what_it_cannot_write() -> None:
    with pytest.raises(BadField):
        encode_time(dt.datetime(2026, 1, 1))  # naive
    with pytest.raises(BadMjd):
        encode_time(dt.datetime(2038, 4, 23, tzinfo=dt.UTC))  # past 16-bit MJD
    with pytest.raises(BadText):
        encode_content(
            Content(EBM_ID, (LanguageText("uig", "ئا", "", "", "GB2312"),)),
            version=0,
            sign=fake_sign,
        )
    with pytest.raises(BadField):
        encode_content(Content(EBM_ID, (LanguageText("ZH", "t", ""),)), version=0, sign=fake_sign)
    with pytest.raises(BadField):
        EbmEntry(EBM_ID, "11B03", 16, 1, ())
    with pytest.raises(BadBcd):
        encode_ebit(Ebit((EbmEntry("4" * 34 + "x", "11B03", 4, 1, ()),)), version=0, sign=fake_sign)
    with pytest.raises(TooLong):
        build_section(SectionHeader(0xFD, 0, 0), b"\x00" * 4009, fake_sign)


# -- packets ----------------------------------------------------------------------------


def _stream() -> tuple[list[bytes], list[bytes]]:
    sections = encode_ebit(sample_ebit(), version=5, sign=fake_sign)
    sections += encode_content(sample_content(), version=1, sign=fake_sign)
    return sections, Packetiser(0x21).packetise(sections)


def _feed(packets: list[bytes]) -> list[object]:
    d = Depacketiser(0x21)
    return [x for p in packets for x in d.feed(p)]


def test_a_lost_packet_is_a_cc_gap_and_the_next_section_still_arrives() -> None:
    sections, packets = _stream()
    out = _feed(
        packets[:1] + packets[2:] + Packetiser(0x21, continuity=len(packets)).packetise(sections)
    )
    errors = [x for x in out if not isinstance(x, bytes)]
    assert [type(e) for e in errors] == [CcGap]
    assert [x for x in out if isinstance(x, bytes)][-2:] == sections


def test_a_repeated_packet_is_ignored() -> None:
    sections, packets = _stream()
    assert _feed([packets[0], packets[0], *packets[1:]]) == sections


def test_bad_packets() -> None:
    _, packets = _stream()
    bad_sync = b"\x46" + packets[0][1:]
    flagged = packets[0][:1] + bytes([packets[0][1] | 0x80]) + packets[0][2:]
    out = _feed([bad_sync, packets[0][:100], flagged])
    assert [type(e) for e in out] == [BadPacket, BadPacket, BadPacket]


def test_other_pids_are_not_ours() -> None:
    _, packets = _stream()
    assert Depacketiser(0x22).feed(packets[0]) == []


def test_a_section_cut_short_by_the_next_start_is_truncated() -> None:
    content = encode_content(sample_content(), version=1, sign=fake_sign)[0]
    sections = [content, EBIT]
    packets = Packetiser(0x21).packetise(sections)
    assert len(content) > 2 * 183, "the content must span three packets for this test"
    # The middle packet is lost, but the counter is renumbered so no gap shows.
    kept = [packets[0], *packets[2:]]
    renumbered = [p[:3] + bytes([(p[3] & 0xF0) | n]) + p[4:] for n, p in enumerate(kept)]
    out = _feed(renumbered)
    assert [type(x) for x in out if not isinstance(x, bytes)] == [Truncated]
    assert out[-1] == EBIT


def test_a_flipped_payload_bit_in_a_packet_is_a_bad_crc() -> None:
    sections, packets = _stream()
    damaged = bytearray(packets[0])
    damaged[100] ^= 0x10
    out = _feed([bytes(damaged), *packets[1:]])
    assert [type(x) for x in out if not isinstance(x, bytes)] == [BadCrc]
    assert out[1:] == sections[1:]


def test_a_pointer_past_the_packet_or_at_stuffing() -> None:
    _, packets = _stream()
    past = packets[0][:4] + bytes([183]) + packets[0][5:]
    stuffing = packets[0][:4] + bytes([2]) + b"\x00\x00\xff" + packets[0][8:]
    assert [type(x) for x in Depacketiser(0x21).feed(past)] == [BadPacket]
    assert [type(x) for x in Depacketiser(0x21).feed(stuffing)] == [BadField]
