"""Who a packet is for: its resource codes name receivers, or whole regions.

A 12-byte code slot holds a 23-digit resource code, not a 12-digit region code, so a region
travels as a *region code*: the FM terminal code (resource type 0301, subtype 04) of that region
with type sequence and subtype sequence 00. Real devices are numbered from 01, so 00 never names
a device; a region code means "every receiver in this region, whatever its own type". Example:
county 341523 -> ``43415230000000301000400``.
"""

from __future__ import annotations

from collections.abc import Iterable

from protocols.codes import RegionCode, ResourceCode

FM_TERMINAL = "0301"
TERMINAL = "04"
WILDCARD = "00"


def region_code(region: RegionCode) -> ResourceCode:
    return ResourceCode(
        f"{region.level.value}{region.value}{FM_TERMINAL}{WILDCARD}{TERMINAL}{WILDCARD}"
    )


def is_region_code(code: ResourceCode) -> bool:
    return code.type_sequence == WILDCARD and code.subtype_sequence == WILDCARD


def addresses(codes: Iterable[ResourceCode], receiver: ResourceCode) -> bool:
    """True when ``codes`` name ``receiver`` or a region holding it; no codes: everyone."""
    listed = list(codes)
    if not listed:
        return True
    return any(
        code == receiver or (is_region_code(code) and code.region.contains(receiver.region))
        for code in listed
    )
