"""The CAP 1.2 element sequence of each complex type, shared by the reader and the writer.

One table drives both directions, so the serialised element order is the schema's by
construction and a field cannot be read without also being written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum, auto
from typing import Any

from protocols.cap.lexical import format_number, format_time, parse_decimal, parse_integer
from protocols.cap.lexical import parse_time as _parse_time
from protocols.cap.model import (
    Alert,
    Area,
    Category,
    Certainty,
    Circle,
    Info,
    MsgType,
    Polygon,
    Resource,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    ValuePair,
)


class Kind(Enum):
    TEXT = auto()  # xs:string, kept byte for byte
    TOKEN = auto()  # xs:token (enumerations, xs:language): whitespace collapses
    TIME = auto()
    INTEGER = auto()
    DECIMAL = auto()
    POLYGON = auto()
    CIRCLE = auto()
    NODE = auto()  # a nested complex element


@dataclass(frozen=True)
class Slot:
    tag: str
    attr: str
    kind: Kind
    many: bool = False
    required: bool = False
    enum: type[StrEnum] | None = None
    shape: Shape | None = None

    def empty(self) -> Any:
        if self.many:
            return ()
        return "" if self.required else None


@dataclass(frozen=True)
class Shape:
    factory: Callable[..., Any]
    slots: tuple[Slot, ...]

    def find(self, tag: str) -> tuple[int, Slot] | None:
        for index, slot in enumerate(self.slots):
            if slot.tag == tag:
                return index, slot
        return None


def _text(tag: str, attr: str, *, many: bool = False, required: bool = False) -> Slot:
    return Slot(tag, attr, Kind.TEXT, many=many, required=required)


def _enum(tag: str, attr: str, enum: type[StrEnum], *, many: bool = False) -> Slot:
    return Slot(tag, attr, Kind.TOKEN, many=many, required=not many, enum=enum)


def _time(tag: str, attr: str, *, required: bool = False) -> Slot:
    return Slot(tag, attr, Kind.TIME, required=required)


def _node(tag: str, attr: str, shape: Shape) -> Slot:
    return Slot(tag, attr, Kind.NODE, many=True, shape=shape)


PAIR = Shape(
    ValuePair,
    (_text("valueName", "value_name", required=True), _text("value", "value", required=True)),
)

RESOURCE = Shape(
    Resource,
    (
        _text("resourceDesc", "resource_desc", required=True),
        _text("mimeType", "mime_type", required=True),
        Slot("size", "size", Kind.INTEGER),
        _text("uri", "uri"),
        _text("derefUri", "deref_uri"),
        _text("digest", "digest"),
    ),
)

AREA = Shape(
    Area,
    (
        _text("areaDesc", "area_desc", required=True),
        Slot("polygon", "polygons", Kind.POLYGON, many=True),
        Slot("circle", "circles", Kind.CIRCLE, many=True),
        _node("geocode", "geocodes", PAIR),
        Slot("altitude", "altitude", Kind.DECIMAL),
        Slot("ceiling", "ceiling", Kind.DECIMAL),
    ),
)

INFO = Shape(
    Info,
    (
        Slot("language", "language", Kind.TOKEN),
        _enum("category", "categories", Category, many=True),
        _text("event", "event", required=True),
        _enum("responseType", "response_types", ResponseType, many=True),
        _enum("urgency", "urgency", Urgency),
        _enum("severity", "severity", Severity),
        _enum("certainty", "certainty", Certainty),
        _text("audience", "audience"),
        _node("eventCode", "event_codes", PAIR),
        _time("effective", "effective"),
        _time("onset", "onset"),
        _time("expires", "expires"),
        _text("senderName", "sender_name"),
        _text("headline", "headline"),
        _text("description", "description"),
        _text("instruction", "instruction"),
        _text("web", "web"),
        _text("contact", "contact"),
        _node("parameter", "parameters", PAIR),
        _node("resource", "resources", RESOURCE),
        _node("area", "areas", AREA),
    ),
)

ALERT = Shape(
    Alert,
    (
        _text("identifier", "identifier", required=True),
        _text("sender", "sender", required=True),
        _time("sent", "sent", required=True),
        _enum("status", "status", Status),
        _enum("msgType", "msg_type", MsgType),
        _text("source", "source"),
        _enum("scope", "scope", Scope),
        _text("restriction", "restriction"),
        _text("addresses", "addresses"),
        _text("code", "codes", many=True),
        _text("note", "note"),
        _text("references", "references"),
        _text("incidents", "incidents"),
        _node("info", "infos", INFO),
    ),
)


def decode(slot: Slot, text: str) -> Any:
    """Element text to a model value; text that is not a legal value stays text."""
    if slot.kind is Kind.TOKEN:
        token = " ".join(text.split())
        if slot.enum is None or token not in slot.enum._value2member_map_:
            return token
        return slot.enum(token)
    if slot.kind is Kind.TIME:
        parsed = _parse_time(text)
        return text if parsed is None else parsed
    if slot.kind is Kind.INTEGER:
        integer = parse_integer(text)
        return text if integer is None else integer
    if slot.kind is Kind.DECIMAL:
        number = parse_decimal(text)
        return text if number is None else number
    if slot.kind is Kind.POLYGON:
        return Polygon(text)
    if slot.kind is Kind.CIRCLE:
        return Circle(text)
    return text


def encode(slot: Slot, value: Any) -> str:
    if isinstance(value, Polygon | Circle):
        return value.text
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, Decimal | float):
        return format_number(value)
    return str(value)


def children(node: Any, shape: Shape) -> Iterator[tuple[Slot, str, Any]]:
    """(slot, path step, value) for each element to write, in schema order.

    A required element left empty is skipped: writing ``<identifier></identifier>`` or
    omitting it reads back the same, and omission makes the problem obvious to a reader.
    """
    for slot in shape.slots:
        value = getattr(node, slot.attr)
        if slot.many:
            for index, item in enumerate(value):
                yield slot, f"{slot.tag}[{index}]", item
        elif value is None or (slot.required and value == ""):
            continue
        else:
            yield slot, slot.tag, value
