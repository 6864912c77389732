"""Identifier value types: validation, levels, containment and BCD packing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.codes import (
    EBDID,
    EBMID,
    CertSN,
    RegionCode,
    RegionLevel,
    ResourceCode,
    pack_bcd,
    unpack_bcd,
)
from protocols.errors import CodeError


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("000000000000", RegionLevel.NATIONAL),
        ("340000000000", RegionLevel.PROVINCE),
        ("341500000000", RegionLevel.CITY),
        ("341523000000", RegionLevel.COUNTY),
        ("341523100000", RegionLevel.TOWNSHIP),
        ("341523100201", RegionLevel.VILLAGE),
    ],
)
def test_level_follows_the_zero_pattern(code: str, level: RegionLevel) -> None:
    assert RegionCode(code).level is level


@pytest.mark.parametrize(
    "bad", ["34152300000", "3415230000000", "34152300000a", "", "００００００００００００"]
)
def test_region_code_refuses_wrong_length_or_characters(bad: str) -> None:
    with pytest.raises(CodeError, match="12 decimal digits"):
        RegionCode(bad)


def test_region_code_refuses_a_part_below_a_zero_part() -> None:
    with pytest.raises(CodeError, match="non-zero part below a zero part"):
        RegionCode("340023000000")


def test_parent_chain_of_a_county() -> None:
    county = RegionCode.parse("341523")
    assert county.value == "341523000000"
    assert [c.value for c in county.ancestors()] == ["341500000000", "340000000000", "000000000000"]
    assert RegionCode("000000000000").parent is None


def test_containment_by_significant_digits() -> None:
    province = RegionCode("340000000000")
    county = RegionCode("341523000000")
    other = RegionCode("320000000000")
    assert province.contains(county)
    assert not county.contains(province)
    assert not other.contains(county)
    assert RegionCode("000000000000").contains(county)


def test_parse_accepts_nbs_lengths_only() -> None:
    assert RegionCode.parse("341523100").level is RegionLevel.TOWNSHIP
    with pytest.raises(CodeError):
        RegionCode.parse("3415231")


def test_ebrid_examples_from_the_standard() -> None:
    platform = ResourceCode("23400000000000101010101")
    adapter = ResourceCode("43415230000000314010201")
    terminal = ResourceCode("63415230000000314010400")
    assert platform.level is RegionLevel.PROVINCE
    assert platform.describe() == "platform platform/system"
    assert adapter.region.value == "341523000000"
    assert adapter.describe() == "loudspeaker system adapter"
    assert terminal.subtype == "04"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("73415230000000314010201", "level digit"),
        ("23415230000000314010201", "cannot carry"),
        ("43415230000000999010201", "unknown resource type"),
        ("43415230000000314010901", "unknown subtype"),
    ],
)
def test_ebrid_refusals_name_the_part(bad: str, reason: str) -> None:
    with pytest.raises(CodeError, match=reason):
        ResourceCode(bad)


def test_bcd_packing_of_codes_matches_the_bearer_layout() -> None:
    ebrid = ResourceCode("43415230000000314010201")
    assert ebrid.to_bcd() == bytes.fromhex("f43415230000000314010201")
    ebmid = EBMID.build(ebrid, dt.date(2026, 11, 27), 12)
    packed = ebmid.to_bcd()
    assert len(packed) == 18 and packed[0] >> 4 == 0xF
    assert EBMID.from_bcd(packed) == ebmid
    assert CertSN("123456789012").to_bcd() == bytes.fromhex("123456789012")


def test_unpack_bcd_refuses_bad_nibbles() -> None:
    with pytest.raises(CodeError, match="pad nibble"):
        unpack_bcd(bytes.fromhex("043415230000000314010201"), 23)
    with pytest.raises(CodeError, match="non-decimal"):
        unpack_bcd(bytes.fromhex("1A"), 2)
    with pytest.raises(CodeError, match="needs 6 bytes"):
        unpack_bcd(b"\x12", 12)


def test_ebmid_parts_and_calendar_check() -> None:
    ebmid = EBMID("43415230000000314010201202611270007")
    assert ebmid.day == dt.date(2026, 11, 27)
    assert ebmid.sequence == 7
    with pytest.raises(CodeError, match="calendar date"):
        EBMID("43415230000000314010201202602300007")


def test_ebdid_parts() -> None:
    source = ResourceCode("23400000000000101010101")
    ebdid = EBDID.build(source, dt.date(2026, 11, 27), 42)
    assert len(ebdid.value) == 41
    assert ebdid.source == source
    assert ebdid.serial == "2026112700000042"


@given(st.text(alphabet="0123456789", min_size=1, max_size=40))
def test_bcd_round_trip(digits: str) -> None:
    assert unpack_bcd(pack_bcd(digits), len(digits)) == digits


_region = st.builds(
    lambda p, c, x, t, v, depth: "".join(
        part if i < depth else "0" * len(part) for i, part in enumerate((p, c, x, t, v))
    ),
    st.from_regex(r"[1-9][0-9]", fullmatch=True),
    st.from_regex(r"[0-9][1-9]", fullmatch=True),
    st.from_regex(r"[0-9][1-9]", fullmatch=True),
    st.from_regex(r"[0-9]{2}[1-9]", fullmatch=True),
    st.from_regex(r"[0-9]{2}[1-9]", fullmatch=True),
    st.integers(min_value=0, max_value=5),
)


@given(_region)
def test_every_ancestor_contains_the_code(value: str) -> None:
    code = RegionCode(value)
    for ancestor in code.ancestors():
        assert ancestor.contains(code)
        assert ancestor.level < code.level
    assert code.contains(code)


def test_township_directly_under_a_prefecture_city() -> None:
    # 东莞 has no counties: its townships carry a zero county part.
    township = RegionCode.parse("441900003")
    assert township.level is RegionLevel.TOWNSHIP
    assert township.parent == RegionCode("441900000000")
    assert RegionCode("441900000000").level is RegionLevel.CITY
    assert RegionCode("441900000000").contains(township)
