"""IP loudspeakers at county scale over real MQTT: 200+ terminal connections on Mosquitto and
on the embedded broker, a broker restart mid-dispatch, and terminals that come back late."""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dispatcher.app import create_app
from dispatcher.config import load_settings
from protocols.codes import CertSN, RegionCode
from signing.sm2 import SM2PublicKey
from signing.trust import Rights, TrustEntry, TrustStore
from simulators.fleet import Fleet, provision_fleet
from tests.api.support import cap_alert, make_issuer, trust, write_platform
from tests.integration.mosquitto import start_mosquitto

ISSUER = make_issuer("830000000001", "舒城县应急管理局")
IP_ADAPTER = "43415230000000314010201"


def _platform(tmp_path: Path, mqtt_url: str | None) -> Path:
    directory = write_platform(
        tmp_path / "county", mqtt_url=mqtt_url, heartbeat_timeout_seconds=600
    )
    config = json.loads((directory / "platform.json").read_text())
    config["adapters"] = [
        {"ebrid": IP_ADAPTER, "bearer": "ip", "regions": ["341523000000"], "config": {}}
    ]
    (directory / "platform.json").write_text(json.dumps(config))
    store = TrustStore()
    trust(store, ISSUER)
    store.save(directory / "trust.json")
    return directory


def _anchors(directory: Path) -> TrustStore:
    key = SM2PublicKey.from_pem((directory / "keys" / "public.pem").read_bytes())
    anchors = TrustStore()
    anchors.add(
        TrustEntry(
            cert_sn=CertSN("100000000001"),
            public_key=key,
            name="platform",
            holder_ebrid=None,
            not_before=None,
            not_after=None,
            revoked=False,
            rights=Rights.unrestricted(),
        )
    )
    return anchors


def _broker_url(client: TestClient) -> str:
    platform = client.app.state.platform  # type: ignore[attr-defined]
    return str(platform.settings.mqtt_url or platform.broker.url)


