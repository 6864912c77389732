"""Round trips: any packet the encoder accepts decodes to itself, through bytes and through
RDS group text; and a single bit flip anywhere in the text never yields a different packet."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols.codes import CertSN, RegionCode, ResourceCode
from protocols.fm import (
    Action,
    CertificateEntry,
    Certificates,
    Emergency,
    FmFormatError,
    Packet,
    RdsProfile,
    Revocations,
    SignedPacket,
    StatusQuery,
    Text,
    TimeSync,
    body_budget,
    crc32_mpeg2,
    decode_lines,
    decode_packet,
    encode_packet,
    region_code,
    split_text,
)
from protocols.fm.rds import ODA_GROUPS
from tests.unit.fm.support import FakeSigner

digits = st.text(alphabet="0123456789", min_size=35, max_size=35)
uint32 = st.integers(0, 0xFFFFFFFF)
serials = st.text(alphabet="0123456789", min_size=12, max_size=12).map(CertSN)
# GB18030 covers every code point but the surrogates.
unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)

villages = st.builds(
    lambda township, village, seq: ResourceCode(
        f"6341523{township:03d}{village:03d}0301{seq:02d}0401"
    ),
    st.integers(1, 999),
    st.integers(1, 999),
    st.integers(1, 99),
)
regions = st.sampled_from(
    ["340000000000", "341500000000", "341523000000", "341523100000", "341523100001", "000000000000"]
).map(lambda c: region_code(RegionCode(c)))
codes = st.lists(st.one_of(villages, regions), max_size=6).map(tuple)

emergencies = st.builds(
    Emergency,
    action=st.sampled_from(Action),
    ebmid=digits,
    event_type=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcz", min_size=5, max_size=5),
    level=st.integers(0, 15),
    frequency_khz=st.integers(0, 999_999),
    frequency_switch=st.integers(0, 3),
    drill=st.booleans(),
    alert_id=unicode_text,
    start_unix=uint32,
    end_unix=uint32,
)
texts = st.builds(
    Text,
    ebmid=digits,
    language=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=3),
    title=unicode_text,
    text=st.text(st.characters(exclude_categories=("Cs",)), max_size=300),
    part=st.just(0),
    parts=st.integers(1, 255),
)
certificates = st.builds(
    Certificates,
    st.lists(
        st.builds(CertificateEntry, serials, st.binary(min_size=64, max_size=64), uint32),
        min_size=1,
        max_size=5,
    ).map(tuple),
)
bodies = st.one_of(
    emergencies,
    texts,
    st.builds(TimeSync, uint32),
    certificates,
    st.builds(Revocations, st.lists(serials, min_size=1, max_size=20).map(tuple)),
    st.just(StatusQuery()),
)
packets = st.builds(Packet, codes, bodies)
profiles = st.builds(
    RdsProfile,
    pi=st.integers(1, 0xFFFF),
    aid=st.integers(1, 0xFFFF),
    group=st.sampled_from(ODA_GROUPS),
    tp=st.booleans(),
    pty=st.integers(0, 31),
)


@given(packets, uint32)
def test_bytes_round_trip(packet: Packet, signed_at: int) -> None:
    data = encode_packet(packet, FakeSigner().seal(signed_at))
    decoded = decode_packet(data)
    assert decoded.packet == packet
    assert decoded.seal.signed_at == signed_at
    assert decoded.raw == data


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(packets, min_size=1, max_size=4), profiles)
def test_group_text_round_trip(items: list[Packet], profile: RdsProfile) -> None:
    data = [encode_packet(p, FakeSigner().seal()) for p in items]
    decoded = decode_lines(profile.lines(data), aid=profile.aid, group=profile.group, pi=profile.pi)
    assert [d.packet for d in decoded if isinstance(d, SignedPacket)] == items
    assert not [d for d in decoded if isinstance(d, FmFormatError)]


@given(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=3000),
    unicode_text,
    st.integers(0, 40),
)
def test_long_texts_split_and_join(message: str, title: str, code_count: int) -> None:
    budget = body_budget(code_count)
    parts = split_text("1" * 35, "zho", title[:20], message, budget)
    assert "".join(p.text for p in parts) == message
    assert all(len(p.to_bytes()) <= budget for p in parts)
    assert [p.part for p in parts] == list(range(len(parts)))


START = encode_packet(
    Packet((), Emergency(Action.START, "1" * 35, "11B03", 2, 97_500, alert_id="a-1")),
    FakeSigner().seal(),
)
TEXT = encode_packet(Packet((), Text("1" * 35, "zho", "标题", "正文" * 20)), FakeSigner().seal())
LINES = RdsProfile(pi=0x3456).lines([START, TEXT])


@given(st.integers(0, len(LINES) - 1), st.data())
def test_no_single_bit_flip_yields_a_different_packet(index: int, data: st.DataObject) -> None:
    line = LINES[index]
    position = data.draw(st.integers(0, len(line) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = chr(ord(line[position]) ^ (1 << bit))
    lines = [*LINES[:index], line[:position] + flipped + line[position + 1 :], *LINES[index + 1 :]]
    decoded = decode_lines(lines)
    good = [d.raw for d in decoded if isinstance(d, SignedPacket)]
    assert set(good) <= {START, TEXT}, "a corrupted line produced a packet that was never sent"
    if len(good) < 2:
        assert any(isinstance(d, FmFormatError) for d in decoded), "a loss must be reported"


@given(
    st.integers(0, 31),
    st.binary(max_size=300),
    st.integers(0, 3),
    st.one_of(st.just(bytes(74)), st.binary(min_size=74, max_size=74)),
)
def test_any_bytes_with_a_good_crc_decode_or_raise_a_format_error(
    packet_type: int, body: bytes, count: int, block: bytes
) -> None:
    length = 1 + len(body) + 78
    head = (packet_type << 11 | length).to_bytes(2, "big") + bytes([count])
    data = head + body + block
    data += crc32_mpeg2(data).to_bytes(4, "big")
    with contextlib.suppress(FmFormatError):
        decode_packet(data)


@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            st.builds(
                "{:04X} {:04X} {:04X} {:04X}".format,
                st.integers(0, 0xFFFF),
                st.sampled_from([0xB010, 0xB001, 0xB00A, 0x3016, 0xB018]),
                st.integers(0, 0xFFFF),
                st.integers(0, 0xFFFF),
            ),
        ),
        max_size=60,
    )
)
def test_any_text_decodes_without_raising(lines: list[str]) -> None:
    for item in decode_lines(lines):
        assert isinstance(item, SignedPacket | FmFormatError)
