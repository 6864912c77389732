"""Scheduled drills: the weekly and monthly required tests (like the US EAS RWT/RMT) sent by
the platform itself through its own signed intake, their coverage read back after a wait,
and each recorded as a drill; one below its minimum coverage is flagged FAILED (in the
drills table, `ebc drill list`, and an error in the log).

Configured in the platform settings (``drill_schedules``, docs/drills.md). Occurrences are in
the platform's local time (``drill_utc_offset_hours``). An occurrence missed while the
platform was down is run late if it is less than ``GRACE`` old, never twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from sqlalchemy import select

from dispatcher.services import status as status_service
from dispatcher.services.authn import sign_request
from dispatcher.store.db import Database
from signing.errors import UnknownCertificate
from signing.signer import SoftwareSigner
from signing.trust import TrustStore
from simulators.drill.platform import cap_exercise, ensure_issuer
from simulators.drill.report import quantiles
from simulators.drill.store import DRILLS, save_drill

log = logging.getLogger("ebc.drill.schedule")
GRACE = dt.timedelta(hours=1)
MAX_SLEEP = 60.0


class Schedule(Protocol):
    name: str
    every: str  # weekly | monthly
    weekday: int  # 0 = Monday, for weekly
    day: int  # 1-28, for monthly
    at: str  # HH:MM local
    area: list[str]
    min_coverage: float
    wait_seconds: float


def _local(now: dt.datetime, offset_hours: float) -> dt.datetime:
    return now.astimezone(dt.timezone(dt.timedelta(hours=offset_hours)))


def last_due(schedule: Schedule, now: dt.datetime, offset_hours: float) -> dt.datetime:
    """The latest occurrence at or before ``now`` (aware, UTC)."""
    local = _local(now, offset_hours)
    hour, minute = (int(p) for p in schedule.at.split(":"))
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if schedule.every == "weekly":
        candidate -= dt.timedelta(days=(candidate.weekday() - schedule.weekday) % 7)
        if candidate > local:
            candidate -= dt.timedelta(days=7)
    else:
        candidate = candidate.replace(day=schedule.day)
        if candidate > local:
            month = candidate.month - 1 or 12
            year = candidate.year - (candidate.month == 1)
            candidate = candidate.replace(year=year, month=month)
    return candidate.astimezone(dt.UTC)


def next_due(schedule: Schedule, now: dt.datetime, offset_hours: float) -> dt.datetime:
    """The first occurrence after ``now``."""
    probe = now + dt.timedelta(days=7 if schedule.every == "weekly" else 32)
    found = last_due(schedule, probe, offset_hours)
    while True:
        earlier = last_due(schedule, found - dt.timedelta(seconds=1), offset_hours)
        if earlier <= now:
            return found
        found = earlier


def occurrence_name(schedule: Schedule, when: dt.datetime) -> str:
    return f"{schedule.name} {when:%Y-%m-%dT%H:%MZ}"


class PlatformLike(Protocol):
    settings: Any
    db: Database
    intake: Any


class DrillScheduler:
    def __init__(self, app: Any, platform: PlatformLike,
                 clock: Callable[[], dt.datetime]) -> None:
        self._app = app
        self._platform = platform
        self._clock = clock
        self._runner: asyncio.Task[None] | None = None
        self._signer: SoftwareSigner | None = None
        self.completed: list[dict[str, Any]] = []

    async def start(self) -> None:
        settings = self._platform.settings
        self._signer = ensure_issuer(settings)
        trust = self._platform.intake.trust
        try:
            trust.get(self._signer.cert_sn)
        except UnknownCertificate:
            # ensure_issuer has just trusted it on disk; the intake read its store at start
            path = settings.trust_store or settings.dir / "trust.json"
            trust.add(TrustStore.load(path).get(self._signer.cert_sn))
        self._runner = asyncio.create_task(self._run(), name="ebc-drill-schedule")

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)

    async def _run(self) -> None:
        settings = self._platform.settings
        offset = settings.drill_utc_offset_hours
        while True:
            now = self._clock()
            for schedule in settings.drill_schedules:
                due = last_due(schedule, now, offset)
                if now - due <= GRACE and not await self._recorded(schedule, due):
                    try:
                        await self.run_one(schedule, due)
                    except Exception:
                        log.exception("scheduled drill %s could not run", schedule.name)
            wake = min(next_due(s, now, offset) for s in settings.drill_schedules)
            await asyncio.sleep(min(MAX_SLEEP, max(1.0, (wake - self._clock()).total_seconds())))

    async def _recorded(self, schedule: Schedule, due: dt.datetime) -> bool:
        stmt = select(DRILLS.c.id).where(DRILLS.c.name == occurrence_name(schedule, due))
        async with self._platform.db.session(readonly=True) as session:
            return (await session.execute(stmt)).first() is not None

    async def run_one(self, schedule: Schedule, due: dt.datetime) -> dict[str, Any]:
        settings = self._platform.settings
        assert self._signer is not None, "start() first"
        started = self._clock()
        ident = f"rt-{schedule.name[:20]}-{due:%Y%m%d%H%M}-{uuid.uuid4().hex[:6]}"
        body = cap_exercise(ident, area=schedule.area or [settings.region], event="11B03",
                            severity="Minor", headline=f"【演练】{schedule.name} required test",
                            description="这是例行的应急广播系统测试。")
        headers = sign_request(body, sign=self._signer.sign, cert_sn=self._signer.cert_sn.value,
                               signed_at=int(started.timestamp()))
        headers["Content-Type"] = "application/cap+xml"
        transport = httpx.ASGITransport(app=self._app)
        async with httpx.AsyncClient(transport=transport, base_url="http://platform") as client:
            response = await client.post("/api/v1/alerts", content=body, headers=headers)
        failures: list[str] = []
        status: dict[str, Any] = {}
        if response.status_code != 202:
            failures.append(f"intake refused the test: {response.status_code} "
                            f"{response.text[:200]}")
        else:
            alert_id = str(response.json()["id"])
            await asyncio.sleep(schedule.wait_seconds)
            status = await status_service.alert_status(self._platform.db,
                                                       alert_id=alert_id) or {}
            if float(status.get("coverage", 0.0)) < schedule.min_coverage:
                failures.append(f"coverage {float(status.get('coverage', 0.0)):.2%} below "
                                f"{schedule.min_coverage:.2%}")
        result = scheduled_result(schedule, due, started, self._clock(), status, failures,
                                  settings)
        await save_drill(self._platform.db, result)
        self.completed.append(result)
        if failures:
            log.error("scheduled drill %s FAILED: %s", result["name"], "; ".join(failures))
        else:
            log.info("scheduled drill %s passed (coverage %.2f%%)", result["name"],
                     100 * result["coverage"])
        return result


def scheduled_result(schedule: Schedule, due: dt.datetime, started: dt.datetime,
                     finished: dt.datetime, status: dict[str, Any], failures: list[str],
                     settings: Any) -> dict[str, Any]:
    """The same shape as a manual drill's result, so list/show treat both alike."""
    targeted, acked = int(status.get("targeted", 0)), int(status.get("acked", 0))
    missing = list(status.get("not_reached") or [])
    return {
        "id": uuid.uuid4().hex, "name": occurrence_name(schedule, due), "kind": "scheduled",
        "started_at": started.isoformat(), "finished_at": finished.isoformat(),
        "platform": {"dir": str(settings.dir), "ebrid": settings.ebrid,
                     "region": settings.region, "broker": settings.mqtt_url or "embedded"},
        "terminals": targeted, "processes": 0, "connect_seconds": 0.0,
        "targeted": targeted, "acked": acked, "coverage": float(status.get("coverage", 0.0)),
        "by_bearer": status.get("by_bearer", {}), "by_township": {
            k: {"name": "", **v} for k, v in (status.get("by_region") or {}).items()},
        "time_to_ack": quantiles([]),
        "alerts": [{"index": 0, "alert_id": status.get("id", ""), "state": status.get("state"),
                    "targeted": targeted, "acked": acked, "intake_seconds": 0.0,
                    "platform_recorded": {"50%": None, "99%": None, "100%": None}}],
        "not_reached": {"count": targeted - acked,
                        "by_reason": {"no ack within the wait": len(missing)} if missing else {},
                        "terminals": [{"alert": "0", "ebrid": e, "reason": "no ack"}
                                      for e in missing[:1000]]},
        "forgeries": {"injected": {"forged": 0, "tampered": 0, "replayed": 0}},
        "events": [], "timeline": [], "passed": not failures, "failures": failures,
        "schedule": {"every": schedule.every, "due": due.isoformat(),
                     "min_coverage": schedule.min_coverage},
    }


async def start_scheduled_drills(app: Any, platform: PlatformLike,
                                 clock: Callable[[], dt.datetime]) -> DrillScheduler | None:
    """The app's lifespan hook: a running scheduler, or None when nothing is scheduled."""
    if not platform.settings.drill_schedules:
        return None
    scheduler = DrillScheduler(app, platform, clock)
    await scheduler.start()
    return scheduler
