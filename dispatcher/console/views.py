"""Read models for the console pages, always cut to the viewer's jurisdiction: coverage
counts only the viewer's terminals, lists only what touches the viewer's area."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.console import scope
from dispatcher.console.dispatch import CANCELLABLE
from dispatcher.console.mapview import MapLayout
from dispatcher.console.records import OriginationRecord
from dispatcher.console.repo import originations as orig_repo
from dispatcher.domain.alert import MsgType
from dispatcher.domain.coverage import LowerReport, Tally, TaskView, roll_up, summarise
from dispatcher.domain.regions import region_table
from dispatcher.domain.tasks import TaskState
from dispatcher.store import repo
from dispatcher.store.records import AlertRecord, TaskRecord, TerminalRecord

if TYPE_CHECKING:
    from dispatcher.app import Platform

RECENT = dt.timedelta(hours=12)
HEALTH = {"online": "online", "working": "online", "fault": "fault"}


def percent(tally: Tally) -> int:
    """Rounded down: the dashboard shows 100% only when every terminal has answered."""
    return tally.acked * 100 // tally.targeted if tally.targeted else 0


def region_name(code: str) -> str:
    try:
        region = region_table().get(code)
    except ValueError:
        return code
    return region.name or code


@dataclass(frozen=True)
class LowerPlatform:
    """A lower platform's part of an alert: what it last reported, and whether it has gone
    silent (no heartbeat within the allowance), as the status API's ``lower_platforms``."""

    ebrid: str
    region: str
    brd_state_code: int | None
    targeted: int
    acked: int
    silent: bool

    @property
    def reported(self) -> bool:
        return self.brd_state_code is not None

    @property
    def tally(self) -> Tally:
        return Tally(self.targeted, self.acked)


@dataclass(frozen=True)
class AlertCard:
    alert: AlertRecord
    overall: Tally
    by_bearer: list[tuple[str, Tally]]
    by_township: list[tuple[str, str, Tally]]
    cancellable: bool
    pending_cancel: OriginationRecord | None
    #: Lower platforms' reports inside the viewer's area (an upper platform's roll-up); then
    #: ``overall`` is own terminals plus these, and ``own`` is the platform's own part.
    lower: list[LowerPlatform] = field(default_factory=list)
    own: Tally | None = None

    @property
    def percent(self) -> int:
        return percent(self.overall)


def silent_allowance(platform: Platform) -> dt.timedelta:
    """A link is silent after this long without a heartbeat (as GET /api/v1/links says)."""
    settings = platform.settings
    return dt.timedelta(seconds=settings.link_heartbeat_seconds * settings.link_missed_beats)


async def lower_platforms(
    session: AsyncSession, alert_id: str, tasks: Sequence[TaskRecord], region: str,
    *, now: dt.datetime | None, silent_after: dt.timedelta | None,
) -> list[LowerPlatform]:
    """The same roll-up rule as services.status.alert_status, cut to the viewer's area."""
    forwarded = [t for t in tasks if t.bearer == "platform"
                 and (not t.regions or scope.overlaps(region, t.regions))]
    if not forwarded:
        return []
    reports = {r.platform_ebrid: r
               for r in await repo.reports_for_alert(session, alert_id=alert_id)}
    heard = {link.ebrid: link.last_heard for link in await repo.list_links(session)}
    moment = now or dt.datetime.now(dt.UTC)

    def silent(ebrid: str) -> bool:
        last = heard.get(ebrid)
        return silent_after is not None and (last is None or moment - last > silent_after)

    found = []
    for task in forwarded:
        report = reports.get(task.adapter_ebrid)
        found.append(LowerPlatform(
            ebrid=task.adapter_ebrid, region=task.regions[0] if task.regions else "",
            brd_state_code=report.brd_state_code if report else None,
            targeted=report.targeted if report else 0, acked=report.acked if report else 0,
            silent=silent(task.adapter_ebrid),
        ))
    return found


@dataclass(frozen=True)
class Health:
    online: int = 0
    offline: int = 0
    fault: int = 0

    @property
    def total(self) -> int:
        return self.online + self.offline + self.fault

    @property
    def worst(self) -> str:
        if self.fault:
            return "fault"
        if self.offline:
            return "offline" if not self.online else "mixed"
        return "online" if self.online else "empty"


@dataclass
class Dashboard:
    on_air: list[AlertCard]
    recent: list[AlertCard]
    pending: list[OriginationRecord]
    health: dict[str, Health]
    totals: Health
    adapters: list[dict[str, Any]]
    upper: list[dict[str, Any]] = field(default_factory=list)


def _target_region(target: str, regions: dict[str, str]) -> str:
    return regions.get(target, target)


