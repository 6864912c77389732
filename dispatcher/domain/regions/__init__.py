"""Region knowledge: the NBS 2023 table, target-area algebra and county geometry.

Pure and typed: no web, database or broker imports. The table and the shapes are read from
the package's own data files on first use, once per process (see docs/regions.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dispatcher.domain.regions._once import Once
from dispatcher.domain.regions.cover import Intersection
from dispatcher.domain.regions.errors import RegionError, ShapeError
from dispatcher.domain.regions.geometry import CountyShapes, Coverage
from dispatcher.domain.regions.model import CodeLike, Region
from dispatcher.domain.regions.shapes import (
    circle_shape,
    parse_cap_circle,
    parse_cap_polygon,
    polygon_shape,
)
from dispatcher.domain.regions.table import RegionTable
from protocols.codes import RegionCode, RegionLevel

__all__ = [
    "CodeLike",
    "CountyShapes",
    "Coverage",
    "Intersection",
    "Region",
    "RegionCode",
    "RegionError",
    "RegionLevel",
    "RegionTable",
    "ShapeError",
    "circle_shape",
    "county_at",
    "county_shape",
    "county_shapes",
    "intersect",
    "minimal_cover",
    "normalise",
    "parse_cap_circle",
    "parse_cap_polygon",
    "polygon_shape",
    "region_table",
    "resolve_circle",
    "resolve_polygon",
]

region_table = Once(RegionTable.load)
county_shapes = Once(CountyShapes.load)


def normalise(codes: Iterable[CodeLike] | str) -> list[RegionCode]:
    return region_table().normalise(codes)


def minimal_cover(codes: Iterable[CodeLike] | str) -> list[RegionCode]:
    return region_table().minimal_cover(codes)


def intersect(codes: Iterable[CodeLike] | str, jurisdiction: CodeLike) -> Intersection:
    return region_table().intersect(codes, jurisdiction)


def resolve_polygon(points: Sequence[tuple[float, float]]) -> list[RegionCode]:
    return county_shapes().resolve_polygon(points)


def resolve_circle(lat: float, lon: float, radius_km: float) -> list[RegionCode]:
    return county_shapes().resolve_circle(lat, lon, radius_km)


def county_at(lat: float, lon: float) -> RegionCode | None:
    return county_shapes().county_at(lat, lon)


def county_shape(code: CodeLike) -> Any:
    return county_shapes().county_shape(code)
