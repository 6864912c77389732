"""Region values and the key arithmetic shared by the table and the cover operations.

A key is a validated 12-digit code string; working on strings keeps bulk operations cheap,
and RegionCode objects are built only for what callers get back.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols.codes import RegionCode, RegionLevel

ROOT = "0" * 12
CUTS = (0, 2, 4, 6, 9, 12)


@dataclass(frozen=True, order=True, slots=True)
class Region:
    """One region. ``name`` is None for a village: NBS village names are not shipped."""

    code: RegionCode
    name: str | None
    level: RegionLevel

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code.value, "name": self.name, "level": self.level.name.lower()}


CodeLike = RegionCode | Region | str


# Indexed by the length of a key without its trailing zeros.
_SIGNIFICANT = (0, 2, 2, 4, 4, 6, 6, 9, 9, 9, 12, 12, 12)
_PARENT_CUT = (-1, 0, 0, 2, 2, 4, 4, 6, 6, 6, 9, 9, 9)


def significant_length(key: str) -> int:
    return _SIGNIFICANT[len(key.rstrip("0"))]


def parent_key(key: str) -> str | None:
    """Same answer as ``RegionCode.parent`` on a valid key, without building objects."""
    cut = _PARENT_CUT[len(key.rstrip("0"))]
    return None if cut < 0 else key[:cut].ljust(12, "0")


def as_key(code: CodeLike) -> str:
    """Check the form (2/4/6/9/12 digits, else CodeError) and return the 12-digit string."""
    if isinstance(code, Region):
        return code.code.value
    if isinstance(code, RegionCode):
        return code.value
    return RegionCode.parse(code).value