def _send(client: TestClient, identifier: str, **kwargs: Any) -> str:
    body = cap_alert(identifier, status="Exercise", **kwargs)
    response = client.post(
        "/api/v1/alerts",
        content=body,
        headers=ISSUER.headers(body, content_type="application/cap+xml"),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _until(
    client: TestClient, alert_id: str, predicate: Any, seconds: float = 60
) -> dict[str, Any]:
    status: dict[str, Any] = {}
    for _ in range(int(seconds / 0.1)):
        status = client.get(f"/api/v1/alerts/{alert_id}").json()
        if predicate(status):
            return status
        time.sleep(0.1)
    raise AssertionError(f"not reached: {json.dumps(status)[:1500]}")


class Harness:
    def __init__(
        self, directory: Path, count: int, offline: set[str] | None = None, ack_delay: float = 0.0
    ) -> None:
        self.directory = directory
        settings = load_settings(directory)
        self.credentials = asyncio.run(
            provision_fleet(settings.database_url, "341523", count, directory=directory)
        )
        self.count = count
        self.offline = offline or set()
        self.ack_delay = ack_delay
        self.fleet: Fleet | None = None

    def run(self) -> Iterator[TestClient]:
        with TestClient(create_app(load_settings(self.directory))) as client:
            self.fleet = Fleet(
                _broker_url(client),
                self.credentials,
                _anchors(self.directory),
                offline=self.offline,
                ack_delay=self.ack_delay,
                heartbeat_seconds=30,
            )
            client.portal.call(self.fleet.start)  # type: ignore[union-attr]
            try:
                yield client
            finally:
                client.portal.call(self.fleet.stop)  # type: ignore[union-attr]


def _mqtt_urls() -> list[str]:
    return ["embedded", "mosquitto"]


@pytest.fixture(params=_mqtt_urls())
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """The embedded broker, or a private Mosquitto: the shared one (EBC_TEST_MQTT_URL) keeps
    other tests' persistent sessions and retained statuses for these very terminal ids."""
    if request.param == "embedded":
        yield None
        return
    with start_mosquitto(
        tmp_path, "allow_anonymous true\npersistence false\nmax_queued_messages 20000\n"
    ) as mosquitto:
        yield mosquitto.url


def test_county_alert_reaches_200_terminals(tmp_path: Path, broker: str | None) -> None:
    harness = Harness(_platform(tmp_path, broker), 200)
    for client in harness.run():
        alert_id = _send(client, f"fleet-{int(time.time() * 1000)}")
        status = _until(client, alert_id, lambda s: s["state"] == "completed")
        assert status["targeted"] == status["acked"] == 200
        assert status["coverage"] == 1.0 and status["by_bearer"]["ip"]["coverage"] == 1.0
        log = client.get(f"/api/v1/alerts/{alert_id}/log?limit=10000").json()["items"]
        played = collections.Counter(e["target"] for e in log if e["event"] == "ack.played")
        assert len(played) == 200 and set(played.values()) == {1}
        assert harness.fleet is not None and harness.fleet.rejected == collections.Counter()
        listing = client.get("/api/v1/terminals?region=341523").json()
        assert listing["by_state"].get("offline", 0) == 0


def test_broker_restart_mid_dispatch_loses_no_ack(tmp_path: Path) -> None:
    with start_mosquitto(
        tmp_path, "allow_anonymous true\npersistence true\nautosave_interval 1\n"
    ) as mosquitto:
        harness = Harness(_platform(tmp_path, mosquitto.url), 60, ack_delay=1.5)
        for client in harness.run():
            alert_id = _send(client, "restart-0001")
            # straight after acceptance: the command and the acks cross the restart
            mosquitto.restart()
            status = _until(client, alert_id, lambda s: s["state"] == "completed", seconds=90)
            assert status["coverage"] == 1.0 and status["acked"] == 60
            # "played" comes 1.5 s after "verified", so it crossed the restart: none is lost
            played: set[str] = set()
            for _ in range(300):
                log = client.get(f"/api/v1/alerts/{alert_id}/log?limit=10000").json()["items"]
                played = {e["target"] for e in log if e["event"] == "ack.played"}
                if len(played) == 60:
                    break
                time.sleep(0.1)
            assert len(played) == 60
            platform = client.app.state.platform  # type: ignore[attr-defined]
            assert platform.link.reconnects >= 1


def test_offline_terminals_are_listed_then_reached_when_back(tmp_path: Path) -> None:
    with start_mosquitto(tmp_path, "allow_anonymous true\npersistence false\n") as mosquitto:
        directory = _platform(tmp_path, mosquitto.url)
        probe = Harness(directory, 30)
        away = {ebrid for ebrid, _, _ in probe.credentials[:5]}
        harness = Harness(directory, 30, offline=away)
        for client in harness.run():
            alert_id = _send(client, "late-0001")
            status = _until(client, alert_id, lambda s: s["acked"] == 25)
            assert set(status["not_reached"]) == away
            assert status["state"] == "dispatching"
            assert harness.fleet is not None
            client.portal.call(harness.fleet.bring_online, away)  # type: ignore[union-attr]
            status = _until(client, alert_id, lambda s: s["state"] == "completed")
            assert status["coverage"] == 1.0 and status["not_reached"] == []


def _fake_start(
    command_id: str, regions: list[str], *, alert_id: str, issuer: str, now: int
) -> Any:
    from protocols.terminal import terminal_pb2 as pb

    command = pb.Command(command_id=command_id, issuer_ebrid=issuer, issued_unix=now)
    command.start.ebmid = "43415230000000103010101202611279999"
    command.start.alert_id = alert_id
    command.start.drill = True
    command.start.regions.extend(regions)
    command.start.texts.add(language="zho", title="伪造", body="伪造")
    return command


async def _inject(link: Any, payloads: list[bytes]) -> None:
    from protocols.terminal.topics import region_topic

    for payload in payloads:
        await link.publish(region_topic(RegionCode("341523000000")), payload)


def test_forged_stale_replayed_and_out_of_region_commands_are_refused_and_logged(
    tmp_path: Path,
) -> None:
    from signing.signer import SoftwareSigner
    from signing.sm2 import SM2PrivateKey
    from terminals.envelope import seal_command

    harness = Harness(_platform(tmp_path, None), 10)
    for client in harness.run():
        alert_id = _send(client, "forgery-0001")
        _until(client, alert_id, lambda s: s["state"] == "completed")
        platform = client.app.state.platform  # type: ignore[attr-defined]
        now = int(time.time())
        common = {"alert_id": alert_id, "issuer": platform.settings.ebrid, "now": now}
        county = ["341523000000"]
        impostor = SoftwareSigner(SM2PrivateKey.generate(), platform.signer.cert_sn)
        real = platform.signer
        messages = [
            seal_command(_fake_start("forged", county, **common), impostor, signed_at=now),
            seal_command(_fake_start("stale", county, **common), real, signed_at=now - 3600),
            seal_command(_fake_start("replayed", county, **common), real, signed_at=now),
            seal_command(_fake_start("replayed", ["341523100000"], **common), real, signed_at=now),
            seal_command(_fake_start("elsewhere", ["341522000000"], **common), real, signed_at=now),
        ]
        client.portal.call(_inject, platform.link, messages)  # type: ignore[union-attr]
        reasons: collections.Counter[str] = collections.Counter()
        for _ in range(200):
            log = client.get(f"/api/v1/alerts/{alert_id}/log?limit=10000").json()["items"]
            reasons = collections.Counter(
                (e["detail"] or {}).get("reason", "")
                for e in log
                if e["event"] == "terminal.rejected"
            )
            if len(reasons) >= 4 and sum(reasons.values()) >= 40:
                break
            time.sleep(0.1)
        assert {"forged", "stale", "replay", "out-of-region"} <= set(reasons), reasons
        status = client.get(f"/api/v1/alerts/{alert_id}").json()
        assert status["coverage"] == 1.0  # refusals in its name do not undo who was reached
        assert len(status["refused"]) == 10
