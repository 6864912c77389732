"""CAP circles and polygons resolved to counties on the shipped boundaries."""

from __future__ import annotations

import itertools
import math

import pytest
import shapely

from dispatcher.domain.regions import (
    CountyShapes,
    RegionError,
    RegionTable,
    ShapeError,
    circle_shape,
    county_at,
    county_shape,
    parse_cap_circle,
    parse_cap_polygon,
    polygon_shape,
    resolve_circle,
    resolve_polygon,
)
from protocols.codes import RegionCode

SHUCHENG_CENTRE = (31.3066, 116.8176)  # centroid of the 舒城县 polygon (lat, lon)


def codes(found: list[RegionCode]) -> set[str]:
    return {c.value[:6] for c in found}


def test_a_small_circle_inside_shucheng_gives_shucheng() -> None:
    assert resolve_circle(*SHUCHENG_CENTRE, 5) == [RegionCode("341523000000")]


def test_a_30_km_circle_reaches_the_neighbours_of_shucheng() -> None:
    found = codes(resolve_circle(*SHUCHENG_CENTRE, 30))
    # 金安区, 桐城市, 肥西县, 庐江县 share a border with 舒城县 and lie within ~25 km of its centre.
    assert {"341523", "341502", "340881", "340123", "340124"} <= found
    assert "110101" not in found and "460105" not in found  # Beijing, Haikou
    assert found <= {
        "341523",
        "341502",
        "340881",
        "340123",
        "340124",
        "340828",
        "341525",
        "340882",
        "341503",
    }


def test_a_polygon_around_central_beijing() -> None:
    box = [(39.89, 116.37), (39.92, 116.37), (39.92, 116.42), (39.89, 116.42), (39.89, 116.37)]
    assert codes(resolve_polygon(box)) == {"110101", "110102"}


def test_a_polygon_inside_shucheng_and_an_unclosed_ring_is_closed() -> None:
    ring = [(31.25, 116.75), (31.35, 116.75), (31.35, 116.88), (31.25, 116.88)]
    assert codes(resolve_polygon(ring)) == {"341523"}
    assert resolve_polygon([*ring, ring[0]]) == resolve_polygon(ring)


def test_a_self_intersecting_polygon_keeps_both_lobes() -> None:
    bowtie = [(39.89, 116.37), (39.92, 116.42), (39.89, 116.42), (39.92, 116.37)]
    shape = polygon_shape(bowtie)
    assert shape.is_valid and shape.area > 0
    assert codes(resolve_polygon(bowtie)) == {"110101", "110102"}


@pytest.mark.parametrize(
    ("lat", "lon", "county"),
    [
        (*SHUCHENG_CENTRE, "341523"),
        (31.2304, 121.4737, "310101"),  # 人民广场, 黄浦区
        (29.6578, 91.1169, "540102"),  # 布达拉宫, 拉萨 城关区
        (23.02, 113.75, "441900"),  # 东莞: a city without counties answers with its own code
        (29.21, 94.21, "540481"),  # 米林市, drawn under its old code 540422
        # The Dongcheng/Xicheng border south of Tiananmen follows the central axis, which is at
        # lon 116.391 in WGS-84; in GCJ-02 ("Mars") coordinates it would sit near 116.397.
        (39.89, 116.3955, "110101"),
        (39.89, 116.388, "110102"),
    ],
)
def test_county_at_known_points(lat: float, lon: float, county: str) -> None:
    assert county_at(lat, lon) == RegionCode(county.ljust(12, "0"))


def test_county_at_sea_and_in_unlisted_ground_is_none(shapes: CountyShapes) -> None:
    assert county_at(30.0, 125.0) is None  # East China Sea
    assert county_at(22.28, 114.16) is None  # Hong Kong: drawn, but not in the NBS table
    found = shapes.cover(circle_shape(22.28, 114.16, 0))
    assert found.counties == [] and found.unlisted == [("810101", "中西区")]


def test_radius_zero_is_the_point() -> None:
    assert resolve_circle(*SHUCHENG_CENTRE, 0) == [RegionCode("341523000000")]


