"""The ack-completion change proposed in bench/RESULTS.md, for measuring it before it is
made (`python -m bench --only acks` reports both).

As shipped, dispatcher.services.fanout.check_acks_complete runs after every ack batch and
reads every ack of the alert (acks_for_alert) to see whether a sent task is complete: for a
10k-terminal alert in batches of 1,000 that is 10 reads growing to 10k rows, quadratic in
the fleet. The change: count the alert's distinct positively-acked targets first (one
aggregate query) and read the acks only once that count could complete a task.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import distinct, func, select

from dispatcher.domain.coverage import POSITIVE_ACKS
from dispatcher.domain.tasks import TaskState
from dispatcher.services import acks as acks_module
from dispatcher.services import fanout as fanout_module
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.models import ACKS

SHIPPED = fanout_module.check_acks_complete


async def check_acks_complete(db: Database, *, alert_ids: list[str],
                              clock: Callable[[], dt.datetime]) -> None:
    ready: list[str] = []
    async with db.session(readonly=True) as session:
        for alert_id in alert_ids:
            sent = [t for t in await repo.tasks_for_alert(session, alert_id=alert_id)
                    if t.state == TaskState.SENT.value]
            if not sent:
                continue
            count = (await session.execute(
                select(func.count(distinct(ACKS.c.target))).where(
                    ACKS.c.alert_id == alert_id, ACKS.c.state.in_(sorted(POSITIVE_ACKS))))
            ).scalar_one()
            if count >= min(len(t.targets) for t in sent):
                ready.append(alert_id)
    if ready:
        await SHIPPED(db, alert_ids=ready, clock=clock)


def apply() -> None:
    setattr(acks_module, "check_acks_complete", check_acks_complete)  # noqa: B010
    fanout_module.check_acks_complete = check_acks_complete


def restore() -> None:
    setattr(acks_module, "check_acks_complete", SHIPPED)  # noqa: B010
    fanout_module.check_acks_complete = SHIPPED
