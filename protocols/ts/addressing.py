"""Who an EBIT entry is for: terminal EBRIDs, or every terminal of a region.

A region is addressed by its "resource form" (unconfirmed, docs/ts-signalling.md): a 23-digit
code with the region's own level digit, the region code, the bearer's resource type, type
sequence 00, subtype 04 (terminal) and subtype sequence 00, e.g. 43415230000000303000400 for
every DTMB terminal in 341523. Sequence 00 is never given to a real terminal, so the form
cannot collide with one.
"""

from __future__ import annotations

from protocols.codes import RegionCode, ResourceCode
from protocols.errors import CodeError

TERMINAL_SUBTYPE = "04"
WILDCARD_SEQUENCE = "00"


def region_resource_code(region: RegionCode, resource_type: str) -> str:
    code = ResourceCode.build(
        level=region.level,
        region=region,
        resource_type=resource_type,
        type_seq=0,
        subtype=TERMINAL_SUBTYPE,
        subtype_seq=0,
    )
    return code.value


def region_of(code: str) -> RegionCode | None:
    """The region a resource form addresses; None for a code naming one resource."""
    try:
        parsed = ResourceCode(code)
    except CodeError:
        return None
    if (parsed.type_sequence, parsed.subtype, parsed.subtype_sequence) != (
        WILDCARD_SEQUENCE,
        TERMINAL_SUBTYPE,
        WILDCARD_SEQUENCE,
    ):
        return None
    return parsed.region


def addresses(code: str, terminal: ResourceCode) -> bool:
    """``code`` names ``terminal`` itself, or a region containing the terminal's region. The
    resource type of a region form is not compared: only receivers of that bearer hear it."""
    if code == terminal.value:
        return True
    region = region_of(code)
    return region is not None and region.contains(terminal.region)
