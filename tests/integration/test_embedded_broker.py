"""The embedded broker delivers retained messages only to clients subscribed to them
(amqtt 0.12 alone offers every client the retained messages of everyone's filters)."""

from __future__ import annotations

import asyncio
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

from terminals.broker import EmbeddedBroker
from tests.api.support import free_port


async def _client(port: int, name: str, topics: list[str], inbox: list[str]) -> gmqtt.Client:
    client = gmqtt.Client(name, clean_session=False)
    client.set_auth_credentials(name, "x")
    subscribed = asyncio.Event()

    def on_message(c: Any, topic: str, payload: bytes, qos: int, props: Any) -> int:
        inbox.append(topic)
        return 0

    client.on_message = on_message
    client.on_subscribe = lambda *a: subscribed.set()
    await client.connect("127.0.0.1", port, version=MQTTv311)
    for topic in topics:
        client.subscribe(topic, qos=1)
    if topics:
        await asyncio.wait_for(subscribed.wait(), 5)
    return client


async def test_retained_messages_reach_only_their_subscribers() -> None:
    broker = EmbeddedBroker(port=free_port())
    await broker.start()
    try:
        watcher_inbox: list[str] = []
        watcher = await _client(
            broker.port, "dispatcher", ["ebc/v1/terminal/+/status"], watcher_inbox
        )
        publisher = await _client(broker.port, "terminal-a", [], [])
        publisher.publish("ebc/v1/terminal/A/status", b"online", qos=1, retain=True)
        for _ in range(50):
            if watcher_inbox:
                break
            await asyncio.sleep(0.05)
        assert watcher_inbox == ["ebc/v1/terminal/A/status"]

        bystander_inbox: list[str] = []
        bystander = await _client(
            broker.port, "terminal-b", ["ebc/v1/terminal/B/cmd"], bystander_inbox
        )
        late_inbox: list[str] = []
        late = await _client(broker.port, "monitor", ["ebc/v1/terminal/+/status"], late_inbox)
        for _ in range(50):
            if late_inbox:
                break
            await asyncio.sleep(0.05)
        assert late_inbox == ["ebc/v1/terminal/A/status"]  # the control: retained delivery works
        assert bystander_inbox == []
        for client in (watcher, publisher, bystander, late):
            await client.disconnect()
    finally:
        await broker.stop()


async def test_a_retained_status_does_not_register_a_terminal(tmp_path: Any) -> None:
    from dispatcher.services.uplinks import UplinkService
    from dispatcher.store import repo
    from dispatcher.store.db import Database
    from protocols.codes import RegionCode
    from protocols.terminal import terminal_pb2 as pb

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/ebc.db")
    await db.start()
    import datetime as dt

    class NoAcks:
        async def submit(self, acks: Any) -> None:
            return None

    uplinks = UplinkService(
        db=db,
        acks=NoAcks(),
        adapters={},
        jurisdiction=RegionCode("341523000000"),
        clock=lambda: dt.datetime.now(dt.UTC),
    )
    status = pb.Status(terminal_ebrid="63415231000010314010401", online=True).SerializeToString()
    await uplinks.handle("status", "63415231000010314010401", status, True)
    await uplinks.handle("status", "63415231000020314010401", status, False)
    await uplinks.flush()
    async with db.session() as session:
        known = [t.ebrid for t in await repo.list_terminals(session)]
    await db.stop()
    assert known == ["63415231000020314010401"]  # only the one heard live registered itself
