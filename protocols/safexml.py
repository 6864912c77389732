"""Hardened XML reading shared by every XML format (CAP, EBD, EBDS).

Neither CAP nor GY/T 384 documents ever need a DTD, so any DOCTYPE, entity declaration or
external reference is refused outright; that defeats billion-laughs and XXE before any expansion.
Size is checked before parsing and depth while walking, so hostile input costs bounded work.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml
import defusedxml.ElementTree as DET

from protocols.errors import XmlSafetyError


@dataclass(frozen=True)
class XmlLimits:
    max_bytes: int = 2 * 1024 * 1024
    max_depth: int = 32
    max_elements: int = 100_000


DEFAULT_LIMITS = XmlLimits()


def parse_xml(data: bytes | str, limits: XmlLimits = DEFAULT_LIMITS) -> ET.Element:
    """Parse ``data`` into an Element, or raise XmlSafetyError naming what was refused."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > limits.max_bytes:
        raise XmlSafetyError(
            f"XML document is {len(raw)} bytes; the limit is {limits.max_bytes}",
            code="payload-too-large",
        )
    try:
        root: ET.Element = DET.fromstring(
            raw, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden as exc:
        raise XmlSafetyError("XML with a DOCTYPE/DTD is refused (no DTD is ever needed)") from exc
    except defusedxml.EntitiesForbidden as exc:
        raise XmlSafetyError("XML entity declarations are refused") from exc
    except defusedxml.ExternalReferenceForbidden as exc:
        raise XmlSafetyError("XML external references are refused") from exc
    except ET.ParseError as exc:
        raise XmlSafetyError(f"XML is not well-formed: {exc}", code="malformed-xml") from exc
    _check_shape(root, limits)
    return root


def _check_shape(root: ET.Element, limits: XmlLimits) -> None:
    stack: list[tuple[ET.Element, int]] = [(root, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > limits.max_depth:
            raise XmlSafetyError(f"XML nesting deeper than {limits.max_depth} levels is refused")
        if count > limits.max_elements:
            raise XmlSafetyError(f"XML with more than {limits.max_elements} elements is refused")
        stack.extend((child, depth + 1) for child in node)


def local_name(tag: str) -> str:
    """``{urn:...}info`` -> ``info``."""
    return tag.rsplit("}", 1)[-1]
