"""The platform's own view of an alert, whatever format it arrived in (CAP 1.2 or EBM)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from protocols.codes import RegionCode


class MsgType(IntEnum):
    """EBM MsgType (GY/T 385)."""

    REAL = 1
    CANCEL = 2
    PLATFORM_DRILL = 3
    FRONTEND_DRILL = 4
    TERMINAL_DRILL = 5

    @property
    def is_drill(self) -> bool:
        return self >= MsgType.PLATFORM_DRILL


class Severity(IntEnum):
    """EBM Severity: 1 red (特别重大) is the most severe; 0 unknown sorts last."""

    UNKNOWN = 0
    RED = 1
    ORANGE = 2
    YELLOW = 3
    BLUE = 4


@dataclass(frozen=True)
class AlertText:
    language: str
    title: str
    description: str


LatLon = tuple[float, float]


@dataclass(frozen=True)
class AlertMessage:
    """An alert after parsing and before authorisation; everything planning needs."""

    source_format: str
    identifier: str
    sender: str
    sent: dt.datetime
    msg_type: MsgType
    event_type: str
    severity: Severity
    texts: tuple[AlertText, ...]
    area_codes: tuple[RegionCode, ...] = ()
    polygons: tuple[tuple[LatLon, ...], ...] = ()
    circles: tuple[tuple[float, float, float], ...] = ()
    references: tuple[str, ...] = ()
    is_update: bool = False
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    #: The drill flag of a cancel follows the alert it cancels, so it is carried explicitly.
    drill: bool = False

    @property
    def is_cancel(self) -> bool:
        return self.msg_type is MsgType.CANCEL

    @property
    def title(self) -> str:
        return self.texts[0].title if self.texts else ""

    @property
    def has_geometry(self) -> bool:
        return bool(self.polygons or self.circles)
