"""County boundaries: which counties a CAP polygon or circle touches, and where a point lies.

Shapes come from the shipped data/counties.bin.gz (see build_data.py and docs/regions.md).
A shape the NBS table does not list (Hong Kong, Macau, Taiwan, three Gansu reserves) is
never returned as a county: it is reported in ``Coverage.unlisted`` so a caller can tell
"touches ground we cannot address" from "touches nothing".
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from shapely.strtree import STRtree

from dispatcher.domain.regions import codec
from dispatcher.domain.regions.errors import RegionError
from dispatcher.domain.regions.model import CodeLike, as_key
from dispatcher.domain.regions.shapes import circle_shape, polygon_shape
from protocols.codes import RegionCode

DATA_FILE = "counties.bin.gz"


@dataclass(frozen=True, slots=True)
class Coverage:
    """Listed county-level codes whose boundary meets a shape, sorted, and the (6-digit code,
    name) of unlisted shapes it also meets."""

    counties: list[RegionCode]
    unlisted: list[tuple[str, str]]


class CountyShapes:
    """The county polygons (lon/lat, CGCS2000 = WGS-84 to within a metre) in an STRtree."""

    def __init__(self, header: dict[str, Any], geometries: Sequence[Any]) -> None:
        entries: list[list[Any]] = header["shapes"]
        if len(entries) != len(geometries):
            raise ValueError("county-shape header and geometry count differ")
        self.metadata = {k: v for k, v in header.items() if k != "shapes"}
        self._six = [str(e[0]) for e in entries]
        self._names = [str(e[1]) for e in entries]
        self._listed = [bool(e[2]) for e in entries]
        self._geometries = list(geometries)
        self._tree = STRtree(self._geometries)
        self._index = {six.ljust(12, "0"): i for i, six in enumerate(self._six)}

    @classmethod
    def load(cls) -> CountyShapes:
        data = resources.files("dispatcher.domain.regions").joinpath("data", DATA_FILE)
        header, geometries = codec.decode(gzip.decompress(data.read_bytes()))
        return cls(header, geometries)

    def __len__(self) -> int:
        return len(self._geometries)

    def codes(self) -> list[RegionCode]:
        """The listed county-level codes that have a shape."""
        return sorted(
            RegionCode(s.ljust(12, "0"))
            for s, ok in zip(self._six, self._listed, strict=True)
            if ok
        )

    def without_shape(self) -> list[tuple[str, str, str]]:
        """NBS county-level units no shape stands for: (6-digit code, name, reason)."""
        return [(str(c), str(n), str(r)) for c, n, r in self.metadata["gaps"]["nbs_without_shape"]]

    def cover(self, geometry: Any) -> Coverage:
        """Every shape that intersects ``geometry`` (lon/lat), touching included."""
        hits = sorted(int(i) for i in self._tree.query(geometry, predicate="intersects"))
        counties = sorted(RegionCode(self._six[i].ljust(12, "0")) for i in hits if self._listed[i])
        unlisted = sorted((self._six[i], self._names[i]) for i in hits if not self._listed[i])
        return Coverage(counties, unlisted)

    def resolve_polygon(self, points: Sequence[tuple[float, float]]) -> list[RegionCode]:
        """County codes a CAP polygon of (lat, lon) pairs touches."""
        return self.cover(polygon_shape(points)).counties

    def resolve_circle(self, lat: float, lon: float, radius_km: float) -> list[RegionCode]:
        """County codes a CAP circle touches."""
        return self.cover(circle_shape(lat, lon, radius_km)).counties

    def county_at(self, lat: float, lon: float) -> RegionCode | None:
        """The listed county holding the point; on a shared border the lower code wins;
        None at sea, abroad, or in an unlisted shape."""
        counties = self.cover(circle_shape(lat, lon, 0)).counties
        return counties[0] if counties else None

    def county_shape(self, code: CodeLike) -> Any:
        """The county's (Multi)Polygon in lon/lat, for drawing; RegionError when none."""
        key = as_key(code)
        index = self._index.get(key)
        if index is None:
            raise RegionError(
                f"no county shape for {key}: only county-level codes with a "
                "polygon have one (see docs/regions.md, known gaps)"
            )
        return self._geometries[index]
