"""Durable fan-out: workers claim due tasks, drive each task's state machine, and log
every transition and every target's outcome.

Crash safety comes from the store: a claim is a lease; a task whose worker died is claimed
again when its lease expires (or at once when the same instance restarts). Outcome rows are
keyed (task, target), so a target re-sent after a crash is logged exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Adapter, SendReport, Transmission
from dispatcher.domain.alert import MsgType
from dispatcher.domain.tasks import (
    TaskEvent,
    TaskState,
    after_send,
    on_deadline,
    retry_delay,
    transition,
)
from dispatcher.services.alert_state import refresh_alert_state
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.errors import StoreUnavailable
from dispatcher.store.records import AlertRecord, NewLogEvent, TaskRecord

log = logging.getLogger("ebc.fanout")


@dataclass
class FanoutConfig:
    instance: str = "main"
    workers: int = 4
    lease_seconds: float = 15.0
    poll_interval: float = 0.2
    sweep_interval: float = 0.5
    batch: int = 16


def transition_event(
    task: TaskRecord, event: TaskEvent, new: TaskState, at: dt.datetime, **detail: object
) -> NewLogEvent:
    """The dispatch-log row of one transition; every transition is also a log line."""
    log.info(
        "task %s: %s --%s--> %s",
        task.id,
        task.state,
        event.value,
        new.value,
        extra={
            "alert_id": task.alert_id,
            "task_id": task.id,
            "from_state": task.state,
            "event": event.value,
            "to_state": new.value,
        },
    )
    return NewLogEvent(
        alert_id=task.alert_id,
        task_id=task.id,
        event=f"task.{new.value}",
        at=at,
        detail={"from": task.state, "event": event.value, **detail},
    )


class Fanout:
    def __init__(
        self,
        *,
        db: Database,
        adapters: Mapping[str, Adapter],
        config: FanoutConfig,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._db = db
        self._adapters = adapters
        self._config = config
        self._clock = clock
        self.worker_id = f"{config.instance}:{uuid.uuid4().hex[:12]}"
        self._stopping = asyncio.Event()
        self._jobs: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        await self.recover()
        self._runner = asyncio.create_task(self._run(), name="ebc-fanout")

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._runner:
            await asyncio.gather(self._runner, return_exceptions=True)
        await asyncio.gather(*self._jobs, return_exceptions=True)
        try:
            async with self._db.session() as session:
                await repo.release_worker_claims(session, worker_id=self.worker_id)
                await session.commit()
        except StoreUnavailable:
            log.warning("could not release claims on stop; leases will expire")

    def poke(self) -> None:
        """Wake the claim loop now (a new alert was accepted)."""
        self._wake.set()

    async def recover(self) -> None:
        """Tasks a previous run of this instance left 'sending' go back to 'planned'."""
        now = self._clock()
        prefix = f"{self._config.instance}:"
        async with self._db.session() as session:
            events: list[NewLogEvent] = []
            for task in await repo.unfinished_tasks(session):
                if task.state == TaskState.SENDING.value and (task.claimed_by or "").startswith(
                    prefix
                ):
                    new = transition(TaskState.SENDING, TaskEvent.RECOVER)
                    await repo.update_task(
                        session, task_id=task.id, state=new.value, next_attempt_at=now
                    )
                    events.append(
                        transition_event(
                            task, TaskEvent.RECOVER, new, now, previous_worker=task.claimed_by
                        )
                    )
            if events:
                await repo.append_log(session, events=events)
                log.info("recovered %d interrupted tasks", len(events))
            await session.commit()

    async def _run(self) -> None:
        last_sweep = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            claimed = 0
            # cleared before the claim, not after: a poke that lands while a claim is in
            # flight (an alert accepted meanwhile) must not wait out the poll interval
            self._wake.clear()
            try:
                if len(self._jobs) < self._config.workers:
                    claimed = await self._claim()
                if loop.time() - last_sweep >= self._config.sweep_interval:
                    last_sweep = loop.time()
                    await self.sweep()
            except StoreUnavailable as exc:
                log.warning("fan-out paused, database unavailable: %s", exc)
                await asyncio.sleep(1.0)
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._config.poll_interval)

    async def _claim(self) -> int:
        room = self._config.workers - len(self._jobs)
        async with self._db.session() as session:
            tasks = await repo.claim_due_tasks(
                session,
                worker_id=self.worker_id,
                now=self._clock(),
                lease_seconds=self._config.lease_seconds,
                limit=min(room, self._config.batch),
            )
            now = self._clock()
            if tasks:
                await repo.append_log(
                    session,
                    events=[
                        transition_event(
                            # the store hands back the claimed row, already 'sending'
                            replace(t, state=TaskState.PLANNED.value),
                            TaskEvent.CLAIM,
                            TaskState.SENDING,
                            now,
                            worker=self.worker_id,
                            attempt=t.attempts,
                        )
                        for t in tasks
                    ],
                )
            await session.commit()
        for task in tasks:
            job = asyncio.create_task(self._execute(task), name=f"ebc-task-{task.id}")
            self._jobs.add(job)
            job.add_done_callback(self._jobs.discard)
            job.add_done_callback(lambda _: self._wake.set())  # room for the next claim
        return len(tasks)

    async def _execute(self, task: TaskRecord) -> None:
        try:
            await self._execute_inner(task)
        except StoreUnavailable as exc:
            log.warning(
                "task %s interrupted, database unavailable: %s",
                task.id,
                exc,
                extra={"alert_id": task.alert_id, "task_id": task.id},
            )
        except Exception:
            log.exception(
                "task %s failed unexpectedly",
                task.id,
                extra={"alert_id": task.alert_id, "task_id": task.id},
            )

    async def _execute_inner(self, task: TaskRecord) -> None:
        # reads only, on a read session: a writer would queue for SQLite's write turn behind
        # the loop's next claim and the sweep, and the broadcast would wait for them
        async with self._db.session(readonly=True) as session:
            alert = await repo.get_alert(session, alert_id=task.alert_id)
            already = set(await repo.delivered_targets(session, task_id=task.id))
            cancels = None
            if alert is not None and alert.msg_type == int(MsgType.CANCEL) and alert.references:
                ref = await repo.get_alert(session, alert_id=alert.references[0])
                cancels = ref.ebmid if ref else None
        if alert is None:
            return
        adapter = self._adapters.get(task.adapter_ebrid)
        pending = tuple(t for t in task.targets if t not in already)
        report: SendReport
        error = ""
        if adapter is None:
            report = SendReport(())
            error = f"adapter {task.adapter_ebrid} is not running on this platform"
        elif pending:
            transmission = build_transmission(alert, task, pending, cancels)
            try:
                if alert.msg_type == int(MsgType.CANCEL):
                    report = await adapter.cancel(transmission)
                else:
                    report = await adapter.send(transmission)
            except Exception as exc:  # an adapter's failure is the task's, never the worker's
                log.warning(
                    "adapter %s raised: %r",
                    task.adapter_ebrid,
                    exc,
                    extra={"alert_id": task.alert_id, "task_id": task.id},
                )
                report = SendReport(())
                error = f"{type(exc).__name__}: {exc}"
        else:
            report = SendReport(())
        await self._record(task, alert, report, already, error)

    async def _record(
        self,
        task: TaskRecord,
        alert: AlertRecord,
        report: SendReport,
        already: set[str],
        error: str,
    ) -> None:
        now = self._clock()
        delivered = already | set(report.delivered)
        if not error and report.not_delivered:
            first = report.not_delivered[0]
            error = f"{first.outcome.value}: {first.detail}" if first.detail else ""
        event = after_send(
            delivered=len(delivered & set(task.targets)),
            total=len(task.targets),
            attempts=task.attempts,
            max_attempts=task.max_attempts,
        )
        new = transition(TaskState.SENDING, event)
        events: list[NewLogEvent] = []
        final_failure = new in (TaskState.SENT, TaskState.FAILED)
        for outcome in report.not_delivered:
            events.append(
                NewLogEvent(
                    alert_id=task.alert_id,
                    task_id=task.id,
                    target=outcome.target,
                    event="target.failed" if final_failure else "target.attempt_failed",
                    at=now,
                    detail={
                        "outcome": outcome.outcome.value,
                        "detail": outcome.detail,
                        "attempt": task.attempts,
                    },
                    dedup_key=f"{task.id}:{outcome.target}:outcome" if final_failure else None,
                )
            )
        next_at = None
        if new is TaskState.PLANNED:
            next_at = now + dt.timedelta(seconds=retry_delay(task.attempts))
        events.append(
            transition_event(
                task,
                event,
                new,
                now,
                delivered=len(delivered),
                targets=len(task.targets),
                error=error or None,
            )
        )
        async with self._db.session() as session:
            current = await repo.task_claim(session, task_id=task.id)
            if current != (TaskState.SENDING.value, self.worker_id):
                # cancelled or reclaimed meanwhile: keep the outcomes, leave the state alone
                await self._log_delivered(session, task, report, now)
                await repo.append_log(session, events=events[:-1])
                await session.commit()
                return
            await repo.update_task(
                session,
                task_id=task.id,
                state=new.value,
                next_attempt_at=next_at,
                last_error=error or None,
            )
            await self._log_delivered(session, task, report, now)
            await repo.append_log(session, events=events)
            if new is TaskState.SENT and alert.msg_type == int(MsgType.CANCEL):
                done = transition(new, TaskEvent.ACKS_COMPLETE)
                await repo.update_task(session, task_id=task.id, state=done.value)
                await repo.append_log(
                    session,
                    events=[
                        transition_event(
                            replace(task, state=new.value),
                            TaskEvent.ACKS_COMPLETE,
                            done,
                            now,
                            note="a cancel needs no acks",
                        )
                    ],
                )
            await refresh_alert_state(session, alert_id=task.alert_id, now=now)
            await session.commit()
        if new is TaskState.SENT:
            await check_acks_complete(self._db, alert_ids=[task.alert_id], clock=self._clock)

    @staticmethod
    async def _log_delivered(
        session: AsyncSession, task: TaskRecord, report: SendReport, now: dt.datetime
    ) -> None:
        await repo.log_delivered(
            session,
            alert_id=task.alert_id,
            task_id=task.id,
            targets=report.delivered,
            attempt=task.attempts,
            at=now,
        )

    async def sweep(self) -> None:
        """Deadlines: tasks still open past their deadline end partial or timed out."""
        now = self._clock()
        # looked for on a read session first: this runs twice a second, and a writer session
        # would take SQLite's one write turn from the claim of a newly accepted alert
        async with self._db.session(readonly=True) as session:
            if not await repo.any_past_deadline(session, now=now):
                return
        async with self._db.session() as session:
            overdue = await repo.tasks_past_deadline(session, now=now)
            if not overdue:
                return
            touched: set[str] = set()
            events: list[NewLogEvent] = []
            for task in overdue:
                reached = await repo.reached_targets_of(session, alert_id=task.alert_id)
                event = on_deadline(acked=len(reached & set(task.targets)))
                new = transition(TaskState(task.state), event)
                await repo.update_task(session, task_id=task.id, state=new.value)
                events.append(
                    transition_event(task, event, new, now, acked=len(reached & set(task.targets)))
                )
                touched.add(task.alert_id)
            await repo.append_log(session, events=events)
            for alert_id in touched:
                await refresh_alert_state(session, alert_id=alert_id, now=now)
            await session.commit()


async def check_acks_complete(
    db: Database, *, alert_ids: list[str], clock: Callable[[], dt.datetime]
) -> None:
    """Sent tasks whose every target has acked become acked.

    Runs after every ack batch, so it first counts the alert's acked targets (one aggregate
    on a read session) and reads them only once the count could complete a task: reading
    every ack per batch made ingestion quadratic in the fleet.
    """
    ready: list[str] = []
    async with db.session(readonly=True) as session:
        for alert_id in alert_ids:
            sizes = await repo.sent_task_sizes(session, alert_id=alert_id)
            if sizes and await repo.count_reached(session, alert_id=alert_id) >= min(sizes):
                ready.append(alert_id)
    if not ready:
        return
    now = clock()
    async with db.session() as session:
        for alert_id in ready:
            reached = await repo.reached_targets_of(session, alert_id=alert_id)
            done = [
                t
                for t in await repo.tasks_for_alert(session, alert_id=alert_id)
                if t.state == TaskState.SENT.value and set(t.targets) <= reached
            ]
            for task in done:
                new = transition(TaskState.SENT, TaskEvent.ACKS_COMPLETE)
                await repo.update_task(session, task_id=task.id, state=new.value)
                await repo.append_log(
                    session, events=[transition_event(task, TaskEvent.ACKS_COMPLETE, new, now)]
                )
            if done:
                await refresh_alert_state(session, alert_id=alert_id, now=now)
        await session.commit()


def build_transmission(
    alert: AlertRecord, task: TaskRecord, targets: tuple[str, ...], cancels: str | None
) -> Transmission:
    extra: dict[str, object] = {
        "adapter": task.adapter_ebrid,
        "accepted_at": alert.created_at,
        "deadline": task.deadline,
    }
    if cancels:
        extra["cancels"] = cancels
    return Transmission(
        alert_id=alert.id,
        task_id=task.id,
        ebmid=alert.ebmid or alert.identifier,
        msg_type=alert.msg_type,
        drill=alert.drill,
        event_type=alert.event_type,
        severity=alert.severity,
        texts=tuple((t[0], t[1], t[2]) for t in alert.texts),
        regions=tuple(task.regions),
        targets=targets,
        start=alert.start_at,
        end=alert.end_at,
        extra=extra,
    )
