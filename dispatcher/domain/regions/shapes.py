"""CAP areas (polygon, circle) as shapely geometry in lon/lat, and their text forms.

CAP writes points as "lat,lon"; shapely wants (x=lon, y=lat): the swap happens here only.

The circle is drawn on a sphere of the mean Earth radius by the direct geodesic formula
(i.e. the inverse azimuthal-equidistant projection around the centre), as a 72-gon pushed
out by 1/cos(pi/72) so that it errs on the inclusive side. Measured against the spherical
distance its boundary lies within -0.06 % .. +0.1 % of the radius at the 2,000 km limit
(-0.003 % at 500 km, where lon/lat edges still follow great circles closely); the sphere
itself differs from the WGS-84 ellipsoid by under 0.5 % of a distance. A shape crossing
the 180th meridian or a pole is not supported.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import shapely

from dispatcher.domain.regions.errors import ShapeError

EARTH_RADIUS_KM = 6371.0088
MAX_RADIUS_KM = 2000.0
MAX_POINTS = 20_000
CIRCLE_VERTICES = 72
_COMMA = re.compile(r"\s*,\s*")


def _point(lat: float, lon: float, where: str) -> tuple[float, float]:
    try:
        y, x = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{where}: latitude and longitude must be numbers") from exc
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ShapeError(f"{where}: latitude and longitude must be finite")
    if not -90 <= y <= 90:
        raise ShapeError(f"{where}: latitude {y} is outside -90..90 (CAP order is lat,lon)")
    if not -180 <= x <= 180:
        raise ShapeError(f"{where}: longitude {x} is outside -180..180")
    return x, y


def polygon_shape(points: Sequence[tuple[float, float]]) -> Any:
    """A CAP polygon of (lat, lon) pairs. Lenient where meaning is clear: an unclosed ring
    is closed and a self-intersecting one is repaired (shapely make_valid keeps every lobe)."""
    if len(points) > MAX_POINTS:
        raise ShapeError(f"polygon has {len(points)} points; at most {MAX_POINTS} are accepted")
    ring: list[tuple[float, float]] = []
    for index, (lat, lon) in enumerate(points, 1):
        xy = _point(lat, lon, f"polygon point {index}")
        if not ring or ring[-1] != xy:
            ring.append(xy)
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    if len(set(ring)) < 3:
        raise ShapeError("polygon needs at least 3 distinct points")
    polygon = shapely.Polygon(ring)
    if not polygon.is_valid:
        polygon = shapely.make_valid(polygon)
    if polygon.area == 0:
        raise ShapeError("polygon encloses no area (its points are in a line)")
    return polygon


def circle_shape(lat: float, lon: float, radius_km: float) -> Any:
    """A CAP circle; radius 0 is the centre point itself."""
    x, y = _point(lat, lon, "circle centre")
    try:
        radius = float(radius_km)
    except (TypeError, ValueError) as exc:
        raise ShapeError("circle radius must be a number of kilometres") from exc
    if not math.isfinite(radius) or radius < 0:
        raise ShapeError(f"circle radius must be 0 or more kilometres, got {radius_km}")
    if radius > MAX_RADIUS_KM:
        raise ShapeError(f"circle radius {radius} km is over the {MAX_RADIUS_KM:g} km limit")
    if radius == 0:
        return shapely.Point(x, y)
    reach = radius / math.cos(math.pi / CIRCLE_VERTICES) / EARTH_RADIUS_KM
    if math.degrees(reach) >= 90 - abs(y):
        raise ShapeError("circle reaches a pole; not supported")
    phi, lam = math.radians(y), math.radians(x)
    vertices = []
    for k in range(CIRCLE_VERTICES):
        bearing = 2 * math.pi * k / CIRCLE_VERTICES
        phi2 = math.asin(
            math.sin(phi) * math.cos(reach) + math.cos(phi) * math.sin(reach) * math.cos(bearing)
        )
        lam2 = lam + math.atan2(
            math.sin(bearing) * math.sin(reach) * math.cos(phi),
            math.cos(reach) - math.sin(phi) * math.sin(phi2),
        )
        vertices.append((math.degrees(lam2), math.degrees(phi2)))
    return shapely.Polygon(vertices)


def _pair(token: str, where: str) -> tuple[float, float]:
    parts = token.split(",")
    if len(parts) != 2:
        raise ShapeError(f"{where}: expected 'lat,lon', got {token!r}")
    try:
        return float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise ShapeError(f"{where}: {token!r} is not two numbers 'lat,lon'") from exc


def parse_cap_polygon(text: str) -> list[tuple[float, float]]:
    """CAP ``polygon``: "lat,lon lat,lon ..."; blanks around commas are forgiven."""
    tokens = _COMMA.sub(",", text.strip()).split()
    if not tokens:
        raise ShapeError("polygon is empty")
    return [_pair(token, f"polygon point {i}") for i, token in enumerate(tokens, 1)]


def parse_cap_circle(text: str) -> tuple[float, float, float]:
    """CAP ``circle``: "lat,lon radius_km"."""
    tokens = _COMMA.sub(",", text.strip()).split()
    if len(tokens) != 2:
        raise ShapeError(f"circle must be 'lat,lon radius_km', got {text!r}")
    lat, lon = _pair(tokens[0], "circle centre")
    try:
        radius = float(tokens[1])
    except ValueError as exc:
        raise ShapeError(f"circle radius {tokens[1]!r} is not a number") from exc
    return lat, lon, radius
