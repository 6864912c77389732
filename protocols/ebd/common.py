"""Small elements shared by several EBD bodies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from protocols.codes import ResourceCode
from protocols.ebd import rules
from protocols.ebd.enums import DataScope
from protocols.ebd.mapping import Xml


@dataclass(frozen=True, kw_only=True)
class ResourceRef:
    """A resource named only by its code: ``<EBRPS><EBRID>...</EBRID></EBRPS>``."""

    ebrid: Annotated[ResourceCode, Xml("EBRID")]


@dataclass(frozen=True, kw_only=True)
class Params:
    """The report window and scope an OMDRequest asks for and a report answers with."""

    rpt_start_time: Annotated[dt.datetime | None, Xml("RptStartTime")] = None
    rpt_end_time: Annotated[dt.datetime | None, Xml("RptEndTime")] = None
    rpt_type: Annotated[DataScope | None, Xml("RptType")] = None

    def __post_init__(self) -> None:
        if self.rpt_start_time and self.rpt_end_time and self.rpt_end_time < self.rpt_start_time:
            raise rules.invalid("RptEndTime", "is before RptStartTime")
