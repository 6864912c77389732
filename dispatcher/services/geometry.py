"""CAP polygons and circles -> county region codes, through the packaged county boundaries."""

from __future__ import annotations

from collections.abc import Sequence

from protocols.codes import RegionCode


class CountyGeometry:
    """GeometryResolver over dispatcher.domain.regions; boundaries load on first use."""

    def resolve_polygon(self, points: Sequence[tuple[float, float]]) -> list[RegionCode]:
        from dispatcher.domain.regions import resolve_polygon

        return list(resolve_polygon(list(points)))

    def resolve_circle(self, lat: float, lon: float, radius_km: float) -> list[RegionCode]:
        from dispatcher.domain.regions import resolve_circle

        return list(resolve_circle(lat, lon, radius_km))
