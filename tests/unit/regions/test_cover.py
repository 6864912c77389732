"""Containment and target-set algebra, by example and as properties over the real table."""

from __future__ import annotations

from bisect import bisect_left
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.domain.regions import (
    RegionError,
    RegionTable,
    intersect,
    minimal_cover,
    normalise,
    region_table,
)
from protocols.codes import RegionCode, RegionLevel

TABLE = region_table()
ALL = TABLE.codes()
PARENTS = [c for c in ALL if TABLE.child_keys(c.value)]
LEAVES = sorted(c.value for c in ALL if not TABLE.child_keys(c.value))
codes = st.sampled_from(ALL)


@cache
def leaves_under(key: str) -> frozenset[str]:
    prefix = RegionCode(key).significant
    start = bisect_left(LEAVES, prefix)
    end = start
    while end < len(LEAVES) and LEAVES[end].startswith(prefix):
        end += 1
    return frozenset(LEAVES[start:end])


def leaves(keys: list[RegionCode]) -> frozenset[str]:
    out: set[str] = set()
    for code in keys:
        out |= leaves_under(code.value)
    return frozenset(out)


@st.composite
def families(draw: st.DrawFn) -> list[RegionCode]:
    """A node's children, some of them replaced by all of their own children, some dropped:
    inputs where rolling up matters."""
    node = draw(st.sampled_from(PARENTS))
    picked: list[RegionCode] = []
    for child in TABLE.child_keys(node.value):
        how = draw(st.sampled_from(["keep", "keep", "split", "drop"]))
        grandchildren = TABLE.child_keys(child)
        if how == "split" and grandchildren:
            picked.extend(RegionCode(k) for k in grandchildren)
        elif how != "drop":
            picked.append(RegionCode(child))
    return picked + draw(st.lists(codes, max_size=3))


target_lists = st.one_of(st.lists(codes, max_size=12), families())


@st.composite
def chains(draw: st.DrawFn) -> list[RegionCode]:
    code = draw(codes)
    return [RegionCode("0" * 12), *(r.code for r in TABLE.chain(code))]


@given(chains(), st.data())
def test_an_ancestor_contains_its_descendants(chain: list[RegionCode], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(chain) - 1))
    j = data.draw(st.integers(i, len(chain) - 1))
    assert TABLE.contains(chain[i], chain[j])
    if i != j:
        assert not TABLE.contains(chain[j], chain[i])


@given(codes)
def test_contains_is_reflexive(code: RegionCode) -> None:
    assert TABLE.contains(code, code)


@given(chains(), st.data())
def test_contains_is_transitive(chain: list[RegionCode], data: st.DataObject) -> None:
    a, b, c = sorted(data.draw(st.lists(st.integers(0, len(chain) - 1), min_size=3, max_size=3)))
    assert TABLE.contains(chain[a], chain[b]) and TABLE.contains(chain[b], chain[c])
    assert TABLE.contains(chain[a], chain[c])


@given(codes, codes, codes)
def test_contains_is_transitive_on_any_triple(a: RegionCode, b: RegionCode, c: RegionCode) -> None:
    if TABLE.contains(a, b) and TABLE.contains(b, c):
        assert TABLE.contains(a, c)


@given(st.sampled_from(PARENTS), st.data())
def test_siblings_do_not_contain_each_other(parent: RegionCode, data: st.DataObject) -> None:
    kids = TABLE.child_keys(parent.value)
    if len(kids) < 2:
        return
    a, b = data.draw(st.lists(st.sampled_from(kids), min_size=2, max_size=2, unique=True))
    assert not TABLE.contains(a, b) and not TABLE.contains(b, a)


@settings(deadline=None)
@given(target_lists)
def test_minimal_cover_properties(targets: list[RegionCode]) -> None:
    cover = minimal_cover(targets)
    assert cover == sorted(cover)
    assert leaves(cover) == leaves(targets)
    assert len(cover) <= len(set(targets))
    for a in cover:
        assert not any(a != b and a.contains(b) for b in cover)
    present = {c.value for c in cover}
    for parent in {c.parent for c in cover if c.parent is not None}:
        kids = TABLE.child_keys(parent.value)
        assert not (kids and present.issuperset(kids)), f"{parent} should have replaced them"
    assert minimal_cover(cover) == cover


def test_complete_children_roll_up_recursively(table: RegionTable) -> None:
    luan = table.get("3415").code
    counties = [c.code for c in table.children(luan)]
    parts = [t.code for county in counties for t in table.children(county)]
    assert minimal_cover(parts) == [luan]
    # Without one township of the first county only the other counties roll up.
    first_county = [t.code for t in table.children(counties[0])]
    beijing = RegionCode("110101000000")
    assert minimal_cover([*parts[1:], beijing]) == sorted(
        [*first_county[1:], *counties[1:], beijing]
    )


def test_minimal_cover_drops_contained_codes_and_keeps_villages_alone() -> None:
    got = minimal_cover(["341523", "341523100", "341523100201", "341524100201"])
    assert [c.value for c in got] == ["341523000000", "341524100201"]


def test_all_provinces_make_the_nation() -> None:
    assert minimal_cover(TABLE.codes(RegionLevel.PROVINCE)) == [RegionCode("0" * 12)]


def test_normalise_validates_and_deduplicates() -> None:
    assert [c.value for c in normalise(["341523", "341523000000", "34"])] == [
        "340000000000",
        "341523000000",
    ]
    assert normalise("341523000000, 341524000000 341523") == [
        RegionCode("341523000000"),
        RegionCode("341524000000"),
    ]
    with pytest.raises(RegionError) as caught:
        normalise(["341599", "12x", "341523"])
    assert "341599000000" in caught.value.message and "12x" in caught.value.message


def test_intersect_narrows_to_the_jurisdiction() -> None:
    result = intersect(["34", "341523100", "110101", "341524"], "341523")
    assert [c.value for c in result.codes] == ["341523000000", "341523100000"]
    assert [c.value for c in result.dropped] == ["110101000000", "341524000000"]
    with pytest.raises(RegionError):
        intersect(["34"], "341599")
