"""Jurisdiction: an account sees what touches its area and acts only wholly inside it."""

from __future__ import annotations

from collections.abc import Iterable

from protocols.codes import RegionCode
from protocols.errors import CodeError


def _code(value: str) -> RegionCode | None:
    try:
        return RegionCode(value)
    except CodeError:
        return None


def prefix(region: str) -> str:
    """The significant digits: "341523000000" -> "341523"."""
    return RegionCode(region).significant


def inside(region: str, code: str) -> bool:
    """``code`` (a region or a 23-digit resource code) lies within ``region``."""
    return code.startswith(prefix(region))


def overlaps(region: str, codes: Iterable[str]) -> bool:
    """Some code lies within ``region`` or covers it (a city-wide alert concerns the county)."""
    mine = RegionCode(region)
    for value in codes:
        other = _code(value)
        if other is not None and (mine.contains(other) or other.contains(mine)):
            return True
    return False


def all_inside(region: str, codes: Iterable[str]) -> bool:
    listed = list(codes)
    return bool(listed) and all(inside(region, c) for c in listed)
