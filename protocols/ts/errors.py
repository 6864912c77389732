"""Refusals of the TS signalling codec, one class per ``code`` so callers can count by reason.

BinaryFormatError                 (protocols.errors)
└── TsError
    ├── BadCrc          bad-crc         section CRC32 mismatch
    ├── Truncated       truncated       fewer bytes than a length field promises
    ├── BadBcd          bad-bcd         a nibble above 9, a missing 0xF pad, an impossible hh:mm:ss
    ├── BadMjd          bad-mjd         a date outside 1970-01-01 .. 2038-04-22 (16-bit MJD)
    ├── UnknownTable    unknown-table   a table_id this codec does not know
    ├── CcGap           cc-gap          a continuity-counter jump: packets were lost
    ├── BadPacket       bad-packet      not 188 bytes, no 0x47 sync, transport error flagged
    ├── BadSignature    bad-signature   the caller's verifier said no
    ├── BadText         bad-text        text that does not decode in its declared character set
    ├── TooLong         too-long        an item that cannot fit one section (4096 bytes)
    └── BadField        bad-field       any other value outside its range or syntax
"""

from __future__ import annotations

from protocols.errors import BinaryFormatError


class TsError(BinaryFormatError):
    code = "invalid-ts"


class BadCrc(TsError):
    code = "bad-crc"


class Truncated(TsError):
    code = "truncated"


class BadBcd(TsError):
    code = "bad-bcd"


class BadMjd(TsError):
    code = "bad-mjd"


class UnknownTable(TsError):
    code = "unknown-table"


class CcGap(TsError):
    code = "cc-gap"


class BadPacket(TsError):
    code = "bad-packet"


class BadSignature(TsError):
    code = "bad-signature"


class BadText(TsError):
    code = "bad-text"


class TooLong(TsError):
    code = "too-long"


class BadField(TsError):
    code = "bad-field"
