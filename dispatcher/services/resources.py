"""Resource information and state reports (EBRPSInfo, EBRASInfo, EBRBSInfo, EBRDTInfo and their
State reports) built from this platform's settings and inventory, for its upper platform."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from dispatcher.config import Settings
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import AdapterRecord, TerminalRecord
from protocols.codes import ResourceCode
from protocols.ebd import (
    AdapterInfo,
    Body,
    BroadcastSystemInfo,
    EbdType,
    EbrasInfo,
    EbrasState,
    EbrbsInfo,
    EbrbsState,
    EbrdtInfo,
    EbrdtState,
    EbrpsInfo,
    EbrpsState,
    PlatformInfo,
    RecordOperation,
    ResourceState,
    ResourceStateCode,
    TerminalInfo,
)
from protocols.errors import CodeError

TERMINAL_STATE = {
    "online": ResourceStateCode.NORMAL,
    "working": ResourceStateCode.BROADCASTING,
    "fault": ResourceStateCode.FAULT,
    "offline": ResourceStateCode.STOPPED,
    "unknown": ResourceStateCode.STOPPED,
}
REPORT_TYPES = (
    EbdType.EBRPS_INFO,
    EbdType.EBRPS_STATE,
    EbdType.EBRAS_INFO,
    EbdType.EBRAS_STATE,
    EbdType.EBRBS_INFO,
    EbdType.EBRBS_STATE,
    EbdType.EBRDT_INFO,
    EbdType.EBRDT_STATE,
)


def _code(value: str) -> ResourceCode | None:
    try:
        return ResourceCode(value)
    except CodeError:
        return None  # simulators and fakes may use readable ids; they are not reported up


def _centre(settings: Settings) -> tuple[Decimal, Decimal]:
    if settings.longitude is not None and settings.latitude is not None:
        return Decimal(str(settings.longitude)), Decimal(str(settings.latitude))
    try:
        from dispatcher.domain.regions import county_shape

        point = county_shape(settings.region).representative_point()
        return Decimal(f"{point.x:.6f}"), Decimal(f"{point.y:.6f}")
    except Exception:  # no county outline for national/provincial codes
        return Decimal("0"), Decimal("0")


class ResourceReports:
    def __init__(self, *, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db

    async def build(self, kind: EbdType, now: dt.datetime) -> Body:
        async with self._db.session(readonly=True) as session:
            adapters = [a for a in await repo.list_adapters(session) if _code(a.ebrid)]
            terminals = [t for t in await repo.list_terminals(session) if _code(t.ebrid)]
        local = now.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(
            tzinfo=None, microsecond=0
        )
        builders: dict[EbdType, Callable[[], Body]] = {
            EbdType.EBRPS_INFO: lambda: self._platform_info(local),
            EbdType.EBRPS_STATE: lambda: EbrpsState(
                records=(
                    ResourceState(
                        rpt_time=local,
                        ebrid=ResourceCode(self._settings.ebrid),
                        state_code=ResourceStateCode.NORMAL,
                        state_desc="running",
                    ),
                )
            ),
            EbdType.EBRAS_INFO: lambda: EbrasInfo(
                records=tuple(self._adapter_info(a, local) for a in adapters)
            ),
            EbdType.EBRAS_STATE: lambda: EbrasState(
                records=tuple(self._adapter_state(a, local) for a in adapters)
            ),
            EbdType.EBRBS_INFO: lambda: EbrbsInfo(
                records=tuple(self._system_info(a, local) for a in adapters)
            ),
            EbdType.EBRBS_STATE: lambda: EbrbsState(
                records=tuple(self._adapter_state(a, local) for a in adapters)
            ),
            EbdType.EBRDT_INFO: lambda: EbrdtInfo(
                records=tuple(self._terminal_info(t, local) for t in terminals)
            ),
            EbdType.EBRDT_STATE: lambda: EbrdtState(
                records=tuple(self._terminal_state(t, local) for t in terminals)
            ),
        }
        if kind not in builders:
            raise ValueError(f"{kind.value} is not a resource report")
        return builders[kind]()

    def _platform_info(self, local: dt.datetime) -> EbrpsInfo:
        s = self._settings
        lon, lat = _centre(s)
        return EbrpsInfo(
            records=(
                PlatformInfo(
                    rpt_time=local,
                    rpt_type=RecordOperation.SYNC,
                    ebrid=ResourceCode(s.ebrid),
                    ebr_name=s.name,
                    address=s.address or s.name,
                    contact=s.contact or "-",
                    phone_number=s.phone or "-",
                    longitude=lon,
                    latitude=lat,
                    url=s.public_url or "",
                ),
            )
        )

    def _adapter_info(self, adapter: AdapterRecord, local: dt.datetime) -> AdapterInfo:
        return AdapterInfo(
            rpt_time=local,
            rpt_type=RecordOperation.SYNC,
            ebrid=ResourceCode(adapter.ebrid),
            ebr_name=str(adapter.config.get("site") or adapter.bearer),
        )

    def _adapter_state(self, adapter: AdapterRecord, local: dt.datetime) -> ResourceState:
        ok = adapter.enabled and adapter.healthy
        return ResourceState(
            rpt_time=local,
            ebrid=ResourceCode(adapter.ebrid),
            state_code=ResourceStateCode.NORMAL if ok else ResourceStateCode.FAULT,
            state_desc="normal" if ok else ("disabled" if not adapter.enabled else "fault"),
        )

    def _system_info(self, adapter: AdapterRecord, local: dt.datetime) -> BroadcastSystemInfo:
        lon, lat = _centre(self._settings)
        return BroadcastSystemInfo(
            rpt_time=local,
            rpt_type=RecordOperation.SYNC,
            ebrid=ResourceCode(adapter.ebrid),
            ebr_name=str(adapter.config.get("site") or adapter.bearer),
            longitude=lon,
            latitude=lat,
            square=Decimal("0"),
            area_codes=tuple(adapter.regions),
            population=Decimal("0"),
            language_code="zho",
            equip_room=str(adapter.config.get("site") or "-"),
        )

    def _terminal_info(self, terminal: TerminalRecord, local: dt.datetime) -> TerminalInfo:
        return TerminalInfo(
            rpt_time=local,
            rpt_type=RecordOperation.SYNC,
            ebrid=ResourceCode(terminal.ebrid),
            ebr_name=terminal.name or terminal.ebrid,
        )

    def _terminal_state(self, terminal: TerminalRecord, local: dt.datetime) -> ResourceState:
        return ResourceState(
            rpt_time=local,
            ebrid=ResourceCode(terminal.ebrid),
            state_code=TERMINAL_STATE.get(terminal.state, ResourceStateCode.NORMAL),
            state_desc=terminal.state,
        )
