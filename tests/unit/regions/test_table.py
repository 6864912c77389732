"""Lookups on the shipped NBS 2023 table."""

from __future__ import annotations

import pytest

from dispatcher.domain.regions import Region, RegionError, RegionTable, region_table
from dispatcher.domain.regions.model import parent_key, significant_length
from protocols.codes import RegionCode, RegionLevel
from protocols.errors import CodeError, ProtocolError

SHUCHENG = RegionCode("341523000000")


def test_shucheng_has_the_chain_anhui_luan(table: RegionTable) -> None:
    region = table.get("341523")
    assert region == Region(SHUCHENG, "舒城县", RegionLevel.COUNTY)
    assert [(p.code.value, p.name) for p in table.parents(SHUCHENG)] == [
        ("340000000000", "安徽省"),
        ("341500000000", "六安市"),
    ]
    assert [r.name for r in table.chain("341523000000")] == ["安徽省", "六安市", "舒城县"]


@pytest.mark.parametrize("text", ["341523", "341523000", "341523000000", " 341523 "])
def test_six_nine_and_twelve_digit_forms_are_the_same_region(table: RegionTable, text: str) -> None:
    assert table.get(text).code == SHUCHENG


def test_the_table_is_loaded_once_and_has_every_row(table: RegionTable) -> None:
    assert region_table() is table
    # 31 + 342 + 2,978 + 41,352 NBS rows + the root, less four rows that pad to a row above.
    assert len(table) == 44_700
    assert len(table.codes(RegionLevel.PROVINCE)) == 31
    assert len(table.codes(RegionLevel.CITY)) == 342
    assert len(table.codes(RegionLevel.COUNTY)) == 2_975
    assert len(table.codes(RegionLevel.TOWNSHIP)) == 41_351


def test_unknown_codes_raise_a_region_error_with_a_stable_code(table: RegionTable) -> None:
    with pytest.raises(RegionError) as caught:
        table.get("341599")
    assert caught.value.code == "unknown-region"
    assert isinstance(caught.value, ProtocolError) and isinstance(caught.value, ValueError)
    assert "341599000000" in caught.value.message
    assert not table.exists("341599")


def test_malformed_codes_raise_code_errors_and_do_not_exist(table: RegionTable) -> None:
    with pytest.raises(CodeError):
        table.get("34152")
    assert not table.exists("abc")
    assert not table.exists("341523x")


def test_a_village_is_accepted_when_its_township_exists(table: RegionTable) -> None:
    village = table.get("341523100201")
    assert village.level is RegionLevel.VILLAGE and village.name is None
    assert [p.name for p in table.parents(village.code)] == ["安徽省", "六安市", "舒城县", "城关镇"]
    assert table.exists("341523100201")
    assert table.contains("341523100000", "341523100201")
    assert table.children("341523100201") == []


def test_a_village_under_an_unknown_township_is_refused(table: RegionTable) -> None:
    assert not table.exists("341523999201")
    with pytest.raises(RegionError, match="township 341523999"):
        table.get("341523999201")


def test_the_national_root(table: RegionTable) -> None:
    root = table.get("000000000000")
    assert (root.name, root.level) == ("全国", RegionLevel.NATIONAL)
    assert table.parents(root.code) == []
    assert len(table.children(root.code)) == 31
    assert table.find("中华人民共和国")[0].code == root.code
    assert table.contains(root.code, "341523100201")


def test_province_children_and_townships(table: RegionTable) -> None:
    assert [c.name for c in table.children("3415")] == [
        "金安区",
        "裕安区",
        "叶集区",
        "霍邱县",
        "舒城县",
        "金寨县",
        "霍山县",
    ]
    townships = table.children(SHUCHENG)
    assert all(t.level is RegionLevel.TOWNSHIP for t in townships)
    assert "城关镇" in {t.name for t in townships}
    assert table.children("341523100") == []


def test_city_level_mu_xia_qu_rows_are_kept(table: RegionTable) -> None:
    beijing_city = table.get("1101")
    assert (beijing_city.name, beijing_city.level) == ("市辖区", RegionLevel.CITY)
    assert table.get("110101").name == "东城区"
    assert [p.name for p in table.parents("110101")] == ["北京市", "市辖区"]


def test_statistical_only_counties_are_kept(table: RegionTable) -> None:
    zone = table.get("130171")
    assert zone.name == "石家庄高新技术产业开发区" and zone.level is RegionLevel.COUNTY
    assert table.children(zone.code)


def test_cities_without_counties_keep_one_node_with_townships_below(table: RegionTable) -> None:
    dongguan = table.get("441900")
    assert (dongguan.name, dongguan.level) == ("东莞市", RegionLevel.CITY)
    first = table.children(dongguan.code)[0]
    assert first.level is RegionLevel.TOWNSHIP
    assert [p.name for p in table.parents(first.code)] == ["广东省", "东莞市"]
    kinmen = table.get("350527")
    assert kinmen.name == "金门县" and table.children(kinmen.code) == []


def test_find_puts_exact_names_first(table: RegionTable) -> None:
    found = table.find("舒城县")
    assert found[0].code == SHUCHENG
    assert all("舒城县" in (r.name or "") for r in found)
    assert table.find("舒城")[0].code == SHUCHENG  # shortest (highest) first among partials


def test_find_scoped_within_a_region(table: RegionTable) -> None:
    everywhere = table.find("城关镇")
    inside = table.find("城关镇", within="341523")
    assert len(everywhere) > 50
    assert [r.code.value for r in inside] == ["341523100000"]
    assert table.find("鼓楼区", within="32") and all(
        r.code.value.startswith("32") for r in table.find("鼓楼区", within="32")
    )


def test_find_without_matches_and_with_an_empty_name(table: RegionTable) -> None:
    assert table.find("不存在的地方") == []
    with pytest.raises(RegionError):
        table.find("  ")


def test_contains_needs_known_codes(table: RegionTable) -> None:
    assert table.contains("34", "341523100")
    assert not table.contains("341523", "34")
    with pytest.raises(RegionError):
        table.contains("34", "341599")


def test_region_as_dict() -> None:
    region = Region(SHUCHENG, "舒城县", RegionLevel.COUNTY)
    assert region.as_dict() == {"code": "341523000000", "name": "舒城县", "level": "county"}


def test_key_arithmetic_agrees_with_region_code(table: RegionTable) -> None:
    for code in table.codes():
        parent = code.parent
        assert parent_key(code.value) == (parent.value if parent else None)
        assert significant_length(code.value) == len(code.significant)
    village = RegionCode("341523100201")
    assert parent_key(village.value) == "341523100000"


def test_a_row_without_its_parent_is_reported_as_corrupt_data() -> None:
    broken = RegionTable([("34", "安徽省"), ("341523", "舒城县")])
    assert broken.get("341523").name == "舒城县"
    with pytest.raises(RegionError, match="corrupt"):
        broken.children("34")
