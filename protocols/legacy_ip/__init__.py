"""IP loudspeakers of GD/J 089 Appendix D: binary frames over TCP, pure bytes in / bytes out.

Signing and verification are callables handed in (protocols/ knows nothing of signing/).
The layouts, and which of them are our own choices, are in docs/legacy-loudspeakers.md.
"""

from __future__ import annotations

from protocols.legacy_ip.bodies import BODY_TYPES, Body, Report, body_of, decode_body, reporter
from protocols.legacy_ip.commands import (
    AUX_STREAM,
    VOLUME_DEFAULT,
    Addressing,
    Auxiliary,
    BroadcastType,
    Clock,
    GeneralReply,
    Query,
    QueryType,
    StartStop,
)
from protocols.legacy_ip.crc import crc32_mpeg2
from protocols.legacy_ip.errors import (
    BadBcd,
    BadCrc,
    BadDirection,
    BadField,
    BadSignature,
    BadSignatureLength,
    BadVersion,
    LegacyFrameError,
    TooLong,
    TrailingBytes,
    Truncated,
    UnknownCommand,
)
from protocols.legacy_ip.frame import (
    BLOCK_LENGTH,
    DEFAULT_MAX_BODY,
    HEADER_LENGTH,
    TAIL_LENGTH,
    VERSION,
    Command,
    Direction,
    Frame,
    SignFunction,
    VerifyFunction,
    check_header,
    decode_frame,
    encode_frame,
)
from protocols.legacy_ip.reports import (
    Heartbeat,
    ReplyResult,
    StartStopReply,
    TaskEnd,
    TaskEndResult,
    TaskStart,
    WorkState,
)
from protocols.legacy_ip.stream import FrameReader

__all__ = [
    "AUX_STREAM",
    "BLOCK_LENGTH",
    "BODY_TYPES",
    "DEFAULT_MAX_BODY",
    "HEADER_LENGTH",
    "TAIL_LENGTH",
    "VERSION",
    "VOLUME_DEFAULT",
    "Addressing",
    "Auxiliary",
    "BadBcd",
    "BadCrc",
    "BadDirection",
    "BadField",
    "BadSignature",
    "BadSignatureLength",
    "BadVersion",
    "Body",
    "BroadcastType",
    "Clock",
    "Command",
    "Direction",
    "Frame",
    "FrameReader",
    "GeneralReply",
    "Heartbeat",
    "LegacyFrameError",
    "Query",
    "QueryType",
    "ReplyResult",
    "Report",
    "SignFunction",
    "StartStop",
    "StartStopReply",
    "TaskEnd",
    "TaskEndResult",
    "TaskStart",
    "TooLong",
    "TrailingBytes",
    "Truncated",
    "UnknownCommand",
    "VerifyFunction",
    "WorkState",
    "body_of",
    "check_header",
    "crc32_mpeg2",
    "decode_body",
    "decode_frame",
    "encode_frame",
    "reporter",
]
