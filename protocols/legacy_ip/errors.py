"""Why a legacy loudspeaker frame was refused: one class per stable ``code``.

BinaryFormatError
└── LegacyFrameError
    ├── Truncated            fewer bytes than the header, the length field or a body field needs
    ├── TrailingBytes        bytes left after the frame or after the last body field
    ├── TooLong              a body length above the reader's limit (the stream cannot resync)
    ├── BadCrc               the CRC32 does not match
    ├── BadDirection         neither 0x49 nor 0x50, or not the direction the reader expects
    ├── BadVersion           a protocol version other than 0x0001
    ├── UnknownCommand       a protocol type this codec has no name for, or no body layout
    ├── BadSignatureLength   a signature length field other than 0x004A
    ├── BadSignature         the verifier handed to the decoder said no
    ├── BadBcd               a BCD field with a non-decimal nibble or a wrong pad nibble
    └── BadField             a field value out of its range (level, volume, text, ...)
"""

from __future__ import annotations

from protocols.errors import BinaryFormatError


class LegacyFrameError(BinaryFormatError):
    code = "invalid-frame"


class Truncated(LegacyFrameError):
    code = "truncated"


class TrailingBytes(LegacyFrameError):
    code = "trailing-bytes"


class TooLong(LegacyFrameError):
    code = "too-long"


class BadCrc(LegacyFrameError):
    code = "bad-crc"


class BadDirection(LegacyFrameError):
    code = "bad-direction"


class BadVersion(LegacyFrameError):
    code = "bad-version"


class UnknownCommand(LegacyFrameError):
    code = "unknown-command"


class BadSignatureLength(LegacyFrameError):
    code = "bad-signature-length"


class BadSignature(LegacyFrameError):
    code = "bad-signature"


class BadBcd(LegacyFrameError):
    code = "bad-bcd"


class BadField(LegacyFrameError):
    code = "bad-field"
