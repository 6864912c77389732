"""Errors of the region package; both are ProtocolErrors, so callers can map ``code``."""

from __future__ import annotations

from protocols.errors import ProtocolError


class RegionError(ProtocolError):
    """A region code the table does not know, or a request the table cannot answer."""

    code = "unknown-region"


class ShapeError(RegionError):
    """A CAP polygon or circle that cannot be read or drawn."""

    code = "invalid-shape"
