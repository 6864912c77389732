"""Message state and bookkeeping bodies: EBMStateRequest/Response, EBMBrdLog, OMDRequest,
EBDResponse and the ConnectionCheck heartbeat."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, ClassVar

from protocols.codes import EBMID, ResourceCode
from protocols.ebd import rules
from protocols.ebd.common import Params, ResourceRef
from protocols.ebd.ebm import MsgBasicInfo, MsgContent
from protocols.ebd.enums import OMD_TYPES, BrdStateCode, EbdType, ResultCode
from protocols.ebd.mapping import COMMA_INTS, COMMA_LIST, Xml


@dataclass(frozen=True, kw_only=True)
class Coverage:
    """Where a message actually reached."""

    coverage_rate: Annotated[Decimal, Xml("CoverageRate")]  # a fraction such as 0.95
    area_codes: Annotated[tuple[str, ...], Xml("AreaCode", codec=COMMA_LIST)]
    # Counts of platforms, adapters, broadcast devices and terminals actually used.
    res_brd_stat: Annotated[tuple[int, ...] | None, Xml("ResBrdStat", codec=COMMA_INTS)] = None

    def __post_init__(self) -> None:
        rules.require(self.area_codes, "AreaCode")
        object.__setattr__(self, "area_codes", rules.region_codes(self.area_codes, "AreaCode"))
        if self.res_brd_stat is not None and any(n < 0 for n in self.res_brd_stat):
            raise rules.invalid("ResBrdStat", "counts must not be negative")


@dataclass(frozen=True, kw_only=True)
class BroadcastRecord:
    """``EBRBS`` inside a ResBrdItem: what one broadcast system did with the message."""

    rpt_time: Annotated[dt.datetime | None, Xml("RptTime")] = None
    ebrid: Annotated[ResourceCode | None, Xml("EBRID")] = None
    brd_sys_type: Annotated[str | None, Xml("BrdSysType")] = None
    brd_sys_info: Annotated[str | None, Xml("BrdSysInfo")] = None
    start_time: Annotated[dt.datetime | None, Xml("StartTime")] = None
    end_time: Annotated[dt.datetime | None, Xml("EndTime")] = None
    file_url: Annotated[str | None, Xml("FileURL")] = None  # a recording of what went out
    brd_state_code: Annotated[BrdStateCode, Xml("BrdStateCode")]
    brd_state_desc: Annotated[str | None, Xml("BrdStateDesc")] = None


@dataclass(frozen=True, kw_only=True)
class ResBrdItem:
    """One resource's part in a broadcast (the per-resource items of a state report)."""

    ebrps: Annotated[ResourceRef | None, Xml("EBRPS")] = None
    ebrst: Annotated[ResourceRef | None, Xml("EBRST")] = None
    ebras: Annotated[ResourceRef | None, Xml("EBRAS")] = None
    ebrbs: Annotated[tuple[BroadcastRecord, ...], Xml("EBRBS")] = ()


@dataclass(frozen=True, kw_only=True)
class Unit:
    """The department and person who broadcast a message."""

    ebrps: Annotated[ResourceRef | None, Xml("EBRPS")] = None
    unit_id: Annotated[str | None, Xml("UnitID", aliases=("UnitId",))] = None
    unit_name: Annotated[str | None, Xml("UnitName")] = None
    person_id: Annotated[str | None, Xml("PersonID")] = None
    person_name: Annotated[str | None, Xml("PersonName")] = None


@dataclass(frozen=True, kw_only=True)
class EbmSummary:
    """The EBM as a broadcast log repeats it: id and text, no dispatch."""

    ebm_version: Annotated[str | None, Xml("EBMVersion")] = None
    ebmid: Annotated[EBMID, Xml("EBMID")]
    msg_basic_info: Annotated[MsgBasicInfo | None, Xml("MsgBasicInfo")] = None
    contents: Annotated[tuple[MsgContent, ...], Xml("MsgContent")] = ()


@dataclass(frozen=True, kw_only=True)
class EbmBrdItem:
    ebm: Annotated[EbmSummary, Xml("EBM")]
    units: Annotated[tuple[Unit, ...], Xml("Unit", wrapper="UnitInfo")] = ()
    brd_state_code: Annotated[BrdStateCode, Xml("BrdStateCode")]
    brd_state_desc: Annotated[str, Xml("BrdStateDesc")] = ""
    coverage: Annotated[Coverage | None, Xml("Coverage")] = None
    res_brd_items: Annotated[tuple[ResBrdItem, ...], Xml("ResBrdItem", wrapper="ResBrdInfo")] = ()


# ---------------------------------------------------------------- bodies


@dataclass(frozen=True, kw_only=True)
class EbmStateRequest:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBM_STATE_REQUEST
    ebmid: Annotated[EBMID, Xml("EBMID", wrapper="EBM")]


@dataclass(frozen=True, kw_only=True)
class EbmStateResponse:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBM_STATE_RESPONSE
    rpt_time: Annotated[dt.datetime, Xml("RptTime")]
    ebmid: Annotated[EBMID, Xml("EBMID", wrapper="EBM")]
    brd_state_code: Annotated[BrdStateCode, Xml("BrdStateCode")]
    brd_state_desc: Annotated[str, Xml("BrdStateDesc")] = ""
    coverage: Annotated[Coverage | None, Xml("Coverage")] = None
    res_brd_items: Annotated[tuple[ResBrdItem, ...], Xml("ResBrdItem", wrapper="ResBrdInfo")] = ()


@dataclass(frozen=True, kw_only=True)
class EbmBrdLog:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBM_BRD_LOG
    params: Annotated[Params | None, Xml("Params")] = None
    items: Annotated[tuple[EbmBrdItem, ...], Xml("EBMBrdItem")] = ()


@dataclass(frozen=True, kw_only=True)
class OmdRequest:
    """A request for operation and maintenance data (one of the report types)."""

    EBD_TYPE: ClassVar[EbdType] = EbdType.OMD_REQUEST
    omd_type: Annotated[EbdType, Xml("OMDType")]
    params: Annotated[Params | None, Xml("Params")] = None

    def __post_init__(self) -> None:
        if self.omd_type not in OMD_TYPES:
            allowed = ", ".join(sorted(t.value for t in OMD_TYPES))
            raise rules.invalid("OMDType", f"{self.omd_type.value} cannot be requested; {allowed}")


@dataclass(frozen=True, kw_only=True)
class EbdResponse:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBD_RESPONSE
    result_code: Annotated[ResultCode, Xml("ResultCode")]
    result_desc: Annotated[str, Xml("ResultDesc")] = ""


@dataclass(frozen=True, kw_only=True)
class ConnectionCheck:
    EBD_TYPE: ClassVar[EbdType] = EbdType.CONNECTION_CHECK
    rpt_time: Annotated[dt.datetime, Xml("RptTime")]
