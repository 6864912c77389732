"""Lexical forms of CAP 1.2 values: times, numbers, coordinate lists, references, quoted lists.

Readers here are lenient (they accept what a careful human would) and never decide validity;
``rules`` compares the text with the strict form to report what was wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

# The schema's pattern, minus its accidental comma: \d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-,+]\d\d:\d\d
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)([+-])(\d\d):(\d\d)")
# Same shape with a wrong or missing zone, to tell an offset mistake from a malformed time.
_TIME_BAD_ZONE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|z)?")
_TIME_FRACTION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+([+-]\d\d:\d\d|Z)?")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"\+?\d+")
_AROUND_COMMA = re.compile(r"\s*,\s*")


def parse_time(text: str) -> dt.datetime | None:
    """A CAP time as an aware datetime, or None when it does not follow the schema pattern."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, sign, off_h, off_m = match.groups()
    if int(off_m) >= 60:
        return None
    offset = dt.timedelta(hours=int(off_h), minutes=int(off_m))
    try:
        zone = dt.timezone(-offset if sign == "-" else offset)
        return dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=zone
        )
    except ValueError:
        return None


def time_mistake(text: str) -> str:
    """Which rule a time text breaks: ``datetime-offset`` or ``datetime-format``."""
    stripped = text.strip()
    if _TIME_FRACTION.fullmatch(stripped):
        return "datetime-format"
    if _TIME_BAD_ZONE.fullmatch(stripped):
        return "datetime-offset"
    return "datetime-format"


def format_time(value: dt.datetime) -> str:
    """The schema form; UTC is written ``-00:00`` as CAP 1.2 section 3.3.2 asks."""
    offset = value.utcoffset()
    if offset is None:
        return value.isoformat()  # naive: not CAP, written as-is so validate can say why
    base = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    if value.microsecond or offset.seconds % 60 or offset.microseconds:
        return value.isoformat()
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes <= 0 else "+"
    minutes = abs(minutes)
    return f"{base}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_integer(text: str) -> int | None:
    stripped = text.strip()
    return int(stripped) if _INTEGER.fullmatch(stripped) else None


def parse_decimal(text: str) -> Decimal | None:
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        return None
    try:
        return Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        return None


def parse_number(text: str) -> float | None:
    """A plain decimal (no exponent, NaN or infinity, which float() would accept)."""
    return float(text) if _NUMBER.fullmatch(text) else None


def format_number(value: float | Decimal) -> str:
    """Shortest plain decimal text: no exponent, and no ``.0`` on whole numbers."""
    text = format(Decimal(repr(value)) if isinstance(value, float) else value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def coordinate_tokens(text: str) -> list[str]:
    """Split a polygon or circle leniently: ``38.4, -120.1`` still counts as one pair."""
    return _AROUND_COMMA.sub(",", text.strip()).split()


def canonical_spacing(text: str) -> str:
    """The text with exactly one space between tokens and none around commas."""
    return " ".join(coordinate_tokens(text))


def parse_pair(token: str) -> tuple[float, float] | None:
    parts = token.split(",")
    if len(parts) != 2:
        return None
    lat, lon = parse_number(parts[0]), parse_number(parts[1])
    if lat is None or lon is None:
        return None
    return lat, lon


def parse_points(text: str) -> tuple[tuple[float, float], ...]:
    points = []
    for token in coordinate_tokens(text):
        pair = parse_pair(token)
        if pair is None:
            raise ValueError(f"{token!r} is not a 'lat,lon' pair")
        points.append(pair)
    return tuple(points)


def parse_circle(text: str) -> tuple[float, float, float]:
    """(lat, lon, radius_km); ValueError when the text is not ``lat,lon radius``."""
    tokens = coordinate_tokens(text)
    if len(tokens) != 2:
        raise ValueError(f"circle {text!r} is not 'lat,lon radius'")
    pair, radius = parse_pair(tokens[0]), parse_number(tokens[1])
    if pair is None or radius is None:
        raise ValueError(f"circle {text!r} is not 'lat,lon radius'")
    return pair[0], pair[1], radius


def split_quoted(text: str) -> list[str]:
    """Split ``addresses``/``incidents``: whitespace-separated, multi-word items in quotes.

    ValueError on an unbalanced quote.
    """
    if text.count('"') % 2:
        raise ValueError("unbalanced double quote")
    items: list[str] = []
    for index, chunk in enumerate(text.split('"')):
        if index % 2:
            items.append(chunk)
        else:
            items.extend(chunk.split())
    return items
