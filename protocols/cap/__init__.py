"""CAP 1.2 (OASIS Common Alerting Protocol; ITU-T X.1303): model, reader, rules, writer.

    alert = parse_and_validate(xml_bytes)       # CapError with every problem, or an Alert
    problems = validate(parse_cap(xml_bytes))   # lenient read, then the full rule list
    xml = serialize_cap(alert)                  # canonical CAP 1.2 XML

A pure library: no I/O beyond the bytes it is given, no platform imports.
"""

from protocols.cap.checks import ValidationOptions
from protocols.cap.lexical import split_quoted
from protocols.cap.model import (
    NAMESPACE,
    Alert,
    Area,
    CapTime,
    Category,
    Certainty,
    Circle,
    Geocode,
    Info,
    MsgType,
    Polygon,
    Reference,
    Resource,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    ValuePair,
    parse_references,
)
from protocols.cap.reader import parse_cap
from protocols.cap.rules import parse_and_validate, validate
from protocols.cap.writer import serialize_cap

__all__ = [
    "NAMESPACE",
    "Alert",
    "Area",
    "CapTime",
    "Category",
    "Certainty",
    "Circle",
    "Geocode",
    "Info",
    "MsgType",
    "Polygon",
    "Reference",
    "Resource",
    "ResponseType",
    "Scope",
    "Severity",
    "Status",
    "Urgency",
    "ValidationOptions",
    "ValuePair",
    "parse_and_validate",
    "parse_cap",
    "parse_references",
    "serialize_cap",
    "split_quoted",
    "validate",
]