def test_county_shape_for_drawing() -> None:
    shape = county_shape("341523")
    assert shape.geom_type == "MultiPolygon" and shape.is_valid
    assert shape.contains(shapely.Point(SHUCHENG_CENTRE[1], SHUCHENG_CENTRE[0]))
    with pytest.raises(RegionError, match="no county shape"):
        county_shape("130171")  # statistical-only: no polygon


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@pytest.mark.parametrize(
    ("lat", "lon", "radius"), [(31.3, 116.8, 30), (18, 110, 500), (45, 120, 2000)]
)
def test_the_circle_boundary_stays_within_the_documented_bound(
    lat: float, lon: float, radius: float
) -> None:
    ring = list(circle_shape(lat, lon, radius).exterior.coords)
    ratios = [
        _km((lat, lon), (y1 + (y2 - y1) * f, x1 + (x2 - x1) * f)) / radius
        for (x1, y1), (x2, y2) in itertools.pairwise(ring)
        for f in (0, 0.25, 0.5, 0.75)
    ]
    assert min(ratios) >= 0.9994
    assert max(ratios) <= 1.001


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((31.0, 116.0, -1), "0 or more"),
        ((31.0, 116.0, float("nan")), "0 or more"),
        ((31.0, 116.0, 2500), "limit"),
        ((95.0, 116.0, 10), "latitude"),
        ((31.0, 196.0, 10), "longitude"),
        ((85.0, 0.0, 1000), "pole"),
    ],
)
def test_bad_circles_are_refused(args: tuple[float, float, float], message: str) -> None:
    with pytest.raises(ShapeError, match=message) as caught:
        circle_shape(*args)
    assert caught.value.code == "invalid-shape"


def test_lon_lat_order_mistakes_and_degenerate_polygons_are_refused() -> None:
    with pytest.raises(ShapeError, match="CAP order is lat,lon"):
        polygon_shape([(116.75, 31.25), (116.75, 31.35), (116.88, 31.35)])
    with pytest.raises(ShapeError, match="3 distinct"):
        polygon_shape([(31.0, 116.0), (31.1, 116.0), (31.0, 116.0)])
    with pytest.raises(ShapeError, match="no area"):
        polygon_shape([(31.0, 116.0), (31.1, 116.0), (31.2, 116.0)])


def test_cap_text_forms() -> None:
    assert parse_cap_circle(" 31.3 , 116.8  30 ") == (31.3, 116.8, 30.0)
    assert parse_cap_polygon("31.25,116.75 31.35, 116.75\n31.35,116.88") == [
        (31.25, 116.75),
        (31.35, 116.75),
        (31.35, 116.88),
    ]
    for bad in ("31.3,116.8", "31.3 116.8 30", "a,b 3"):
        with pytest.raises(ShapeError):
            parse_cap_circle(bad)
    for bad in ("", "31.2;116.7 1,2 3,4", "31,116,5 1,2 3,4", "x,1 1,2 3,4"):
        with pytest.raises(ShapeError):
            parse_cap_polygon(bad)


def test_every_listed_shape_is_a_table_county_and_the_gaps_are_accounted_for(
    shapes: CountyShapes, table: RegionTable
) -> None:
    drawn = {c.value for c in shapes.codes()}
    assert all(table.exists(c) for c in drawn)
    six_digit = {
        c.value[:6] for c in table.codes() if c.value[6:] == "000000" and c.value[4:6] != "00"
    } | {"441900", "442000", "460400"}
    missing = {code for code, _, _ in shapes.without_shape()}
    assert {c[:6] for c in drawn} | missing == six_digit
    assert not {c[:6] for c in drawn} & missing
    statistical = [c for c, _, why in shapes.without_shape() if why.startswith("statistical")]
    assert len(statistical) == 124 and len(missing) == 129
    assert len(shapes) - len(drawn) == 42  # Taiwan 20, Hong Kong 18, Macau 1, Gansu reserves 3
