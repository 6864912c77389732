"""Resource reports sent upwards: EBR*Info (what a resource is) and EBR*State (how it is).

Info records differ per resource kind; State records share one shape. Each body holds its
records as repeated elements named after the kind (``<EBRPSInfo><EBRPS>...</EBRPS>...``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, ClassVar

from protocols.codes import ResourceCode
from protocols.ebd import rules
from protocols.ebd.common import Params, ResourceRef
from protocols.ebd.enums import EbdType, RecordOperation, ResourceStateCode
from protocols.ebd.mapping import COMMA_LIST, Xml


def _check_position(longitude: Decimal | None, latitude: Decimal | None) -> None:
    rules.coordinate(longitude, "Longitude", 180)
    rules.coordinate(latitude, "Latitude", 90)


@dataclass(frozen=True, kw_only=True)
class PlatformInfo:
    """``EBRPS`` in EBRPSInfo: an emergency broadcast platform."""

    rpt_time: Annotated[dt.datetime, Xml("RptTime")]
    rpt_type: Annotated[RecordOperation, Xml("RptType")]
    related_ebrps: Annotated[ResourceRef | None, Xml("RelatedEBRPS")] = None
    ebrid: Annotated[ResourceCode, Xml("EBRID")]
    ebr_name: Annotated[str, Xml("EBRName")]
    address: Annotated[str, Xml("Address")]
    contact: Annotated[str, Xml("Contact")]
    phone_number: Annotated[str, Xml("PhoneNumber")]
    longitude: Annotated[Decimal, Xml("Longitude")]
    latitude: Annotated[Decimal, Xml("Latitude")]
    url: Annotated[str, Xml("URL")]

    def __post_init__(self) -> None:
        rules.require(self.ebr_name, "EBRName")
        _check_position(self.longitude, self.latitude)


@dataclass(frozen=True, kw_only=True)
class StationInfo:
    """``EBRST`` in EBRSTInfo: a transmitter station or head-end."""

    rpt_time: Annotated[dt.datetime, Xml("RptTime")]
    rpt_type: Annotated[RecordOperation, Xml("RptType")]
    related_ebrps: Annotated[ResourceRef | None, Xml("RelatedEBRPS")] = None
    ebrid: Annotated[ResourceCode, Xml("EBRID")]
    ebr_name: Annotated[str, Xml("EBRName")]
    address: Annotated[str | None, Xml("Address")] = None
    contact: Annotated[str | None, Xml("Contact")] = None
    phone_number: Annotated[str | None, Xml("PhoneNumber")] = None
    longitude: Annotated[Decimal | None, Xml("Longitude")] = None
    latitude: Annotated[Decimal | None, Xml("Latitude")] = None

    def __post_init__(self) -> None:
        rules.require(self.ebr_name, "EBRName")
        _check_position(self.longitude, self.latitude)


@dataclass(frozen=True, kw_only=True)
class AdapterInfo:
    """``EBRAS`` in EBRASInfo: a message receiving adapter."""

    rpt_time: Annotated[dt.datetime, Xml("RptTime")]
    rpt_type: Annotated[RecordOperation, Xml("RptType")]
    related_ebrps: Annotated[ResourceRef | None, Xml("RelatedEBRPS")] = None
    related_ebrst: Annotated[ResourceRef | None, Xml("RelatedEBRST")] = None
    ebrid: Annotated[ResourceCode, Xml("EBRID")]
    ebr_name: Annotated[str, Xml("EBRName")]
    longitude: Annotated[Decimal | None, Xml("Longitude")] = None
    latitude: Annotated[Decimal | None, Xml("Latitude")] = None
    url: Annotated[str | None, Xml("URL")] = None

    def __post_init__(self) -> None:
        rules.require(self.ebr_name, "EBRName")
        _check_position(self.longitude, self.latitude)


@dataclass(frozen=True, kw_only=True)
class RadioParams:
    """Analogue transmitter details of a broadcast system."""

    channel_name: Annotated[str | None, Xml("ChannelName")] = None
    freq: Annotated[int | None, Xml("Freq")] = None
    power: Annotated[int | None, Xml("Power")] = None  # watts
    backup: Annotated[int | None, Xml("Backup")] = None  # 1 standby unit, 2 not
    auto_switch: Annotated[int | None, Xml("AutoSwitch")] = None  # 1 yes, 2 no
    remote_control: Annotated[int | None, Xml("RemoteControl")] = None  # 1 can, 2 cannot
    experiment: Annotated[int | None, Xml("Experiment")] = None  # 1 test, 2 coverage


@dataclass(frozen=True, kw_only=True)
class TVParams:
    """Digital TV details of a broadcast system."""

    channel_name: Annotated[str | None, Xml("ChannelName")] = None
    freq: Annotated[int | None, Xml("Freq")] = None
    program_num: Annotated[str | None, Xml("ProgramNum")] = None
    channel_num: Annotated[str | None, Xml("ChannelNum")] = None


@dataclass(frozen=True, kw_only=True)
class Switch:
    """One on/off window of a broadcast system's schedule.

    Times stay text: peers send either ``yyyy-MM-dd HH:mm:ss`` or a bare ``HH:mm:ss``.
    """

    weekday: Annotated[int, Xml("Weekday")]
    start_time: Annotated[str, Xml("StartTime")]
    end_time: Annotated[str, Xml("EndTime")]


@dataclass(frozen=True, kw_only=True)
class BroadcastSystemInfo:
    """``EBRBS`` in EBRBSInfo: a transmission/coverage system (FM, DTMB, loudspeakers...)."""

    rpt_time: Annotated[dt.datetime, Xml("RptTime")]
    rpt_type: Annotated[RecordOperation, Xml("RptType")]
    related_ebrps: Annotated[ResourceRef | None, Xml("RelatedEBRPS")] = None
    related_ebrst: Annotated[ResourceRef | None, Xml("RelatedEBRST")] = None
    related_ebras: Annotated[ResourceRef | None, Xml("RelatedEBRAS")] = None
    ebrid: Annotated[ResourceCode, Xml("EBRID")]
    ebr_name: Annotated[str, Xml("EBRName")]
    url: Annotated[str | None, Xml("URL")] = None
    longitude: Annotated[Decimal, Xml("Longitude")]
    latitude: Annotated[Decimal, Xml("Latitude")]
    square: Annotated[Decimal, Xml("Square")]  # covered area
    area_codes: Annotated[tuple[str, ...], Xml("AreaCode", codec=COMMA_LIST)]
    population: Annotated[Decimal, Xml("Population")]
    language_code: Annotated[str, Xml("LanguageCode")]
    equip_room: Annotated[str, Xml("EquipRoom")]
    radio_params: Annotated[RadioParams | None, Xml("RadioParams")] = None
    tv_params: Annotated[TVParams | None, Xml("TVParams")] = None
    schedule: Annotated[tuple[Switch, ...], Xml("Switch", wrapper="Schedule")] = ()

    def __post_init__(self) -> None:
        rules.require(self.ebr_name, "EBRName")
        rules.require(self.area_codes, "AreaCode")
        object.__setattr__(self, "area_codes", rules.region_codes(self.area_codes, "AreaCode"))
        rules.language(self.language_code, "LanguageCode")
        _check_position(self.longitude, self.latitude)


@dataclass(frozen=True, kw_only=True)
class TerminalInfo:
    """``EBRDT`` in EBRDTInfo: a platform device or terminal."""

    rpt_time: Annotated[dt.datetime, Xml("RptTime")]
    rpt_type: Annotated[RecordOperation, Xml("RptType")]
    related_ebrps: Annotated[ResourceRef | None, Xml("RelatedEBRPS")] = None
    ebrid: Annotated[ResourceCode, Xml("EBRID")]
    ebr_name: Annotated[str, Xml("EBRName")]
    longitude: Annotated[Decimal | None, Xml("Longitude")] = None
    latitude: Annotated[Decimal | None, Xml("Latitude")] = None

    def __post_init__(self) -> None:
        rules.require(self.ebr_name, "EBRName")
        _check_position(self.longitude, self.latitude)


@dataclass(frozen=True, kw_only=True)
class ResourceState:
    """One resource's state in any EBR*State body."""

    rpt_time: Annotated[dt.datetime, Xml("RptTime")]
    ebrid: Annotated[ResourceCode, Xml("EBRID")]
    state_code: Annotated[ResourceStateCode, Xml("StateCode")]
    state_desc: Annotated[str, Xml("StateDesc")]


