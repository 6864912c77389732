"""Writing the model as canonical CAP 1.2 XML.

Canonical here means: UTF-8 with a declaration, the default namespace on <alert>, the
schema's element order, two-space indentation between elements, and every value written
exactly as the model holds it (leaf text is never re-indented, so it round-trips).
The output is not XML-DSig canonical form; sign the bytes this returns, not a re-print.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from protocols.cap.model import NAMESPACE, Alert
from protocols.cap.schema import ALERT, Kind, Shape, children, encode
from protocols.errors import CapError, Problem

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape(text: str) -> str:
    # A literal CR would be normalised to LF by any parser; the reference keeps it.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def serialize_cap(alert: Alert) -> bytes:
    """CAP 1.2 XML for ``alert``. The alert need not be valid, but its text must be
    representable in XML: CapError (rule ``xml-characters``) otherwise."""
    problems = character_problems(alert)
    if problems:
        raise CapError(problems)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<alert xmlns="{NAMESPACE}">']
    _write(lines, alert, ALERT, 1)
    lines.append("</alert>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _write(lines: list[str], node: Any, shape: Shape, depth: int) -> None:
    pad = "  " * depth
    for slot, _, value in children(node, shape):
        if slot.kind is Kind.NODE:
            assert slot.shape is not None
            lines.append(f"{pad}<{slot.tag}>")
            _write(lines, value, slot.shape, depth + 1)
            lines.append(f"{pad}</{slot.tag}>")
        else:
            lines.append(f"{pad}<{slot.tag}>{_escape(encode(slot, value))}</{slot.tag}>")


def _leaves(node: Any, shape: Shape, path: str) -> Iterator[tuple[str, str]]:
    for slot, step, value in children(node, shape):
        if slot.kind is Kind.NODE:
            assert slot.shape is not None
            yield from _leaves(value, slot.shape, f"{path}/{step}")
        else:
            yield f"{path}/{step}", encode(slot, value)


def character_problems(alert: Alert) -> list[Problem]:
    """Values holding characters XML 1.0 forbids (only possible in a model built in code)."""
    problems = []
    for path, text in _leaves(alert, ALERT, "alert"):
        bad = _NOT_XML.search(text)
        if bad is not None:
            problems.append(
                Problem(
                    path,
                    "xml-characters",
                    f"character U+{ord(bad.group()):04X} cannot be carried in XML 1.0",
                )
            )
    return problems
