"""The EBD document: the ``<EBD>`` header and exactly one body, whose type names the body."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from protocols.codes import EBDID, ResourceCode
from protocols.ebd import rules
from protocols.ebd.ebm import Ebm
from protocols.ebd.enums import EbdType
from protocols.ebd.mapping import Xml
from protocols.ebd.resources import (
    EbrasInfo,
    EbrasState,
    EbrbsInfo,
    EbrbsState,
    EbrdtInfo,
    EbrdtState,
    EbrpsInfo,
    EbrpsState,
    EbrstInfo,
)
from protocols.ebd.status import (
    ConnectionCheck,
    EbdResponse,
    EbmBrdLog,
    EbmStateRequest,
    EbmStateResponse,
    OmdRequest,
)

# Public implementations write "1" or "1.0"; both are accepted, "1.0" is written (unconfirmed).
EBD_VERSION = "1.0"

Body = (
    Ebm
    | EbmStateRequest
    | EbmStateResponse
    | EbmBrdLog
    | OmdRequest
    | EbdResponse
    | EbrpsInfo
    | EbrstInfo
    | EbrasInfo
    | EbrbsInfo
    | EbrdtInfo
    | EbrpsState
    | EbrasState
    | EbrbsState
    | EbrdtState
    | ConnectionCheck
)

BODY_TYPES: dict[EbdType, type[Body]] = {
    cls.EBD_TYPE: cls
    for cls in (
        Ebm,
        EbmStateRequest,
        EbmStateResponse,
        EbmBrdLog,
        OmdRequest,
        EbdResponse,
        EbrpsInfo,
        EbrstInfo,
        EbrasInfo,
        EbrbsInfo,
        EbrdtInfo,
        EbrpsState,
        EbrasState,
        EbrbsState,
        EbrdtState,
        ConnectionCheck,
    )
}


@dataclass(frozen=True, kw_only=True)
class Src:
    ebrid: Annotated[ResourceCode, Xml("EBRID")]
    url: Annotated[str | None, Xml("URL")] = None  # where the sender takes replies


@dataclass(frozen=True, kw_only=True)
class Dest:
    ebrid: Annotated[ResourceCode, Xml("EBRID")]


@dataclass(frozen=True, kw_only=True)
class Ebd:
    ebd_version: str = EBD_VERSION
    ebdid: EBDID
    src: Src
    dest: Dest | None = None
    ebd_time: dt.datetime
    related_ebd: EBDID | None = None  # the package this one answers
    body: Body

    def __post_init__(self) -> None:
        rules.require(self.ebd_version, "EBDVersion")
        if type(self.body) not in BODY_TYPES.values():
            raise TypeError(f"{type(self.body).__name__} is not an EBD body")

    @property
    def ebd_type(self) -> EbdType:
        return self.body.EBD_TYPE