async def alert_card(
    session: AsyncSession, alert: AlertRecord, region: str, *,
    now: dt.datetime | None = None, silent_after: dt.timedelta | None = None,
) -> AlertCard:
    tasks = await repo.tasks_for_alert(session, alert_id=alert.id)
    lower = await lower_platforms(session, alert.id, tasks, region, now=now,
                                  silent_after=silent_after)
    # A forwarding task's targets are region codes, not terminals: the lower platform's own
    # report counts for it (roll_up below), as in the status API.
    tasks = [t for t in tasks if t.bearer != "platform"]
    acks = await repo.acks_for_alert(session, alert_id=alert.id)
    regions = await repo.terminal_regions(
        session, ebrids=sorted({t for task in tasks for t in task.targets})
    )
    # summarise() leaves cancelled tasks out; here they still count, so a cancelled alert
    # shows whom it had reached before the cancel rather than 0/0.
    views = [
        TaskView(t.id, t.bearer,
                 TaskState.SENT if t.state == TaskState.CANCELLED else TaskState(t.state),
                 tuple(x for x in t.targets if scope.inside(region, _target_region(x, regions))))
        for t in tasks
    ]
    own = summarise(views, [(a.target, a.state) for a in acks], region_of=regions)
    coverage = roll_up(own, [
        LowerReport(p.ebrid, p.region, p.brd_state_code, p.targeted, p.acked, p.silent)
        for p in lower
    ]) if lower else own
    pending = await orig_repo.pending_cancel_for(session, alert_id=alert.id)
    return AlertCard(
        alert=alert,
        overall=coverage.overall,
        by_bearer=sorted(coverage.by_bearer.items()),
        by_township=[(code, region_name(code), tally)
                     for code, tally in sorted(coverage.by_region.items())],
        cancellable=alert.state in CANCELLABLE and alert.msg_type != int(MsgType.CANCEL)
        and scope.all_inside(region, alert.targets),
        pending_cancel=pending,
        lower=lower,
        own=own.overall if lower else None,
    )


async def visible_alerts(
    session: AsyncSession, region: str, *, since: dt.datetime | None, limit: int = 500
) -> list[AlertRecord]:
    items, _ = await repo.list_alerts(session, since=since, limit=limit)
    return [a for a in items if scope.overlaps(region, a.targets)]


async def open_alerts(session: AsyncSession, region: str) -> list[AlertRecord]:
    found: list[AlertRecord] = []
    for state in sorted(CANCELLABLE):
        items, _ = await repo.list_alerts(session, state=state, limit=200)
        # A cancel's own stop commands are not a broadcast on air; the log shows them.
        found.extend(a for a in items if scope.overlaps(region, a.targets)
                     and a.msg_type != int(MsgType.CANCEL))
    return sorted(found, key=lambda a: a.created_at, reverse=True)


def terminal_health(
    terminals: Sequence[TerminalRecord], layout: MapLayout | None
) -> tuple[dict[str, Health], Health]:
    counts: dict[str, list[int]] = {}
    keys = [(scope.prefix(c.code), c.code) for c in layout.cells] if layout else []
    total = [0, 0, 0]
    for terminal in terminals:
        slot = ("online", "offline", "fault").index(HEALTH.get(terminal.state, "offline"))
        total[slot] += 1
        for key_prefix, code in keys:
            if terminal.region.startswith(key_prefix):
                counts.setdefault(code, [0, 0, 0])[slot] += 1
                break
    return {k: Health(*v) for k, v in counts.items()}, Health(*total)


async def upper_links(
    session: AsyncSession, platform: Platform, now: dt.datetime
) -> list[dict[str, Any]]:
    """The upper platform(s) and what was last heard from them; alive while a heartbeat came
    within the missed-beats allowance the link service itself uses."""
    settings = platform.settings
    allowance = dt.timedelta(seconds=settings.link_heartbeat_seconds * settings.link_missed_beats)
    found = []
    for link in await repo.list_links(session):
        if link.role != "upper":
            continue
        heard = link.last_heard
        found.append({"ebrid": link.ebrid, "url": link.url, "last_heard": heard,
                      "last_sent": link.last_sent, "last_error": link.last_error,
                      "alive": heard is not None and now - heard <= allowance})
    return found


async def dashboard(
    platform: Platform, region: str, layout: MapLayout | None, now: dt.datetime
) -> Dashboard:
    async with platform.db.session(readonly=True) as session:
        open_ = await open_alerts(session, region)
        open_ids = {a.id for a in open_}
        recent = [a for a in await visible_alerts(session, region, since=now - RECENT, limit=50)
                  if a.id not in open_ids and a.msg_type != int(MsgType.CANCEL)][:10]
        allowance = silent_allowance(platform)
        on_air = [await alert_card(session, a, region, now=now, silent_after=allowance)
                  for a in open_]
        finished = [await alert_card(session, a, region, now=now, silent_after=allowance)
                    for a in recent]
        pending = [o for o in await orig_repo.list_originations(session, state="pending")
                   if scope.overlaps(region, o.targets)]
        terminals = await repo.list_terminals(session, region_prefix=scope.prefix(region))
        adapters = await repo.list_adapters(session)
        upper = await upper_links(session, platform, now)
    health, totals = terminal_health(terminals, layout)
    adapter_rows = [
        {"ebrid": a.ebrid, "bearer": a.bearer, "regions": list(a.regions),
         "enabled": a.enabled, "healthy": a.healthy, "running": a.ebrid in platform.adapters}
        for a in adapters if scope.overlaps(region, a.regions)
    ]
    return Dashboard(on_air, finished, pending, health, totals, adapter_rows, upper)
