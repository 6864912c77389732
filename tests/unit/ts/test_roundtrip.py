"""encode -> decode gives back what went in, for every table and through the packetiser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.ts import (
    Certificates,
    Content,
    Depacketiser,
    Ebit,
    EbmEntry,
    Management,
    Packetiser,
    Table,
    decode_section,
    encode_certificates,
    encode_content,
    encode_ebit,
    encode_management,
    merge_content,
    merge_entries,
)
from protocols.ts.section import MAX_SECTION_BYTES
from tests.unit.ts import strategies as s
from tests.unit.ts.support import fake_sign

versions = st.integers(0, 31)
extensions = st.integers(0, 0xFFFF)


def _decode_all(sections: list[bytes]) -> list[Table]:
    tables: list[Table] = []
    for n, raw in enumerate(sections):
        assert len(raw) <= MAX_SECTION_BYTES
        section, table = decode_section(raw)
        assert (section.header.section_number, section.header.last_section_number) == (
            n,
            len(sections) - 1,
        )
        tables.append(table)
    return tables


@given(s.ebits, versions, extensions)
def test_ebit(ebit: Ebit, version: int, extension: int) -> None:
    tables = _decode_all(encode_ebit(ebit, version=version, sign=fake_sign, extension=extension))
    assert all(isinstance(t, Ebit) for t in tables)
    found = [e for t in tables if isinstance(t, Ebit) for e in t.entries]
    assert merge_entries(found) == ebit.entries


@given(s.contents, versions)
def test_content(content: Content, version: int) -> None:
    tables = _decode_all(encode_content(content, version=version, sign=fake_sign))
    assert merge_content([t for t in tables if isinstance(t, Content)]) == content


@given(s.certificates)
def test_certificates(table: Certificates) -> None:
    assert _decode_all(encode_certificates(table, version=0, sign=fake_sign)) == [table]


@given(s.managements)
def test_management(table: Management) -> None:
    assert _decode_all(encode_management(table, version=0, sign=fake_sign)) == [table]


@settings(max_examples=50)
@given(
    st.lists(s.entries, min_size=1, max_size=2, unique_by=lambda e: e.ebm_id), st.integers(340, 900)
)
def test_entries_too_big_for_one_section_are_split_and_merged(
    entries: list[EbmEntry], count: int
) -> None:
    from dataclasses import replace

    big = [replace(e, resource_codes=tuple(f"{n:023d}" for n in range(count))) for e in entries]
    sections = encode_ebit(Ebit(tuple(big)), version=0, sign=fake_sign)
    assert len(sections) > 1
    found = [e for t in _decode_all(sections) if isinstance(t, Ebit) for e in t.entries]
    assert merge_entries(found) == tuple(big)


@given(
    st.lists(st.binary(min_size=0, max_size=600), min_size=1, max_size=6),
    st.integers(0, 15),
    st.integers(0, 0x1FFE),
)
def test_packets(bodies: list[bytes], continuity: int, pid: int) -> None:
    """Any section lengths, any starting counter: the same sections come out, in order."""
    sections = []
    for n, body in enumerate(bodies):
        sections += encode_management(
            Management(), version=n % 32, sign=fake_sign, extension=len(body)
        )
    packetiser = Packetiser(pid, continuity=continuity)
    depacketiser = Depacketiser(pid)
    out: list[object] = []
    for _ in range(2):  # twice: the counter runs on across bursts
        for packet in packetiser.packetise(sections):
            assert len(packet) == 188
            out += depacketiser.feed(packet)
    assert out == sections * 2


@given(st.lists(st.integers(88, 700), min_size=1, max_size=8))
def test_packets_with_any_section_lengths(lengths: list[int]) -> None:
    """Raw sections of every length (valid CRCs) cross packet borders at every offset."""
    from protocols.ts.crc import crc32_mpeg2

    sections = []
    for n, total in enumerate(lengths):
        body = bytes([0xFD, 0xB0 | ((total - 3) >> 8), (total - 3) & 0xFF]) + bytes([n % 256]) * (
            total - 7
        )
        sections.append(body + crc32_mpeg2(body).to_bytes(4, "big"))
    depacketiser = Depacketiser(0x22)
    out = [x for p in Packetiser(0x22).packetise(sections) for x in depacketiser.feed(p)]
    assert out == sections
