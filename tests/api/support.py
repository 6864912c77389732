"""A platform in a temporary directory, issuers with keys, and signed requests."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from dispatcher.app import create_app
from dispatcher.config import Settings, load_settings
from dispatcher.services.authn import sign_request
from protocols.codes import CertSN
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from signing.trust import Rights, TrustEntry, TrustStore

COUNTY = "341523000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PLATFORM_EBRID = "43415230000000103010101"
FAKE_ADAPTER = "43415230000000399010201"


@dataclass
class Issuer:
    signer: SoftwareSigner
    name: str

    @property
    def cert_sn(self) -> str:
        return self.signer.cert_sn.value

    def headers(
        self, body: bytes, *, content_type: str, signed_at: int | None = None
    ) -> dict[str, str]:
        headers = sign_request(
            body,
            sign=self.signer.sign,
            cert_sn=self.cert_sn,
            signed_at=int(time.time()) if signed_at is None else signed_at,
        )
        headers["Content-Type"] = content_type
        return headers


def make_issuer(sn: str, name: str) -> Issuer:
    return Issuer(SoftwareSigner(SM2PrivateKey.generate(), CertSN(sn)), name)


def trust(
    store: TrustStore,
    issuer: Issuer,
    *,
    regions: tuple[str, ...] = (COUNTY,),
    events: tuple[str, ...] = ("*",),
    msgtypes: tuple[int, ...] = (1, 2, 3, 4, 5),
    revoked: bool = False,
) -> None:
    store.add(
        TrustEntry(
            cert_sn=issuer.signer.cert_sn,
            public_key=issuer.signer.public_key,
            name=issuer.name,
            holder_ebrid=None,
            not_before=None,
            not_after=None,
            revoked=revoked,
            rights=Rights(regions=regions, event_types=events, msg_types=msgtypes),
        )
    )


def write_platform(
    directory: Path,
    *,
    database_url: str | None = None,
    adapter_config: dict[str, Any] | None = None,
    **extra: Any,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / "keys" / "private.pem"
    if not key_path.exists():
        key_path.parent.mkdir(exist_ok=True)
        key = SM2PrivateKey.generate()
        key_path.write_bytes(key.to_pem())
        (directory / "keys" / "public.pem").write_bytes(key.public_key().to_pem())
    config: dict[str, Any] = {
        "level": "county",
        "region": COUNTY,
        "ebrid": PLATFORM_EBRID,
        "cert_sn": "100000000001",
        "trust_store": "trust.json",
        "private_key": "keys/private.pem",
        "public_key": "keys/public.pem",
        "adapters": [
            {
                "ebrid": FAKE_ADAPTER,
                "bearer": "fake",
                "regions": [COUNTY],
                "config": adapter_config or {},
            }
        ],
        "poll_interval": 0.02,
        "ack_flush_interval": 0.01,
        "embedded_broker_port": free_port(),
        **extra,
    }
    if database_url:
        config["database_url"] = database_url
    (directory / "platform.json").write_text(json.dumps(config), encoding="utf-8")
    return directory


def settings_for(directory: Path) -> Settings:
    return load_settings(directory)


def cap_alert(
    identifier: str,
    *,
    status: str = "Actual",
    msg_type: str = "Alert",
    geocode: str = "341523",
    event_code: str = "11B03",
    references: str = "",
    extra_area: str = "",
) -> bytes:
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>weather.ah.cn</sender>
  <sent>2026-11-27T08:00:00+08:00</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <eventCode><valueName>EBEventType</valueName><value>{event_code}</value></eventCode>
    <headline>暴雨橙色预警</headline>
    <description>预计未来3小时有暴雨。</description>
    <area>
      <areaDesc>舒城县</areaDesc>
      <geocode><valueName>GB2260</valueName><value>{geocode}</value></geocode>
      {extra_area}
    </area>
  </info>
</alert>""".encode()


def ebm_json(
    ebmid: str,
    *,
    msg_type: int = 1,
    area: str = COUNTY,
    related: str | None = None,
    event_type: str = "11B03",
    sender: str = "weather.ah.cn",
) -> bytes:
    doc: dict[str, Any] = {
        "EBMVersion": "1",
        "EBMID": ebmid,
        "MsgBasicInfo": {
            "MsgType": msg_type,
            "SenderName": "气象局",
            "SenderCode": sender,
            "SendTime": "2026-11-27 08:00:00",
            "EventType": event_type,
            "Severity": 2,
        },
        "MsgContent": {
            "LanguageCode": "zho",
            "MsgTitle": "暴雨预警",
            "MsgDesc": "暴雨",
            "AreaCode": area,
        },
    }
    if related:
        doc["RelatedInfo"] = {"EBMID": related}
    return json.dumps(doc, ensure_ascii=False).encode()


def wait_for(
    client: TestClient, alert_id: str, predicate: Any, *, attempts: int = 200, delay: float = 0.05
) -> dict[str, Any]:
    status: dict[str, Any] = {}
    for _ in range(attempts):
        status = client.get(f"/api/v1/alerts/{alert_id}").json()
        if predicate(status):
            return status
        time.sleep(delay)
    raise AssertionError(f"condition not reached; last status {json.dumps(status)[:2000]}")


def client_for(directory: Path) -> Iterator[TestClient]:
    app = create_app(settings_for(directory))
    with TestClient(app) as client:
        yield client
