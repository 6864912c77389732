"""One generic XML mapping for every EBD dataclass, driven by ``Annotated[..., Xml(...)]``.

Declaring the element name next to the field keeps build and parse symmetric by construction:
a round trip cannot drift because both directions read the same declaration. Field order is
element order on output; input is matched by name, so a peer's different order is accepted.

Type rules: ``X | None`` is an optional element, ``tuple[X, ...]`` a repeated element (required
at least once when the field has no default), a dataclass a nested element, anything else a
text value converted by type. Unknown child elements are ignored: deployments add their own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum, IntEnum, StrEnum
from typing import Any, Protocol

from protocols.codes import EBDID, EBMID, RegionCode, ResourceCode
from protocols.ebd.errors import (
    EbdFieldError,
    EbdInvalidValueError,
    EbdMissingDataError,
)
from protocols.errors import CodeError
from protocols.safexml import local_name

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Wall-clock times carry no zone on the wire; public implementations write Beijing time.
WIRE_ZONE = dt.timezone(dt.timedelta(hours=8))

_CODE_TYPES: dict[type, Callable[[str], Any]] = {
    ResourceCode: ResourceCode,
    EBMID: EBMID,
    EBDID: EBDID,
    RegionCode: RegionCode,
}


class TextCodec(Protocol):
    def encode(self, value: Any) -> str: ...

    def decode(self, text: str) -> Any: ...


@dataclass(frozen=True)
class Xml:
    """The element a field maps to; ``wrapper`` names an element in between (``EBM/EBMID``)."""

    name: str
    wrapper: str | None = None
    codec: TextCodec | None = None
    aliases: tuple[str, ...] = ()  # other spellings accepted on input, never written


def _split_commas(text: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in text.split(","))
    if any(not item for item in items):
        raise ValueError(f"empty item in comma-separated list {text!r}")
    return items


class CommaList:
    """``a,b,c`` as a tuple of strings (AreaCode)."""

    def encode(self, value: Any) -> str:
        return ",".join(str(item) for item in value)

    def decode(self, text: str) -> tuple[str, ...]:
        return _split_commas(text)


class CommaInts:
    """``5,10,10,1000`` as a tuple of integers (ResBrdStat)."""

    def encode(self, value: Any) -> str:
        return ",".join(str(int(item)) for item in value)

    def decode(self, text: str) -> tuple[int, ...]:
        return tuple(_to_int(item) for item in _split_commas(text))


COMMA_LIST = CommaList()
COMMA_INTS = CommaInts()


# ---------------------------------------------------------------- field introspection


@dataclass(frozen=True)
class _Field:
    name: str
    xml: Xml
    kind: str  # "one", "optional", "many"
    item: Any  # the element type
    required: bool


_FIELD_CACHE: dict[type, tuple[_Field, ...]] = {}


def _fields_of(cls: type) -> tuple[_Field, ...]:
    cached = _FIELD_CACHE.get(cls)
    if cached is None:
        cached = _FIELD_CACHE[cls] = _introspect(cls)
    return cached


def _introspect(cls: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    result: list[_Field] = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if typing.get_origin(hint) is not typing.Annotated:
            continue
        base, *extras = typing.get_args(hint)
        xml = next((e for e in extras if isinstance(e, Xml)), None)
        if xml is None:
            continue
        has_default = (
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        )
        kind, item = _shape(base)
        if kind == "many" and xml.codec is not None:
            kind, item = "one", base  # a tuple carried as one text value
        result.append(_Field(f.name, xml, kind, item, not has_default))
    return tuple(result)


def _shape(hint: Any) -> tuple[str, Any]:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        inner_kind, inner = _shape(args[0])
        return ("optional" if inner_kind == "one" else inner_kind), inner
    if origin is tuple:
        return "many", typing.get_args(hint)[0]
    return "one", hint


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp) and tp not in _CODE_TYPES


# ---------------------------------------------------------------- text values


def _to_int(text: str) -> int:
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f"{text!r} is not an integer")
    return int(text)


def _to_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


def parse_time(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        raise ValueError(f"{text!r} is not a time in the form yyyy-MM-dd HH:mm:ss") from None


def format_time(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(WIRE_ZONE).replace(tzinfo=None)
    return value.strftime(TIME_FORMAT)


def decode_text(tp: Any, text: str, codec: TextCodec | None = None) -> Any:
    """Convert element text to ``tp``; raises ValueError/CodeError with the reason."""
    if codec is not None:
        return codec.decode(text.strip())
    if tp is str:
        return text
    value = text.strip()
    if tp in _CODE_TYPES:
        return _CODE_TYPES[tp](value)
    if isinstance(tp, type) and issubclass(tp, IntEnum):
        number = _to_int(value)
        try:
            return tp(number)
        except ValueError:
            allowed = ", ".join(str(int(m)) for m in tp)
            raise ValueError(f"{number} is not one of {allowed}") from None
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        try:
            return tp(value)
        except ValueError:
            allowed = ", ".join(m.value for m in tp)
            raise ValueError(f"{value!r} is not one of {allowed}") from None
    if tp is int:
        return _to_int(value)
    if tp is Decimal:
        return _to_decimal(value)
    if tp is dt.datetime:
        return parse_time(value)
    raise TypeError(f"no text conversion for {tp!r}")


def encode_text(value: Any, codec: TextCodec | None = None) -> str:
    if codec is not None:
        return codec.encode(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, str)):
        return str(value)
    if type(value) in _CODE_TYPES:
        return str(value.value)
    raise TypeError(f"no text conversion for {type(value).__name__}")


# ---------------------------------------------------------------- parsing


def children_by_name(elem: ET.Element) -> dict[str, list[ET.Element]]:
    found: dict[str, list[ET.Element]] = {}
    for child in elem:
        if isinstance(child.tag, str):  # skip comments and processing instructions
            found.setdefault(local_name(child.tag), []).append(child)
    return found


def single(children: dict[str, list[ET.Element]], name: str, path: str) -> ET.Element | None:
    found = children.get(name, [])
    if len(found) > 1:
        raise EbdInvalidValueError(f"{path}/{name}", f"appears {len(found)} times; expected once")
    return found[0] if found else None


def element_text(elem: ET.Element, path: str) -> str:
    if any(isinstance(child.tag, str) for child in elem):
        raise EbdInvalidValueError(path, "expected a text value, found child elements")
    return elem.text or ""


def decode_value(tp: Any, elem: ET.Element, path: str, codec: TextCodec | None = None) -> Any:
    if _is_record(tp):
        return decode_record(tp, elem, path)
    text = element_text(elem, path)
    if tp is not str and codec is None and not text.strip():
        raise EbdMissingDataError(path, "is empty")
    try:
        return decode_text(tp, text, codec)
    except (ValueError, CodeError) as exc:
        raise EbdInvalidValueError(path, str(exc)) from exc


def decode_record(cls: type[Any], elem: ET.Element, path: str) -> Any:
    children = children_by_name(elem)
    kwargs: dict[str, Any] = {}
    for f in _fields_of(cls):
        container: dict[str, list[ET.Element]] | None = children
        base = path
        if f.xml.wrapper is not None:
            wrapper = single(children, f.xml.wrapper, path)
            base = f"{path}/{f.xml.wrapper}"
            container = None if wrapper is None else children_by_name(wrapper)
        found: list[ET.Element] = []
        if container is not None:
            for name in (f.xml.name, *f.xml.aliases):
                found += container.get(name, [])
        where = f"{base}/{f.xml.name}"
        if f.kind == "many":
            if not found and f.required:
                raise EbdMissingDataError(where, "missing required element")
            kwargs[f.name] = tuple(
                decode_value(f.item, e, f"{where}[{i}]", f.xml.codec) for i, e in enumerate(found)
            )
            continue
        if len(found) > 1:
            raise EbdInvalidValueError(where, f"appears {len(found)} times; expected once")
        if not found:
            if f.required:
                raise EbdMissingDataError(where, "missing required element")
            continue
        blank = f.item is not str and not _is_record(f.item) and not _has_text(found[0])
        if f.kind == "optional" and blank:
            continue  # several peers write <X/> for "no value"; text keeps its ""
        kwargs[f.name] = decode_value(f.item, found[0], where, f.xml.codec)
    try:
        return cls(**kwargs)
    except EbdFieldError as exc:
        raise exc.under(path) from exc


def _has_text(elem: ET.Element) -> bool:
    return bool((elem.text or "").strip()) or any(isinstance(c.tag, str) for c in elem)


# ---------------------------------------------------------------- building


def _check_xml_text(text: str, where: str) -> str:
    for ch in text:
        code = ord(ch)
        control = code < 0x20 and ch not in "\t\n\r"
        if control or 0xD800 <= code < 0xE000 or code in (0xFFFE, 0xFFFF):
            raise EbdInvalidValueError(where, f"character U+{code:04X} cannot appear in XML")
    return text


def encode_record(obj: Any, parent: ET.Element, path: str) -> None:
    wrappers: dict[str, ET.Element] = {}
    for f in _fields_of(type(obj)):
        value = getattr(obj, f.name)
        if value is None or (f.kind == "many" and not value):
            continue
        target = parent
        if f.xml.wrapper is not None:
            if f.xml.wrapper not in wrappers:
                wrappers[f.xml.wrapper] = ET.SubElement(parent, f.xml.wrapper)
            target = wrappers[f.xml.wrapper]
        items = value if f.kind == "many" else (value,)
        for i, item in enumerate(items):
            where = f"{path}/{f.xml.name}" + (f"[{i}]" if f.kind == "many" else "")
            encode_value(item, ET.SubElement(target, f.xml.name), where, f.xml.codec)


def encode_value(value: Any, elem: ET.Element, path: str, codec: TextCodec | None = None) -> None:
    if _is_record(type(value)):
        encode_record(value, elem, path)
    else:
        elem.text = _check_xml_text(encode_text(value, codec), path)
