"""The township map: only county outlines are shipped (no township boundaries), so a county
is drawn from its real polygon and its townships become schematic cells inside it.

Cells are a centroidal Voronoi tessellation clipped to the outline: sample points on a grid
inside the county, run a fixed number of k-means (Lloyd) rounds with one centre per
township, then take the Voronoi cells of the centres. Cells have similar areas and fill the
real outline, but a cell is NOT the township's true extent or position; townships are laid
out in code order, north-west to south-east. Above county level the children are real
county outlines. Everything is projected once to SVG coordinates (equirectangular, scaled
by cos(latitude)) and cached per region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely import affinity

from dispatcher.domain.regions import RegionError, county_shape, region_table
from protocols.codes import RegionCode, RegionLevel

WIDTH = 640.0
HEIGHT = 440.0
PAD = 12.0
GRID = 60
LLOYD_ROUNDS = 30


@dataclass(frozen=True)
class Cell:
    code: str
    name: str
    path: str
    label_x: float
    label_y: float
    shape: Any  # shapely geometry in SVG coordinates


@dataclass(frozen=True)
class MapLayout:
    region: str
    outline: str
    cells: tuple[Cell, ...]
    width: float = WIDTH
    height: float = HEIGHT
    schematic: bool = True

    def select(self, polygon: str) -> list[str]:
        """Codes whose marker lies inside a drawn polygon "x,y x,y ..." (SVG coordinates);
        the compose page's script ticks boxes by the same rule."""
        points = parse_points(polygon)
        if len(points) < 3:
            return []
        lasso = shapely.make_valid(shapely.Polygon(points))
        return [c.code for c in self.cells if lasso.covers(shapely.Point(c.label_x, c.label_y))]


def parse_points(text: str) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for token in text.split()[:500]:
        parts = token.split(",")
        if len(parts) != 2:
            continue
        try:
            x, y = float(parts[0]), float(parts[1])
        except ValueError:
            continue
        if math.isfinite(x) and math.isfinite(y):
            points.append((x, y))
    return points


def _path(geometry: Any) -> str:
    parts: list[str] = []
    polygons = getattr(geometry, "geoms", [geometry])
    for polygon in polygons:
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            coords = list(ring.coords)
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in coords) + " Z")
    return " ".join(parts)


def _project(geometry: Any) -> tuple[Any, Any]:
    """Fit lon/lat into the SVG box, north up; returns (projected, transform function)."""
    minx, miny, maxx, maxy = geometry.bounds
    lat0 = math.radians((miny + maxy) / 2)
    sx = math.cos(lat0)
    w, h = max((maxx - minx) * sx, 1e-9), max(maxy - miny, 1e-9)
    scale = min((WIDTH - 2 * PAD) / w, (HEIGHT - 2 * PAD) / h)
    offx = (WIDTH - w * scale) / 2
    offy = (HEIGHT - h * scale) / 2

    def transform(geom: Any) -> Any:
        moved = affinity.translate(geom, -minx, -maxy)
        scaled = affinity.scale(moved, sx * scale, -scale, origin=(0, 0))
        return affinity.translate(scaled, offx, offy)

    return transform(geometry), transform


def _seeds(outline: Any, count: int) -> np.ndarray:
    minx, miny, maxx, maxy = outline.bounds
    xs, ys = np.meshgrid(np.linspace(minx, maxx, GRID), np.linspace(miny, maxy, GRID))
    px, py = xs.ravel(), ys.ravel()
    keep = shapely.contains_xy(outline, px, py)
    points = np.column_stack([px[keep], py[keep]])
    if len(points) < count:
        extra = np.array([[p.x, p.y] for p in
                          (outline.representative_point() for _ in range(count))])
        points = np.vstack([points, extra])
    order = np.lexsort((points[:, 0], points[:, 1]))
    centres: np.ndarray = points[order[np.linspace(0, len(points) - 1, count).astype(int)]].copy()
    for _ in range(LLOYD_ROUNDS):
        nearest = np.argmin(((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        for k in range(count):
            members = points[nearest == k]
            if len(members):
                centres[k] = members.mean(axis=0)
    return centres


def _reading_order(centres: np.ndarray) -> list[int]:
    rows = max(1, round(math.sqrt(len(centres) * HEIGHT / WIDTH)))
    band = HEIGHT / rows
    return sorted(range(len(centres)),
                  key=lambda i: (int(centres[i][1] // band), centres[i][0]))


def _cells_for_county(outline: Any, children: list[tuple[str, str]]) -> tuple[Cell, ...]:
    if not children:
        return ()
    centres = _seeds(outline, len(children))
    if len(children) == 1:
        polygons = [outline]
    else:
        diagram = shapely.voronoi_polygons(
            shapely.MultiPoint([tuple(c) for c in centres]), extend_to=outline.envelope.buffer(50)
        )
        polygons = []
        for centre in centres:
            point = shapely.Point(*centre)
            cell = next((g for g in diagram.geoms if g.covers(point)), outline)
            polygons.append(cell.intersection(outline))
    cells = []
    for slot, (code, name) in zip(_reading_order(centres), children, strict=True):
        shape = polygons[slot]
        marker = shapely.Point(*centres[slot])
        if shape.is_empty or not shape.covers(marker):
            marker = shape.representative_point() if not shape.is_empty else marker
        cells.append(Cell(code, name, _path(shape), round(marker.x, 1), round(marker.y, 1),
                          shape))
    return tuple(cells)


@lru_cache(maxsize=64)
def layout(region: str) -> MapLayout | None:
    """The map of a county (schematic townships) or a city/province (its counties)."""
    code = RegionCode(region)
    table = region_table()
    if code.level is RegionLevel.COUNTY:
        try:
            outline, _ = _project(county_shape(code))
        except RegionError:
            return None
        children = [(r.code.value, r.name or r.code.value) for r in table.children(code)]
        return MapLayout(region, _path(outline), _cells_for_county(outline, children))
    if code.level in (RegionLevel.CITY, RegionLevel.PROVINCE):
        shapes: list[tuple[str, str, Any]] = []
        for child in table.children(code):
            counties = [child] if child.level is RegionLevel.COUNTY else table.children(child.code)
            for county in counties:
                try:
                    shapes.append((county.code.value, county.name or "", county_shape(county.code)))
                except RegionError:
                    continue
        if not shapes:
            return None
        whole, transform = _project(shapely.union_all([s for _, _, s in shapes]))
        cells = []
        for value, name, shape in shapes:
            projected = transform(shape)
            marker = projected.representative_point()
            cells.append(Cell(value, name, _path(projected), round(marker.x, 1),
                              round(marker.y, 1), projected))
        return MapLayout(region, _path(whole), tuple(cells), schematic=False)
    return None
