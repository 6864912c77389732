"""Errors raised by the wire-format libraries.

ValueError
└── ProtocolError            bad input: a stable ``code`` and a message a person can act on
    ├── CodeError            a region code, EBRID, EBMID or EBDID that is malformed
    ├── XmlSafetyError       XML refused before parsing finished (DTD, entity, size, depth)
    ├── CapError             a CAP 1.2 message breaking one or more rules (``problems``)
    ├── EbdError             an EBD document or package that cannot be read
    └── BinaryFormatError    a bearer frame, section or packet that cannot be decoded
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One rule broken at one place: ``path`` is an element path like ``alert/info[1]/area[0]``."""

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.rule}]"


class ProtocolError(ValueError):
    code = "invalid-input"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class CodeError(ProtocolError):
    code = "invalid-code"


class XmlSafetyError(ProtocolError):
    code = "unsafe-xml"


class CapError(ProtocolError):
    code = "invalid-cap"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        summary = "; ".join(str(p) for p in self.problems[:5])
        more = f" (+{len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"CAP message breaks {len(self.problems)} rule(s): {summary}{more}")


class EbdError(ProtocolError):
    code = "invalid-ebd"


class BinaryFormatError(ProtocolError):
    code = "invalid-frame"
