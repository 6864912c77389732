"""The IP loudspeaker path through the embedded broker, with a hand-written terminal:
provision by API, status and heartbeat into the inventory, a signed command down, acks up."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

from protocols.codes import CertSN, RegionCode
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import region_topics_for, terminal_topic
from signing.sm2 import SM2PublicKey
from signing.trust import Rights, TrustEntry, TrustStore
from terminals.envelope import open_command
from tests.api.support import cap_alert, client_for, make_issuer, trust, wait_for, write_platform

ISSUER = make_issuer("820000000001", "县应急局")
TERMINAL = "63415231000010314010401"


class HandTerminal:
    """Just enough of a terminal: verify, ack played, report status."""

    def __init__(self, anchors: TrustStore, port: int, password: str) -> None:
        self.anchors = anchors
        self.port = port
        self.password = password
        self.commands: list[pb.Command] = []
        self.client = gmqtt.Client(TERMINAL, clean_session=False)

    async def start(self) -> None:
        subscribed = asyncio.Event()
        self.client.set_auth_credentials(TERMINAL, self.password)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: subscribed.set()
        await self.client.connect("127.0.0.1", self.port, version=MQTTv311)
        for topic in region_topics_for(RegionCode(TERMINAL[1:13])):
            self.client.subscribe(topic, qos=1)
        await asyncio.wait_for(subscribed.wait(), 5)
        status = pb.Status(terminal_ebrid=TERMINAL, online=True, firmware="hand/1")
        self.client.publish(
            terminal_topic(TERMINAL, "status"), status.SerializeToString(), qos=1, retain=True
        )

    def _on_message(self, client: Any, topic: str, payload: bytes, qos: int, props: Any) -> int:
        verified = open_command(payload, self.anchors, now=int(time.time()))
        command = verified.command
        self.commands.append(command)
        ack = pb.Ack(
            terminal_ebrid=TERMINAL,
            command_id=command.command_id,
            ebmid=command.start.ebmid,
            alert_id=command.start.alert_id,
            state=pb.ACK_PLAYED,
            at_unix=int(time.time()),
        )
        client.publish(terminal_topic(TERMINAL, "ack"), ack.SerializeToString(), qos=1)
        return 0

    async def stop(self) -> None:
        await self.client.disconnect()


def test_provision_status_command_and_ack(tmp_path: Path) -> None:
    directory = write_platform(tmp_path / "county")
    config = json.loads((directory / "platform.json").read_text())
    config["adapters"] = [
        {
            "ebrid": "43415230000000314010201",
            "bearer": "ip",
            "regions": ["341523000000"],
            "config": {},
        }
    ]
    (directory / "platform.json").write_text(json.dumps(config))
    store = TrustStore()
    trust(store, ISSUER)
    store.save(directory / "trust.json")
    platform_key = SM2PublicKey.from_pem((directory / "keys" / "public.pem").read_bytes())
    anchors = TrustStore()
    anchors.add(
        TrustEntry(
            cert_sn=CertSN("100000000001"),
            public_key=platform_key,
            name="platform",
            holder_ebrid=None,
            not_before=None,
            not_after=None,
            revoked=False,
            rights=Rights.unrestricted(),
        )
    )
    for client in client_for(directory):
        body = json.dumps({"ebrid": TERMINAL, "bearer": "ip", "name": "村口大喇叭"}).encode()
        made = client.post(
            "/api/v1/terminals",
            content=body,
            headers=ISSUER.headers(body, content_type="application/json"),
        )
        assert made.status_code == 201, made.text
        password = made.json()["password"]
        port = config["embedded_broker_port"]
        terminal = HandTerminal(anchors, port, password)
        client.portal.call(terminal.start)  # type: ignore[union-attr]
        for _ in range(100):
            row = client.get(f"/api/v1/terminals/{TERMINAL}").json()
            if row["state"] == "online":
                break
            time.sleep(0.05)
        assert row["state"] == "online" and row["firmware"] == "hand/1"

        alert = cap_alert("ip-0001", status="Exercise")
        accepted = client.post(
            "/api/v1/alerts",
            content=alert,
            headers=ISSUER.headers(alert, content_type="application/cap+xml"),
        )
        status = wait_for(client, accepted.json()["id"], lambda s: s["state"] == "completed")
        assert status["by_bearer"]["ip"] == {"targeted": 1, "acked": 1, "coverage": 1.0}
        (command,) = terminal.commands
        assert command.start.drill and command.start.msg_type == 3
        assert command.start.texts[0].title == "暴雨橙色预警"
        listing = client.get("/api/v1/terminals?region=341523").json()
        assert listing["total"] == 1 and listing["by_state"] == {"online": 1}
        client.portal.call(terminal.stop)  # type: ignore[union-attr]
