"""CAP 1.2 message model: frozen dataclasses in the element order of the OASIS schema.

The model is deliberately lenient so that ``validate`` can report what a sender actually
sent: a value that is not a legal enum member, time or number is kept as its raw text
(hence the ``Enum | str`` and ``datetime | str`` unions) instead of being lost at parse time.
A required element that is absent reads as ``""``; an optional one as ``None``.
Polygons and circles keep their text, so odd spacing round-trips exactly and can be flagged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from protocols.cap.lexical import format_number, parse_circle, parse_points, parse_time
from protocols.errors import Problem

NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"


class Status(StrEnum):
    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class MsgType(StrEnum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"
    ACK = "Ack"
    ERROR = "Error"


class Scope(StrEnum):
    PUBLIC = "Public"
    RESTRICTED = "Restricted"
    PRIVATE = "Private"


class Category(StrEnum):
    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class ResponseType(StrEnum):
    SHELTER = "Shelter"
    EVACUATE = "Evacuate"
    PREPARE = "Prepare"
    EXECUTE = "Execute"
    AVOID = "Avoid"
    MONITOR = "Monitor"
    ASSESS = "Assess"
    ALL_CLEAR = "AllClear"
    NONE = "None"


class Urgency(StrEnum):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Severity(StrEnum):
    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Certainty(StrEnum):
    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


# A legal value, or the raw text of an illegal one (see the module docstring).
CapTime = dt.datetime | str


@dataclass(frozen=True)
class ValuePair:
    """``eventCode``, ``parameter`` and ``geocode``: a named value."""

    value_name: str
    value: str


Geocode = ValuePair


@dataclass(frozen=True)
class Polygon:
    """WGS 84 ring as CAP text: whitespace-separated ``lat,lon`` pairs, first equal to last."""

    text: str

    @classmethod
    def from_points(cls, points: Iterable[tuple[float, float]]) -> Polygon:
        return cls(" ".join(f"{format_number(lat)},{format_number(lon)}" for lat, lon in points))

    @property
    def points(self) -> tuple[tuple[float, float], ...]:
        """(lat, lon) pairs, read leniently; ValueError when a pair is not two numbers."""
        return parse_points(self.text)


@dataclass(frozen=True)
class Circle:
    """CAP text ``lat,lon radius`` with the radius in kilometres."""

    text: str

    @classmethod
    def of(cls, lat: float, lon: float, radius_km: float) -> Circle:
        return cls(f"{format_number(lat)},{format_number(lon)} {format_number(radius_km)}")

    @property
    def center(self) -> tuple[float, float]:
        lat, lon, _ = parse_circle(self.text)
        return lat, lon

    @property
    def radius_km(self) -> float:
        return parse_circle(self.text)[2]


@dataclass(frozen=True, kw_only=True)
class Resource:
    resource_desc: str
    mime_type: str
    size: int | str | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


@dataclass(frozen=True, kw_only=True)
class Area:
    area_desc: str
    polygons: tuple[Polygon, ...] = ()
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[ValuePair, ...] = ()
    altitude: Decimal | str | None = None
    ceiling: Decimal | str | None = None


@dataclass(frozen=True, kw_only=True)
class Info:
    language: str | None = None
    categories: tuple[Category | str, ...]
    event: str
    response_types: tuple[ResponseType | str, ...] = ()
    urgency: Urgency | str
    severity: Severity | str
    certainty: Certainty | str
    audience: str | None = None
    event_codes: tuple[ValuePair, ...] = ()
    effective: CapTime | None = None
    onset: CapTime | None = None
    expires: CapTime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[ValuePair, ...] = ()
    resources: tuple[Resource, ...] = ()
    areas: tuple[Area, ...] = ()

    @property
    def effective_language(self) -> str:
        """CAP 1.2 says an info without ``language`` is ``en-US``."""
        return self.language if self.language else "en-US"


@dataclass(frozen=True)
class Reference:
    """One ``sender,identifier,sent`` triple of ``references``."""

    sender: str
    identifier: str
    sent: dt.datetime


@dataclass(frozen=True, kw_only=True)
class Alert:
    identifier: str
    sender: str
    sent: CapTime
    status: Status | str
    msg_type: MsgType | str
    source: str | None = None
    scope: Scope | str
    restriction: str | None = None
    addresses: str | None = None
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: str | None = None
    incidents: str | None = None
    infos: tuple[Info, ...] = ()
    # Document-level findings the model cannot show (unknown, duplicated or misordered
    # elements); excluded from equality so a round trip compares content only.
    parse_problems: tuple[Problem, ...] = field(default=(), compare=False, repr=False)


def parse_references(text: str) -> tuple[Reference, ...]:
    """The triples of a ``references`` value; ValueError naming the first malformed one."""
    triples = []
    for token in text.split():
        parts = token.split(",")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"{token!r} is not 'sender,identifier,sent'")
        sent = parse_time(parts[2])
        if sent is None:
            raise ValueError(f"{token!r}: {parts[2]!r} is not a CAP time with a +hh:mm offset")
        triples.append(Reference(parts[0], parts[1], sent))
    return tuple(triples)
