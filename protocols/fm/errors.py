"""Why an FM packet or RDS group stream was refused; each error has a stable ``code``.

Receivers count refusals by ``code``, so the codes are a contract: never rename one.
"""

from __future__ import annotations

from protocols.errors import BinaryFormatError


class FmFormatError(BinaryFormatError):
    code = "invalid-fm"


class BadLine(FmFormatError):
    """A text line that is not four 4-digit hex blocks (or holds a block the receiver lost)."""

    code = "bad-line"


class MissingSegment(FmFormatError):
    """A group of a packet never arrived, or arrived out of order: the packet is dropped."""

    code = "missing-segment"


class Truncated(FmFormatError):
    code = "truncated"


class BadCrc(FmFormatError):
    code = "bad-crc"


class BadBcd(FmFormatError):
    """A BCD field with a non-decimal nibble, a wrong pad, or digits that are no valid code."""

    code = "bad-bcd"


class UnknownType(FmFormatError):
    """A packet type this decoder does not read (undefined, or defined but not implemented)."""

    code = "unknown-type"


class BadField(FmFormatError):
    """A field out of its range, text that is not GB18030, or bytes left over."""

    code = "bad-field"


class BadSignature(FmFormatError):
    code = "bad-signature"
