"""Terminal acknowledgements: idempotent on (alert, target, state), logged once each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.store.models import ACKS
from dispatcher.store.records import ACK_STATES, AckRecord, NewAck, NewLogEvent
from dispatcher.store.repo._common import as_dict, checked, insert_for, mapping
from dispatcher.store.repo.log import append_log

ACK_EVENT = "ack"  # the log event is "ack.<state>"


def ack_record(row: Row[Any]) -> AckRecord:
    m = mapping(row)
    return AckRecord(alert_id=m["alert_id"], target=m["target"], state=m["state"],
                     detail=as_dict(m["detail"]), at=m["at"])


def ack_dedup_key(alert_id: str, target: str, state: str) -> str:
    return f"{alert_id}:{target}:ack:{state}"


async def record_acks(session: AsyncSession, *, acks: Sequence[NewAck]) -> int:
    """Store a batch of acks; each new one also gets a dispatch_log row (event "ack.<state>",
    the state also in detail["state"]). Returns how many were new: QoS 1 redelivers, so many
    are not.
    """
    if not acks:
        return 0
    states = [checked(a.state, ACK_STATES, "ack state") for a in acks]
    rows = [
        {"alert_id": a.alert_id, "target": a.target, "state": state, "detail": dict(a.detail),
         "at": a.at}
        for a, state in zip(acks, states, strict=True)
    ]
    stmt = (
        insert_for(session, ACKS)
        .on_conflict_do_nothing(index_elements=[ACKS.c.alert_id, ACKS.c.target, ACKS.c.state])
        .returning(ACKS.c.alert_id, ACKS.c.target, ACKS.c.state)
    )
    fresh = {(r[0], r[1], r[2]) for r in (await session.execute(stmt, rows)).all()}
    events = []
    for ack, state in zip(acks, states, strict=True):
        key = (ack.alert_id, ack.target, state)
        if key in fresh:
            # A repeat inside the batch was not inserted; log the row that was, once.
            fresh.discard(key)
            events.append(
                NewLogEvent(
                    alert_id=ack.alert_id, event=f"{ACK_EVENT}.{state}", target=ack.target,
                    detail={**ack.detail, "state": state}, at=ack.at,
                    dedup_key=ack_dedup_key(*key),
                )
            )
    await append_log(session, events=events)
    return len(events)


async def acks_for_alert(session: AsyncSession, *, alert_id: str) -> list[AckRecord]:
    stmt = (
        select(ACKS)
        .where(ACKS.c.alert_id == alert_id)
        .order_by(ACKS.c.at, ACKS.c.target, ACKS.c.state)
    )
    return [ack_record(r) for r in (await session.execute(stmt)).all()]
