"""Checks the dataclasses run on construction, so a document built in code obeys the same
rules as one parsed from a peer. Errors name the element, relative to the dataclass."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from protocols.codes import RegionCode
from protocols.ebd.errors import EbdInvalidValueError, EbdMissingDataError
from protocols.errors import CodeError


def require(value: Any, element: str, why: str = "") -> None:
    if value is None or value == "" or value == ():
        raise EbdMissingDataError(
            element, "missing required element" + (f" ({why})" if why else "")
        )


def invalid(element: str, problem: str) -> EbdInvalidValueError:
    return EbdInvalidValueError(element, problem)


def region_codes(codes: Iterable[str], element: str) -> tuple[str, ...]:
    """Validate through RegionCode; 2/4/6/9-digit GB2260 forms are widened to 12 digits."""
    result: list[str] = []
    for i, code in enumerate(codes):
        try:
            result.append(RegionCode.parse(code).value)
        except CodeError as exc:
            raise invalid(f"{element}[{i}]", exc.message) from exc
    return tuple(result)


def coordinate(value: Decimal | None, element: str, limit: int) -> None:
    if value is not None and not -limit <= value <= limit:
        raise invalid(element, f"{value} is outside -{limit}..{limit} degrees")


def language(code: str, element: str) -> None:
    # ISO 639-2 three letters ("zho") per standards.md; two-letter ISO 639-1 tolerated.
    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha()):
        raise invalid(element, f"{code!r} is not an ISO 639 language code such as 'zho'")
