"""Code tables of GY/T 384 / GY/T 385 (standards.md section 4) as enums.

The numbers are the wire values; names are ours. ``RecordOperation`` and ``DataScope`` are the
two different ``RptType`` vocabularies seen in public implementations (see docs/ebd.md).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class EbdType(StrEnum):
    EBM = "EBM"
    EBM_STATE_REQUEST = "EBMStateRequest"
    EBM_STATE_RESPONSE = "EBMStateResponse"
    EBM_BRD_LOG = "EBMBrdLog"
    OMD_REQUEST = "OMDRequest"
    EBD_RESPONSE = "EBDResponse"
    EBRPS_INFO = "EBRPSInfo"
    EBRST_INFO = "EBRSTInfo"
    EBRAS_INFO = "EBRASInfo"
    EBRBS_INFO = "EBRBSInfo"
    EBRDT_INFO = "EBRDTInfo"
    EBRPS_STATE = "EBRPSState"
    EBRAS_STATE = "EBRASState"
    EBRBS_STATE = "EBRBSState"
    EBRDT_STATE = "EBRDTState"
    CONNECTION_CHECK = "ConnectionCheck"


# What an OMDRequest may ask for: the reports a platform sends up.
OMD_TYPES = frozenset(
    {
        EbdType.EBRPS_INFO,
        EbdType.EBRST_INFO,
        EbdType.EBRAS_INFO,
        EbdType.EBRBS_INFO,
        EbdType.EBRDT_INFO,
        EbdType.EBM_BRD_LOG,
        EbdType.EBRPS_STATE,
        EbdType.EBRAS_STATE,
        EbdType.EBRBS_STATE,
        EbdType.EBRDT_STATE,
    }
)


class MsgType(IntEnum):
    REAL = 1
    CANCEL = 2
    PLATFORM_DRILL = 3
    FRONTEND_DRILL = 4
    TERMINAL_DRILL = 5

    @property
    def is_drill(self) -> bool:
        return self in (MsgType.PLATFORM_DRILL, MsgType.FRONTEND_DRILL, MsgType.TERMINAL_DRILL)


class Severity(IntEnum):
    UNKNOWN = 0
    RED = 1  # 特别重大
    ORANGE = 2  # 重大
    YELLOW = 3  # 较大
    BLUE = 4  # 一般


class ResultCode(IntEnum):
    """EBDResponse ResultCode."""

    UNPROCESSED = 0
    OK = 1
    PARSE_FAILURE = 2
    MISSING_DATA = 3
    SIGNATURE_FAILED = 4
    OTHER_ERROR = 5


class BrdStateCode(IntEnum):
    UNPROCESSED = 0
    WAITING = 1  # waiting for the start time
    BROADCASTING = 2
    SUCCEEDED = 3
    FAILED = 4
    CANCELLED = 5


class ResourceStateCode(IntEnum):
    NORMAL = 1
    STOPPED = 2
    FAULT = 3
    RECOVERED = 4
    BROADCASTING = 5


class AuxiliaryType(IntEnum):
    MPEG_AUDIO = 1  # MPEG-1 layer 1/2
    MP3 = 2
    DRA = 3
    DRA_PLUS = 4
    PNG = 41
    JPEG = 42
    GIF = 43
    AV_STREAM = 61


class RecordOperation(StrEnum):
    """``RptType`` on one resource record."""

    SYNC = "Sync"  # add or update
    DELETE = "Delete"


class DataScope(StrEnum):
    """``RptType`` inside ``Params``: a full snapshot or the changes since the last report."""

    FULL = "Full"
    INCREMENTAL = "Incremental"
