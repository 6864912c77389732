"""Region knowledge for intake: which codes exist, their minimal cover, and CAP polygons and
circles resolved to counties through the packaged county boundaries."""

from __future__ import annotations

from collections.abc import Sequence

from dispatcher.domain import regions
from protocols.codes import RegionCode


class PackagedRegions:
    """RegionKnowledge over dispatcher.domain.regions; table and shapes load on first use."""

    def exists(self, code: RegionCode) -> bool:
        return regions.region_table().exists(code)

    def minimal_cover(self, codes: Sequence[RegionCode]) -> list[RegionCode]:
        return regions.minimal_cover(codes)

    def resolve_polygon(self, points: Sequence[tuple[float, float]]) -> list[RegionCode]:
        return list(regions.resolve_polygon(list(points)))

    def resolve_circle(self, lat: float, lon: float, radius_km: float) -> list[RegionCode]:
        return list(regions.resolve_circle(lat, lon, radius_km))