# ---------------------------------------------------------------- bodies


@dataclass(frozen=True, kw_only=True)
class EbrpsInfo:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBRPS_INFO
    params: Annotated[Params | None, Xml("Params")] = None
    records: Annotated[tuple[PlatformInfo, ...], Xml("EBRPS")] = ()


@dataclass(frozen=True, kw_only=True)
class EbrstInfo:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBRST_INFO
    params: Annotated[Params | None, Xml("Params")] = None
    records: Annotated[tuple[StationInfo, ...], Xml("EBRST")] = ()


@dataclass(frozen=True, kw_only=True)
class EbrasInfo:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBRAS_INFO
    params: Annotated[Params | None, Xml("Params")] = None
    records: Annotated[tuple[AdapterInfo, ...], Xml("EBRAS")] = ()


@dataclass(frozen=True, kw_only=True)
class EbrbsInfo:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBRBS_INFO
    params: Annotated[Params | None, Xml("Params")] = None
    records: Annotated[tuple[BroadcastSystemInfo, ...], Xml("EBRBS")] = ()


@dataclass(frozen=True, kw_only=True)
class EbrdtInfo:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBRDT_INFO
    params: Annotated[Params | None, Xml("Params")] = None
    records: Annotated[tuple[TerminalInfo, ...], Xml("EBRDT")] = ()


@dataclass(frozen=True, kw_only=True)
class EbrpsState:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBRPS_STATE
    records: Annotated[tuple[ResourceState, ...], Xml("EBRPS")] = ()


@dataclass(frozen=True, kw_only=True)
class EbrasState:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBRAS_STATE
    records: Annotated[tuple[ResourceState, ...], Xml("EBRAS")] = ()


@dataclass(frozen=True, kw_only=True)
class EbrbsState:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBRBS_STATE
    records: Annotated[tuple[ResourceState, ...], Xml("EBRBS")] = ()


@dataclass(frozen=True, kw_only=True)
class EbrdtState:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBRDT_STATE
    records: Annotated[tuple[ResourceState, ...], Xml("EBRDT")] = ()
