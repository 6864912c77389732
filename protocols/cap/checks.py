"""Small checks shared by the alert-level and area-level rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from protocols.cap.lexical import time_mistake
from protocols.errors import Problem


@dataclass(frozen=True)
class ValidationOptions:
    """Limits a deployment may tune. Polygons with thousands of vertices are a known field
    problem: terminals and region resolvers slow down or give up on them."""

    max_polygon_vertices: int = 1000


@dataclass
class Findings:
    problems: list[Problem] = field(default_factory=list)

    def add(self, path: str, rule: str, message: str) -> None:
        self.problems.append(Problem(path, rule, message))


def required_text(out: Findings, path: str, value: str | None) -> bool:
    """Report a missing or empty required element; True when a value is there."""
    if value is None or not value.strip():
        tag = path.rsplit("/", 1)[-1]
        out.add(path, "required", f"<{tag}> is required")
        return False
    return True


def enum_value(
    out: Findings, path: str, value: str, enum: type[StrEnum], *, required: bool = True
) -> None:
    if value in enum._value2member_map_:
        return
    tag = path.rsplit("/", 1)[-1].split("[", 1)[0]
    if value == "" and required:
        out.add(path, "required", f"<{tag}> is required")
        return
    allowed = ", ".join(member.value for member in enum)
    out.add(path, "enum", f"<{tag}> is {value!r}; allowed: {allowed}")


def time_value(out: Findings, path: str, value: dt.datetime | str | None) -> None:
    if value is None:
        return
    tag = path.rsplit("/", 1)[-1]
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        if offset is None:
            out.add(path, "datetime-offset", f"<{tag}> has no time-zone offset")
        elif value.microsecond or offset % dt.timedelta(minutes=1):
            out.add(
                path,
                "datetime-format",
                f"<{tag}> must be whole seconds with an offset in whole minutes",
            )
        return
    rule = time_mistake(value)
    if rule == "datetime-offset":
        message = (
            f"<{tag}> {value.strip()!r} needs an explicit offset such as -07:00 "
            "(CAP 1.2 forbids 'Z'; write UTC as -00:00)"
        )
    else:
        message = (
            f"<{tag}> {value.strip()!r} is not yyyy-mm-ddThh:mm:ss+hh:mm "
            "(seconds required, no fractional seconds)"
        )
    out.add(path, rule, message)


def trimmed(out: Findings, path: str, value: str, what: str) -> None:
    if value != value.strip():
        out.add(path, "whitespace-in-value", f"{what} {value!r} has leading or trailing whitespace")
