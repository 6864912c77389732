"""The shipped county-shape file: a JSON header line, then integer arrays.

Layout (before gzip): ``MAGIC``, one line of JSON (provenance, the shape list, array sizes),
then each array as little-endian int32 split into byte planes (all lowest bytes, then the
next...). Coordinates are lon/lat scaled by ``SCALE`` (1e-5 degree, about 1 m) and
delta-encoded per column; offsets are stored as counts. Deltas and byte planes are what
make gzip effective here: less than half the size of gzipped float64 WKB.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

MAGIC = b"EBC-COUNTY-SHAPES 1\n"
SCALE = 100_000
_ARRAYS = ("x", "y", "rings", "polygons", "geometries")


def _planes(values: NDArray[np.int64]) -> bytes:
    if values.size and (values.min() < -(2**31) or values.max() >= 2**31):
        raise ValueError("value does not fit in int32")
    return values.astype("<i4").view(np.uint8).reshape(-1, 4).T.tobytes()


def _unplanes(data: bytes, count: int) -> NDArray[np.int64]:
    planes = np.frombuffer(data, dtype=np.uint8).reshape(4, count)
    return planes.T.copy().view("<i4").reshape(count).astype(np.int64)


def encode(geometries: Sequence[Any], header: dict[str, Any]) -> bytes:
    """Polygons and multipolygons in lon/lat to the uncompressed file body."""
    multi = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in geometries]
    kind, coords, offsets = shapely.to_ragged_array(multi)
    if kind != shapely.GeometryType.MULTIPOLYGON:
        raise ValueError(f"expected (multi)polygons, got {kind!r}")
    quantised = np.rint(np.asarray(coords) * SCALE).astype(np.int64)
    arrays = {
        "x": np.diff(quantised[:, 0], prepend=0),
        "y": np.diff(quantised[:, 1], prepend=0),
        "rings": np.diff(offsets[0]),
        "polygons": np.diff(offsets[1]),
        "geometries": np.diff(offsets[2]),
    }
    meta = dict(header, scale=SCALE, counts={name: int(arrays[name].size) for name in _ARRAYS})
    head = json.dumps(meta, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return MAGIC + head.encode("utf-8") + b"\n" + b"".join(_planes(arrays[n]) for n in _ARRAYS)


def decode(body: bytes) -> tuple[dict[str, Any], list[Any]]:
    """The header and the MultiPolygons, in header order."""
    if not body.startswith(MAGIC):
        raise ValueError("not an EBC county-shape file")
    end = body.index(b"\n", len(MAGIC))
    header: dict[str, Any] = json.loads(body[len(MAGIC) : end])
    counts: dict[str, int] = header["counts"]
    arrays: dict[str, NDArray[np.int64]] = {}
    pos = end + 1
    for name in _ARRAYS:
        size = counts[name] * 4
        arrays[name] = _unplanes(body[pos : pos + size], counts[name])
        pos += size
    if pos != len(body):
        raise ValueError("county-shape file has trailing or missing bytes")
    coords = np.column_stack([np.cumsum(arrays["x"]), np.cumsum(arrays["y"])]) / header["scale"]
    offsets = tuple(
        np.concatenate([[0], np.cumsum(arrays[n])]) for n in ("rings", "polygons", "geometries")
    )
    shapes = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, coords, offsets)
    return header, list(shapes)
