"""The reference terminal and a simulated fleet against the system Mosquitto on 127.0.0.1:1883;
fleet provisioning and ``ebc terminal list`` against a real SQLite inventory.

Every test uses its own random township of 舒城县 (codes 500-999 are not real ones), so runs do
not see each other's commands or retained status, and it removes the sessions and retained
messages it made. The timeouts only stop a broken run from hanging; nothing asserts a duration.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import gmqtt
import pytest
from gmqtt.mqtt.constants import MQTTv311

from dispatcher.config import load_settings
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import terminal_topic
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from simulators.fleet import FLEET_FILE, Fleet, check_password, fleet_ebrids, provision_fleet
from terminals.envelope import seal_command
from terminals.mqtt_terminal import anchor_for_key, run_terminal
from tests.integration.mosquitto import system_broker

HOST, PORT = "127.0.0.1", 1883
BROKER = f"mqtt://{HOST}:{PORT}"
KEY = SM2PrivateKey.generate()
SN = "340000000001"
SIGNER = SoftwareSigner(KEY, SN)
ISSUER = "43415230000000103010101"
GUARD = 30.0  # seconds before a hung run fails; never a measurement


@pytest.fixture(scope="module")
def broker() -> str:
    return system_broker("the MQTT terminal path")


def township_ebrids(count: int) -> tuple[str, list[str]]:
    """A fresh township code and ``count`` terminal EBRIDs in it (villages 001..)."""
    township = f"341523{500 + secrets.randbelow(500):03d}"
    return township, [f"6{township}{n:03d}0314010401" for n in range(1, count + 1)]


def township_topic(township: str) -> str:
    return f"ebc/v1/region/34/15/23/{township[6:9]}"


def broadcast(command_id: str, township: str) -> bytes:
    command = pb.Command(
        command_id=command_id,
        issuer_ebrid=ISSUER,
        issued_unix=int(time.time()),
        start=pb.BroadcastStart(
            ebmid=ISSUER + "202506010001",
            alert_id=f"alert-{command_id}",
            drill=True,
            tts=True,
            event_type="11B03",
            regions=[township.ljust(12, "0")],
            texts=[pb.Text(language="zho", title="暴雨预警", body="请注意防范。")],
        ),
    )
    return seal_command(command, SIGNER, signed_at=int(time.time()))


class Listener:
    """The platform's side, as far as the tests need it: acks and status by terminal."""

    def __init__(self) -> None:
        self.acks: list[pb.Ack] = []
        self.status: dict[str, pb.Status] = {}
        self._changed = asyncio.Event()
        self._subscribed = asyncio.Event()
        self.client = gmqtt.Client(f"ebc-test-{secrets.token_hex(6)}", clean_session=True)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()

    async def start(self, ebrids: Iterable[str]) -> None:
        await self.client.connect(HOST, PORT, version=MQTTv311)
        self.client.subscribe(
            [
                gmqtt.Subscription(terminal_topic(e, kind), qos=1)
                for e in ebrids
                for kind in ("ack", "status")
            ]
        )
        await asyncio.wait_for(self._subscribed.wait(), GUARD)

    def _on_message(self, client: Any, topic: str, payload: bytes, qos: int, props: Any) -> int:
        if topic.endswith("/ack"):
            self.acks.append(pb.Ack.FromString(payload))
        elif payload:
            status = pb.Status.FromString(payload)
            self.status[status.terminal_ebrid] = status
        self._changed.set()
        return 0

    async def until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(GUARD):
            while not predicate():
                self._changed.clear()  # nothing arrives between the check and here
                await self._changed.wait()

    def states(self, command_id: str, ebrid: str) -> list[str]:
        """Distinct states in arrival order: QoS 1 is at least once, so an ack can repeat
        (gmqtt re-sends what is unacknowledged when it resumes a session)."""
        return list(
            dict.fromkeys(
                pb.AckState.Name(a.state)
                for a in self.acks
                if a.command_id == command_id and a.terminal_ebrid == ebrid
            )
        )

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1)


@pytest.fixture
async def listener(broker: str) -> AsyncIterator[Listener]:
    made = Listener()
    yield made
    await made.client.disconnect()


async def forget(ebrids: Iterable[str]) -> None:
    """Remove what the test left on the broker: retained status and persistent sessions."""
    for ebrid in ebrids:
        client = gmqtt.Client(ebrid, clean_session=True)  # a clean login ends the old session
        await client.connect(HOST, PORT, version=MQTTv311)
        client.publish(terminal_topic(ebrid, "status"), b"", qos=1, retain=True)
        await client.disconnect()


PLAYED = ["ACK_VERIFIED", "ACK_PLAYING", "ACK_PLAYED"]


@pytest.mark.mosquitto
async def test_reference_terminal_acks_a_region_broadcast(listener: Listener) -> None:
    township, (ebrid,) = township_ebrids(1)
    await listener.start([ebrid])
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_terminal(
            BROKER,
            ebrid,
            anchor_for_key(KEY.public_key(), SN),
            username=ebrid,
            password=None,
            heartbeat_seconds=60,
            stop=stop,
        )
    )
    try:
        # Online is published after the subscription: seeing it means the terminal listens.
        await listener.until(lambda: ebrid in listener.status and listener.status[ebrid].online)
        listener.publish(township_topic(township), broadcast("it-1", township))
        await listener.until(lambda: listener.states("it-1", ebrid) == PLAYED)

        forged = pb.SignedCommand.FromString(broadcast("it-2", township))
        forged.signature_block = forged.signature_block[:-1] + b"\x00"
        listener.publish(terminal_topic(ebrid, "cmd"), forged.SerializeToString())
        await listener.until(lambda: listener.states("it-2", ebrid) == ["ACK_REJECTED"])
        assert {a.reason for a in listener.acks if a.command_id == "it-2"} == {"forged"}
    finally:
        stop.set()
        agent = await asyncio.wait_for(task, GUARD)
        try:
            await listener.until(lambda: not listener.status[ebrid].online)
        finally:
            await forget([ebrid])
    played = next(a for a in listener.acks if a.state == pb.ACK_PLAYED)
    assert (played.alert_id, played.ebmid) == ("alert-it-1", ISSUER + "202506010001")
    assert agent.counters.verified == 1 and agent.counters.rejected["forged"] == 1


