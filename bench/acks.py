"""(c) Ack ingestion into SQLite and PostgreSQL: the platform's AckCollector (queue, batched
writes of ack rows and their dispatch-log rows, task completion checks) fed as fast as
uplinks could arrive, for one alert with one sent task of N targets, as in a county fan-out.
Beside it, repo.record_acks alone, so the cost of the completion checks shows."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

from adapters.base import AckReport
from bench.common import Load, Section, pg_url
from dispatcher.services.acks import AckCollector, writers_for
from dispatcher.store import repo
from dispatcher.store.bench_log import _database
from dispatcher.store.db import Database
from dispatcher.store.records import NewAck, NewAlert, NewTask

DEADLINE = 600.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _alert(db: Database, targets: list[str]) -> str:
    now = _now()
    alert = NewAlert(
        sender="bench", identifier=uuid.uuid4().hex, cert_sn="900000000001",
        source_format="cap", content_type="application/cap+xml", body=b"<alert/>",
        body_sha256="0" * 64, signed_at=int(now.timestamp()), msg_type=1, drill=True,
        event_type="11B03", severity=2, title="bench", start_at=now,
        end_at=now + dt.timedelta(hours=1), area_codes=("341523000000",),
        targets=("341523000000",), texts=(("zho", "bench", "bench"),), state="dispatching",
    )
    task = NewTask(adapter_ebrid="bench-ip", bearer="ip", regions=("341523000000",),
                   targets=targets, priority=1, not_before=now,
                   deadline=now + dt.timedelta(hours=1), max_attempts=1, state="sent")
    async with db.session() as session:
        alert_id = await repo.insert_alert(session, alert=alert, tasks=[task], events=[])
        await session.commit()
    return alert_id


async def _collector(db: Database, count: int) -> float:
    targets = [f"6341523{n:016d}" for n in range(count)]
    alert_id = await _alert(db, targets)
    collector = AckCollector(db=db, clock=_now, batch_size=1000, flush_interval=0.02,
                             writers=writers_for(db.dialect))
    await collector.start()
    started = time.perf_counter()
    now = _now()
    await collector.submit([AckReport(alert_id, t, "verified", {"command_id": "c"}, now)
                            for t in targets])
    while collector.written < count and time.perf_counter() - started < DEADLINE:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    await collector.stop()
    return collector.written / elapsed


async def _record_only(db: Database, count: int, batch: int = 1000) -> float:
    alert_id = uuid.uuid4().hex
    now = _now()
    rows = [NewAck(alert_id=alert_id, target=f"6341523{n:016d}", state="verified",
                   detail={"command_id": "c"}, at=now) for n in range(count)]
    started = time.perf_counter()
    for start in range(0, count, batch):
        async with db.session() as session:
            await repo.record_acks(session, acks=rows[start:start + batch])
            await session.commit()
    return count / (time.perf_counter() - started)


async def _measure(url: str | None, count: int) -> tuple[float, float]:
    async with _database(url) as db:
        record = await _record_only(db, count)
        collected = await _collector(db, count)
    return collected, record


def run(quick: bool = False, pg: str | None = None) -> Section:
    load = Load()
    count = 500 if quick else 20_000
    section = Section(
        "(c) Ack ingestion",
        "python -m bench --only acks",
        ["database", "acks", "AckCollector acks/s",
         "record_acks alone, batches of 1000, acks/s"],
    )
    for name, url in (("SQLite (WAL)", None), ("PostgreSQL", pg or pg_url())):
        try:
            collected, record = asyncio.run(_measure(url, count))
        except Exception as exc:  # no PostgreSQL here: say so, measure the rest
            section.notes.append(f"{name}: not measured ({type(exc).__name__}: {exc})"[:300])
            continue
        section.rows.append([name, count, collected, record])
        section.data[name] = {"collector_per_s": collected, "record_per_s": record}
    section.notes.append(load.note())
    return section
