"""Rules for <area>: polygons, circles, geocodes, altitude and ceiling."""

from __future__ import annotations

from decimal import Decimal

import shapely
from shapely.validation import explain_validity

from protocols.cap.checks import Findings, ValidationOptions, required_text, trimmed
from protocols.cap.lexical import (
    canonical_spacing,
    coordinate_tokens,
    parse_number,
    parse_pair,
)
from protocols.cap.model import Area, Circle, Polygon


def check_area(out: Findings, path: str, area: Area, options: ValidationOptions) -> None:
    required_text(out, f"{path}/areaDesc", area.area_desc)
    for index, polygon in enumerate(area.polygons):
        _polygon(out, f"{path}/polygon[{index}]", polygon, options)
    for index, circle in enumerate(area.circles):
        _circle(out, f"{path}/circle[{index}]", circle)
    for index, geocode in enumerate(area.geocodes):
        where = f"{path}/geocode[{index}]"
        if not geocode.value_name.strip() or not geocode.value.strip():
            out.add(where, "geocode-pair", "<geocode> needs both a <valueName> and a <value>")
            continue
        trimmed(out, where, geocode.value_name, "geocode valueName")
        trimmed(out, where, geocode.value, "geocode value")
    for name in ("altitude", "ceiling"):
        value = getattr(area, name)
        if isinstance(value, str):
            out.add(f"{path}/{name}", "number-format", f"<{name}> {value!r} is not a decimal")
    ceiling, altitude = area.ceiling, area.altitude
    if ceiling is not None and altitude is None:
        out.add(f"{path}/ceiling", "ceiling-needs-altitude", "<ceiling> needs an <altitude>")
    elif isinstance(ceiling, Decimal) and isinstance(altitude, Decimal) and ceiling < altitude:
        out.add(f"{path}/ceiling", "ceiling-below-altitude", "<ceiling> is below <altitude>")


def _spacing(out: Findings, path: str, text: str, what: str) -> None:
    if text != canonical_spacing(text):
        out.add(
            path,
            "whitespace-in-value",
            f"{what} has stray whitespace (around a comma, at an end, or more than one space "
            "between pairs); read leniently",
        )


def _in_range(out: Findings, path: str, lat: float, lon: float) -> bool:
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return True
    out.add(path, "coordinate-range", f"point {lat},{lon} is outside lat [-90,90] / lon [-180,180]")
    return False


def _polygon(out: Findings, path: str, polygon: Polygon, options: ValidationOptions) -> None:
    _spacing(out, path, polygon.text, "<polygon>")
    points: list[tuple[float, float]] = []
    for token in coordinate_tokens(polygon.text):
        pair = parse_pair(token)
        if pair is None:
            out.add(path, "coordinate-format", f"{token[:40]!r} is not a 'lat,lon' decimal pair")
            return
        points.append(pair)
    if not all(_in_range(out, path, lat, lon) for lat, lon in points):
        return
    if len(points) < 4:
        out.add(path, "polygon-min-points", f"<polygon> has {len(points)} points; 4 or more needed")
        return
    if len(points) > options.max_polygon_vertices:
        out.add(
            path,
            "polygon-too-many-vertices",
            f"<polygon> has {len(points)} points; the limit is {options.max_polygon_vertices}",
        )
    if points[0] != points[-1]:
        out.add(path, "polygon-not-closed", "<polygon>'s first and last points differ")
        return
    # Shapely wants (x, y) = (lon, lat); validity does not depend on the axis order anyway.
    shape = shapely.Polygon([(lon, lat) for lat, lon in points])
    if not shape.is_valid:
        out.add(
            path,
            "polygon-self-intersects",
            f"<polygon> is not a simple ring: {explain_validity(shape)}",
        )


def _circle(out: Findings, path: str, circle: Circle) -> None:
    _spacing(out, path, circle.text, "<circle>")
    tokens = coordinate_tokens(circle.text)
    pair = parse_pair(tokens[0]) if len(tokens) == 2 else None
    radius = parse_number(tokens[1]) if len(tokens) == 2 else None
    if pair is None or radius is None or radius < 0:
        out.add(
            path,
            "circle-format",
            f"<circle> {circle.text.strip()[:60]!r} is not 'lat,lon radius' with radius >= 0 km",
        )
        return
    _in_range(out, path, *pair)
