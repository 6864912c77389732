"""EBD XML in and out: ``build_ebd`` writes deterministic UTF-8, ``parse_ebd`` reads strictly.

Input always goes through ``protocols.safexml.parse_xml`` (no DTD, no entities, bounded size
and depth). Every refusal is an ``EbdResultError`` carrying the EBDResponse ResultCode.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

from protocols.codes import EBDID
from protocols.ebd.document import BODY_TYPES, Dest, Ebd, Src
from protocols.ebd.enums import EbdType, ResultCode
from protocols.ebd.errors import (
    EbdInvalidValueError,
    EbdMissingDataError,
    EbdParseError,
)
from protocols.ebd.mapping import (
    children_by_name,
    decode_record,
    decode_value,
    encode_record,
    encode_text,
    single,
)
from protocols.errors import XmlSafetyError
from protocols.safexml import DEFAULT_LIMITS, XmlLimits, local_name, parse_xml

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_BODY_NAMES = frozenset(t.value for t in EbdType)


def build_ebd(ebd: Ebd) -> bytes:
    """Serialise ``ebd``; equal documents always give equal bytes (they get signed)."""
    root = ET.Element("EBD")
    _text(root, "EBDVersion", ebd.ebd_version)
    _text(root, "EBDID", encode_text(ebd.ebdid))
    _text(root, "EBDType", ebd.ebd_type.value)
    encode_record(ebd.src, ET.SubElement(root, "SRC"), "EBD/SRC")
    if ebd.dest is not None:
        encode_record(ebd.dest, ET.SubElement(root, "DEST"), "EBD/DEST")
    _text(root, "EBDTime", encode_text(ebd.ebd_time))
    if ebd.related_ebd is not None:
        _text(ET.SubElement(root, "RelatedEBD"), "EBDID", encode_text(ebd.related_ebd))
    name = ebd.ebd_type.value
    encode_record(ebd.body, ET.SubElement(root, name), f"EBD/{name}")
    ET.indent(root, space="  ")
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"


def _text(parent: ET.Element, name: str, text: str) -> None:
    ET.SubElement(parent, name).text = text


def parse_ebd(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> Ebd:
    """Read an EBDB file. Raises an EbdResultError subclass naming the element at fault."""
    return _parse_root(_parse_xml(data, limits))


def _parse_xml(data: bytes, limits: XmlLimits) -> ET.Element:
    try:
        return parse_xml(data, limits)
    except XmlSafetyError as exc:
        err = EbdParseError(f"EBDB refused: {exc.message}", code=exc.code)
        if exc.code == "payload-too-large":  # a size limit is "other error", not a parse fault
            err.result_code = ResultCode.OTHER_ERROR
        raise err from exc


def _parse_root(root: ET.Element) -> Ebd:
    if local_name(root.tag) != "EBD":
        raise EbdParseError(f"the root element is <{local_name(root.tag)}>; expected <EBD>")
    children = children_by_name(root)
    _refuse_legacy(children)
    ebd_type = _ebd_type(children)
    return Ebd(
        ebd_version=_required(children, "EBDVersion", str),
        ebdid=_required(children, "EBDID", EBDID),
        src=_required(children, "SRC", Src),
        dest=_optional(children, "DEST", Dest),
        ebd_time=_required(children, "EBDTime", dt.datetime),
        related_ebd=_related(children),
        body=_body(children, ebd_type),
    )


def _required(children: dict[str, list[ET.Element]], name: str, tp: Any) -> Any:
    elem = single(children, name, "EBD")
    if elem is None:
        raise EbdMissingDataError(f"EBD/{name}", "missing required element")
    return decode_value(tp, elem, f"EBD/{name}")


def _optional(children: dict[str, list[ET.Element]], name: str, tp: Any) -> Any:
    elem = single(children, name, "EBD")
    return None if elem is None else decode_value(tp, elem, f"EBD/{name}")


def _related(children: dict[str, list[ET.Element]]) -> EBDID | None:
    elem = single(children, "RelatedEBD", "EBD")
    if elem is None:
        return None
    inner = single(children_by_name(elem), "EBDID", "EBD/RelatedEBD")
    if inner is None:
        raise EbdMissingDataError("EBD/RelatedEBD/EBDID", "missing required element")
    value: EBDID = decode_value(EBDID, inner, "EBD/RelatedEBD/EBDID")
    return value


def _ebd_type(children: dict[str, list[ET.Element]]) -> EbdType:
    elem = single(children, "EBDType", "EBD")
    if elem is None:
        raise EbdMissingDataError("EBD/EBDType", "missing required element")
    text = (elem.text or "").strip()
    try:
        return EbdType(text)
    except ValueError:
        raise EbdInvalidValueError("EBD/EBDType", f"unknown EBD type {text!r}") from None


def _body(children: dict[str, list[ET.Element]], ebd_type: EbdType) -> Any:
    present = sorted(name for name in children if name in _BODY_NAMES)
    if ebd_type.value not in children:
        if present:
            raise EbdParseError(
                f"EBDType is {ebd_type.value} but the body element is <{present[0]}>"
            )
        raise EbdMissingDataError(f"EBD/{ebd_type.value}", "missing body element")
    if len(present) > 1:
        raise EbdParseError(f"an EBD carries one body; found {', '.join(present)}")
    elem = single(children, ebd_type.value, "EBD")
    assert elem is not None
    return decode_record(BODY_TYPES[ebd_type], elem, f"EBD/{ebd_type.value}")


def _refuse_legacy(children: dict[str, list[ET.Element]]) -> None:
    src = single(children, "SRC", "EBD")
    names = children_by_name(src) if src is not None else {}
    if "EBEID" in names and "EBRID" not in names:
        raise EbdParseError(
            "legacy 2016-17 EBD (SRC/EBEID, 18-digit ids) is not supported; "
            "ask the sender for the GY/T 384 (2018+) format with EBRID",
            code="ebd-legacy-format",
        )