@pytest.mark.mosquitto
async def test_fleet_of_twenty_all_ack_one_region_publish(listener: Listener) -> None:
    township, ebrids = township_ebrids(20)
    await listener.start(ebrids)
    fleet = Fleet(BROKER, [(e, e, "") for e in ebrids], anchor_for_key(KEY.public_key(), SN))
    await asyncio.wait_for(fleet.start(), GUARD)
    try:
        assert sorted(fleet.online()) == ebrids
        listener.publish(township_topic(township), broadcast("fleet-1", township))
        await listener.until(lambda: all(listener.states("fleet-1", e) == PLAYED for e in ebrids))
    finally:
        await fleet.stop()
        await forget(ebrids)
    assert fleet.received == 20 and fleet.acks["played"] == 20
    assert fleet.verification is not None and fleet.verification.verifications == 1


@pytest.mark.mosquitto
async def test_offline_terminal_catches_up_from_its_session(listener: Listener) -> None:
    township, ebrids = township_ebrids(3)
    away = ebrids[0]
    await listener.start(ebrids)
    fleet = Fleet(
        BROKER, [(e, e, "") for e in ebrids], anchor_for_key(KEY.public_key(), SN), offline={away}
    )
    await asyncio.wait_for(fleet.start(), GUARD)
    try:
        assert sorted(fleet.online()) == ebrids[1:]
        listener.publish(township_topic(township), broadcast("catch-1", township))
        await listener.until(
            lambda: all(listener.states("catch-1", e) == PLAYED for e in ebrids[1:])
        )
        assert listener.states("catch-1", away) == []
        await asyncio.wait_for(fleet.bring_online([away]), GUARD)
        await listener.until(lambda: listener.states("catch-1", away) == PLAYED)
    finally:
        await fleet.stop()
        await forget(ebrids)


# -- provisioning (a real SQLite inventory; no broker) ---------------------------------------


async def test_provisioning_is_idempotent_and_keeps_passwords(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ebc.db'}"
    first = await provision_fleet(url, "341523", 30, directory=tmp_path)
    assert len({e for e, _, _ in first}) == 30 and all(u == e for e, u, _ in first)
    assert (tmp_path / FLEET_FILE).stat().st_mode & 0o077 == 0
    hashes = await _stored_hashes(url)
    assert all(check_password(p, hashes[e]) for e, _, p in first)

    assert await provision_fleet(url, "341523", 30, directory=tmp_path) == first
    assert await _stored_hashes(url) == hashes
    bigger = await provision_fleet(url, "341523", 40, directory=tmp_path)
    assert bigger[:30] == first

    reset = await provision_fleet(url, "341523", 30, directory=tmp_path, reset_passwords=True)
    assert [e for e, _, _ in reset] == [e for e, _, _ in first]
    assert all(a[2] != b[2] for a, b in zip(reset, first, strict=True))
    (tmp_path / FLEET_FILE).unlink()  # plaintext lost: the only way on is new passwords
    again = await provision_fleet(url, "341523", 30, directory=tmp_path)
    rehashed = await _stored_hashes(url)
    assert all(check_password(p, rehashed[e]) for e, _, p in again)


async def _stored_hashes(url: str) -> dict[str, str]:
    from dispatcher.store import repo
    from dispatcher.store.db import Database

    db = Database(url)
    await db.start()
    try:
        async with db.session(readonly=True) as session:
            records = await repo.list_terminals(session, region_prefix="341523")
    finally:
        await db.stop()
    return {r.ebrid: r.password_hash or "" for r in records}


def test_fleet_spreads_over_the_townships() -> None:
    ebrids = fleet_ebrids("341523", 44)  # 22 townships in the NBS table: two villages each
    towns = {e[1:10] for e in ebrids}
    assert len(towns) == 22 and {e[10:13] for e in ebrids} == {"001", "002"}
    assert all(e.endswith("0314010401") for e in ebrids)
    with pytest.raises(ValueError):
        fleet_ebrids("341523", 999 * 22 + 1)


def test_terminal_list_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dispatcher.cli.main import app

    runner = CliRunner()
    directory = tmp_path / "county"
    made = runner.invoke(app, ["init", "--dir", str(directory), "--region", "341523"])
    assert made.exit_code == 0, made.output
    settings = load_settings(directory)
    asyncio.run(provision_fleet(settings.database_url, settings.region, 5, directory=directory))
    listed = runner.invoke(
        app, ["terminal", "list", "--dir", str(directory), "--json", "--region", "341523100"]
    )
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)["terminals"]
    assert [r["ebrid"] for r in rows] == ["63415231000010314010401"]
    assert set(rows[0]) == {"ebrid", "region", "bearer", "state", "last_seen", "firmware"}
    bad = runner.invoke(app, ["terminal", "list", "--dir", str(directory), "--region", "3x"])
    assert bad.exit_code == 1
