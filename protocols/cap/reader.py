"""Reading CAP 1.2 XML into the model.

Only a document that is not a CAP 1.2 alert at all is refused here. Everything else is read
leniently and the document-level findings (unknown, repeated or misordered elements, stray
text) ride along in ``Alert.parse_problems`` for ``validate`` to report with the rest.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

from protocols.cap.model import NAMESPACE, Alert
from protocols.cap.schema import ALERT, Kind, Shape, decode
from protocols.errors import CapError, Problem
from protocols.safexml import DEFAULT_LIMITS, XmlLimits, parse_xml

_KNOWN_CAP_NAMESPACES = {
    "urn:oasis:names:tc:emergency:cap:1.1": "CAP 1.1",
    "urn:oasis:names:tc:emergency:cap:1.0": "CAP 1.0",
    "http://www.incident.com/cap/1.0": "CAP 1.0",
}
# XML-DSig is the one foreign namespace the schema admits (as trailing alert children).
_XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


def parse_cap(data: bytes | str, limits: XmlLimits = DEFAULT_LIMITS) -> Alert:
    """Read a CAP 1.2 alert. XmlSafetyError for unsafe or malformed XML (propagated as is);
    CapError when the root is not a CAP 1.2 ``alert``. Rule checks are ``validate``'s job."""
    root = parse_xml(data, limits)
    namespace, local = _split(root.tag)
    if local != "alert":
        raise CapError([Problem(local, "root-element", f"root element is <{local}>, not <alert>")])
    if namespace != NAMESPACE:
        raise CapError([Problem("alert", "namespace", _namespace_message(namespace))])
    problems: list[Problem] = []
    alert = _read(root, ALERT, "alert", problems)
    assert isinstance(alert, Alert)
    return replace(alert, parse_problems=tuple(problems)) if problems else alert


def _namespace_message(namespace: str | None) -> str:
    if namespace is None:
        return f'<alert> has no namespace; CAP 1.2 needs xmlns="{NAMESPACE}"'
    version = _KNOWN_CAP_NAMESPACES.get(namespace)
    if version is not None:
        return f"{version} ({namespace}) is not supported; send CAP 1.2 ({NAMESPACE})"
    return f"namespace {namespace!r} is not CAP 1.2 ({NAMESPACE})"


def _read(element: ET.Element, shape: Shape, path: str, problems: list[Problem]) -> Any:
    values: dict[str, Any] = {slot.attr: slot.empty() for slot in shape.slots}
    seen: set[str] = set()
    counts: dict[str, int] = {}
    furthest = -1
    if (element.text or "").strip():
        problems.append(Problem(path, "unexpected-content", "text outside any child element"))
    for child in element:
        if (child.tail or "").strip():
            problems.append(Problem(path, "unexpected-content", "text outside any child element"))
        namespace, local = _split(child.tag)
        if namespace == _XMLDSIG and shape is ALERT:
            continue  # an enveloped signature: verified (if at all) on the raw bytes elsewhere
        found = shape.find(local) if namespace == NAMESPACE else None
        if found is None:
            where = f"{{{namespace}}}{local}" if namespace and namespace != NAMESPACE else local
            message = f"<{where}> is not a CAP 1.2 element here"
            problems.append(Problem(f"{path}/{local}", "unknown-element", message))
            continue
        position, slot = found
        index = counts.get(slot.tag, 0)
        counts[slot.tag] = index + 1
        child_path = f"{path}/{slot.tag}[{index}]" if slot.many else f"{path}/{slot.tag}"
        if slot.tag in seen and not slot.many:
            problems.append(
                Problem(
                    child_path,
                    "duplicate-element",
                    f"<{slot.tag}> may appear only once; the first one is used",
                )
            )
            continue
        seen.add(slot.tag)
        if position < furthest:
            problems.append(
                Problem(child_path, "element-order", f"<{slot.tag}> is out of the schema's order")
            )
        furthest = max(furthest, position)
        if slot.kind is Kind.NODE:
            assert slot.shape is not None
            value = _read(child, slot.shape, child_path, problems)
        else:
            if len(child):
                problems.append(
                    Problem(
                        child_path,
                        "unexpected-content",
                        f"<{slot.tag}> holds elements; only text is allowed",
                    )
                )
            value = decode(slot, child.text or "")
        if slot.many:
            values[slot.attr] = (*values[slot.attr], value)
        else:
            values[slot.attr] = value
    return shape.factory(**values)
