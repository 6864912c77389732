"""The EBM body (GY/T 385 message carried in an EBD): what to broadcast, where and how."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, ClassVar

from protocols.codes import EBMID
from protocols.ebd import rules
from protocols.ebd.common import ResourceRef
from protocols.ebd.enums import AuxiliaryType, EbdType, MsgType, Severity
from protocols.ebd.mapping import COMMA_LIST, Xml


@dataclass(frozen=True, kw_only=True)
class RelatedInfo:
    ebiid: Annotated[str | None, Xml("EBIID")] = None
    ebmid: Annotated[EBMID | None, Xml("EBMID")] = None


@dataclass(frozen=True, kw_only=True)
class MsgBasicInfo:
    msg_type: Annotated[MsgType, Xml("MsgType")]
    sender_name: Annotated[str, Xml("SenderName")]
    sender_code: Annotated[str, Xml("SenderCode")]
    send_time: Annotated[dt.datetime, Xml("SendTime")]
    # A cancel only names the message it cancels, so these four may be absent then.
    event_type: Annotated[str | None, Xml("EventType")] = None
    severity: Annotated[Severity | None, Xml("Severity")] = None
    start_time: Annotated[dt.datetime | None, Xml("StartTime")] = None
    end_time: Annotated[dt.datetime | None, Xml("EndTime")] = None

    def __post_init__(self) -> None:
        rules.require(self.sender_code, "SenderCode")
        if self.msg_type is not MsgType.CANCEL:
            why = "needed unless MsgType is 2 (cancel)"
            rules.require(self.event_type, "EventType", why)
            rules.require(self.severity, "Severity", why)
            rules.require(self.start_time, "StartTime", why)
            rules.require(self.end_time, "EndTime", why)
        if self.event_type is not None and not (
            len(self.event_type) == 5 and self.event_type.isascii() and self.event_type.isalnum()
        ):
            raise rules.invalid(
                "EventType", f"{self.event_type!r} is not a 5-character event code like 11B01"
            )
        if self.start_time and self.end_time and self.end_time < self.start_time:
            raise rules.invalid("EndTime", "is before StartTime")


@dataclass(frozen=True, kw_only=True)
class Auxiliary:
    auxiliary_type: Annotated[AuxiliaryType, Xml("AuxiliaryType")]
    auxiliary_desc: Annotated[str, Xml("AuxiliaryDesc")]  # a file name in the package, or a URL
    size: Annotated[int | None, Xml("Size")] = None
    digest: Annotated[str | None, Xml("Digest")] = None

    def __post_init__(self) -> None:
        rules.require(self.auxiliary_desc, "AuxiliaryDesc")
        if self.size is not None and self.size < 0:
            raise rules.invalid("Size", "must not be negative")


@dataclass(frozen=True, kw_only=True)
class MsgContent:
    """One language's text; an EBM carries one MsgContent per language."""

    language_code: Annotated[str, Xml("LanguageCode")]
    msg_title: Annotated[str, Xml("MsgTitle")]
    msg_desc: Annotated[str | None, Xml("MsgDesc")] = None
    area_codes: Annotated[tuple[str, ...], Xml("AreaCode", codec=COMMA_LIST)]
    program_num: Annotated[int | None, Xml("ProgramNum")] = None
    auxiliaries: Annotated[tuple[Auxiliary, ...], Xml("Auxiliary")] = ()

    def __post_init__(self) -> None:
        rules.language(self.language_code, "LanguageCode")
        rules.require(self.msg_title, "MsgTitle")
        rules.require(self.area_codes, "AreaCode")
        object.__setattr__(self, "area_codes", rules.region_codes(self.area_codes, "AreaCode"))
        if not self.msg_desc and not self.auxiliaries:
            rules.require(self.msg_desc, "MsgDesc", "needed when there is no Auxiliary")


@dataclass(frozen=True, kw_only=True)
class BroadcastSystemRef:
    """``Dispatch/EBRBS``: which broadcast systems behind an adapter to use."""

    brd_sys_type: Annotated[str | None, Xml("BrdSysType")] = None
    brd_sys_info: Annotated[str, Xml("BrdSysInfo")]


@dataclass(frozen=True, kw_only=True)
class Dispatch:
    language_code: Annotated[str, Xml("LanguageCode")]
    ebrps: Annotated[tuple[ResourceRef, ...], Xml("EBRPS")] = ()
    ebrrts: Annotated[tuple[ResourceRef, ...], Xml("EBRRTS")] = ()
    ebras: Annotated[tuple[ResourceRef, ...], Xml("EBRAS")] = ()
    ebrbs: Annotated[tuple[BroadcastSystemRef, ...], Xml("EBRBS")] = ()

    def __post_init__(self) -> None:
        rules.language(self.language_code, "LanguageCode")


@dataclass(frozen=True, kw_only=True)
class Ebm:
    EBD_TYPE: ClassVar[EbdType] = EbdType.EBM

    ebm_version: Annotated[str, Xml("EBMVersion")]
    ebmid: Annotated[EBMID, Xml("EBMID")]
    related_info: Annotated[RelatedInfo | None, Xml("RelatedInfo")] = None
    msg_basic_info: Annotated[MsgBasicInfo, Xml("MsgBasicInfo")]
    contents: Annotated[tuple[MsgContent, ...], Xml("MsgContent")] = ()
    dispatches: Annotated[tuple[Dispatch, ...], Xml("Dispatch")] = ()

    def __post_init__(self) -> None:
        rules.require(self.ebm_version, "EBMVersion")
        if self.msg_basic_info.msg_type is not MsgType.CANCEL:
            rules.require(self.contents, "MsgContent", "needed unless MsgType is 2 (cancel)")
        seen: set[str] = set()
        for i, content in enumerate(self.contents):
            if content.language_code in seen:
                raise rules.invalid(
                    f"MsgContent[{i}]/LanguageCode",
                    f"a second MsgContent for {content.language_code!r}",
                )
            seen.add(content.language_code)
