"""Admin pages: provision terminals, enable/disable adapters, trusted keys, templates; each
change audited, refused for other roles, outside the admin's area and without CSRF."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dispatcher.config import load_settings
from dispatcher.console.records import AuditRecord
from dispatcher.console.repo import audit as audit_repo
from dispatcher.domain.regions import region_table
from dispatcher.services.authn import sign_request
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import AdapterRecord, TerminalRecord
from protocols.codes import CertSN
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from signing.trust import TrustStore
from terminals.credentials import verify_password
from tests.console.support import ADAPTER_HQ, ADAPTER_SC, HUOQIU, SHUCHENG, Console

TOWN_SC = region_table().children(SHUCHENG)[0].code.value
NEW_TERMINAL = f"6{TOWN_SC[:9]}0990399010401"
HQ_TERMINAL = f"6{region_table().children(HUOQIU)[0].code.value[:9]}0990399010401"
OTHER_CITY_TERMINAL = "6340102000000" + "0399010401"


def _run(platform_dir: Path, work: Any) -> Any:
    async def main() -> Any:
        db = Database(load_settings(platform_dir).database_url)
        await db.start()
        try:
            async with db.session() as session:
                return await work(session)
        finally:
            await db.stop()

    return asyncio.run(main())


def audits(platform_dir: Path, action: str) -> list[AuditRecord]:
    async def work(session: Any) -> list[AuditRecord]:
        rows, _ = await audit_repo.audit_page(session, region_prefix="", action=action)
        return [r for r in rows if r.action == action or action.endswith(".")]

    result: list[AuditRecord] = _run(platform_dir, work)
    return result


def terminal(platform_dir: Path, ebrid: str) -> TerminalRecord | None:
    async def work(session: Any) -> TerminalRecord | None:
        return await repo.get_terminal(session, ebrid=ebrid)

    found: TerminalRecord | None = _run(platform_dir, work)
    return found


def adapter(platform_dir: Path, ebrid: str) -> AdapterRecord | None:
    async def work(session: Any) -> AdapterRecord | None:
        return await repo.get_adapter(session, ebrid=ebrid)

    found: AdapterRecord | None = _run(platform_dir, work)
    return found


def admin_of_shucheng(console: Console) -> Console:
    """A county admin, made by the city admin on the Accounts page."""
    console.login("admin")
    made = console.post("/console/users", {"username": "admin_sc", "password": "x" * 12,
                                           "role": "admin", "region": SHUCHENG})
    assert made.status_code == 200, made.text
    county = Console(console.client)
    assert county.login("admin_sc", "x" * 12).status_code == 303
    return county


# -- terminals ---------------------------------------------------------------------------


def test_admin_provisions_a_terminal_and_sees_the_password_once(
    console: Console, platform_dir: Path
) -> None:
    console.login("admin")
    page = console.get("/console/terminals")
    assert 'id="provision-form"' in page.text
    made = console.post("/console/terminals",
                        {"ebrid": NEW_TERMINAL, "bearer": "ip", "name": "新终端"})
    assert made.status_code == 200, made.text
    found = re.search(r'id="terminal-password">([^<]+)<', made.text)
    assert found and "已开通" in made.text
    password = found.group(1)
    stored = terminal(platform_dir, NEW_TERMINAL)
    assert stored is not None and stored.bearer == "ip" and stored.name == "新终端"
    assert stored.region == f"{TOWN_SC[:9]}099" and stored.username == NEW_TERMINAL
    assert stored.password_hash and verify_password(password, stored.password_hash)
    assert password not in console.get("/console/terminals").text, "shown once only"
    (row,) = audits(platform_dir, "terminal.provision")
    assert (row.username, row.role, row.outcome, row.target) == (
        "admin", "admin", "ok", NEW_TERMINAL)
    assert row.client_ip and row.at is not None and password not in json.dumps(row.detail)


def test_provisioning_outside_the_jurisdiction_is_refused(
    console: Console, platform_dir: Path
) -> None:
    county = admin_of_shucheng(console)
    refused = county.post("/console/terminals", {"ebrid": HQ_TERMINAL, "bearer": "ip"})
    assert refused.status_code == 403
    assert "不在您的辖区" in refused.text and HQ_TERMINAL in refused.text
    assert terminal(platform_dir, HQ_TERMINAL) is None
    city = console.post("/console/terminals", {"ebrid": OTHER_CITY_TERMINAL, "bearer": "ip"})
    assert city.status_code == 403
    bad = console.post("/console/terminals", {"ebrid": "123", "bearer": "ip"})
    assert bad.status_code == 422 and "EBRID" in bad.text
    outcomes = [(r.username, r.outcome) for r in audits(platform_dir, "terminal.provision")]
    assert ("admin_sc", "refused") in outcomes and ("admin", "refused") in outcomes


# -- adapters ----------------------------------------------------------------------------


def test_admin_disables_and_enables_an_adapter(console: Console, platform_dir: Path) -> None:
    console.login("admin")
    page = console.get("/console/adapters")
    assert 'id="adapter-note"' in page.text and "重启" in page.text
    off = console.post(f"/console/adapters/{ADAPTER_HQ}/disable")
    assert off.status_code == 303
    row = adapter(platform_dir, ADAPTER_HQ)
    assert row is not None and not row.enabled
    assert row.config == {"silent": [f"6341522100001{'0399010401'}"]}, "other fields kept"
    assert row.regions == (HUOQIU,)
    config = json.loads((platform_dir / "platform.json").read_text(encoding="utf-8"))
    assert [a.get("enabled", True) for a in config["adapters"]
            if a["ebrid"] == ADAPTER_HQ] == [False], "the next start-up keeps it disabled"
    assert "已停用" in console.get("/console/adapters").text
    on = console.post(f"/console/adapters/{ADAPTER_HQ}/enable")
    assert on.status_code == 303
    assert adapter(platform_dir, ADAPTER_HQ).enabled  # type: ignore[union-attr]
    actions = [(r.action, r.target, r.outcome) for r in
               audits(platform_dir, "adapter.disable") + audits(platform_dir, "adapter.enable")]
    assert actions == [("adapter.disable", ADAPTER_HQ, "ok"), ("adapter.enable", ADAPTER_HQ, "ok")]


def test_county_admin_cannot_touch_another_countys_adapter(
    console: Console, platform_dir: Path
) -> None:
    county = admin_of_shucheng(console)
    assert county.post(f"/console/adapters/{ADAPTER_HQ}/disable").status_code == 404
    assert adapter(platform_dir, ADAPTER_HQ).enabled  # type: ignore[union-attr]
    assert county.post(f"/console/adapters/{ADAPTER_SC}/disable").status_code == 303
    assert [r.outcome for r in audits(platform_dir, "adapter.disable")] == ["ok", "refused"]


# -- roles and CSRF ----------------------------------------------------------------------

ADMIN_POSTS: list[tuple[str, dict[str, Any]]] = [
    ("/console/terminals", {"ebrid": NEW_TERMINAL, "bearer": "ip"}),
    (f"/console/adapters/{ADAPTER_SC}/disable", {}),
    ("/console/keys", {"cert_sn": "300000000777", "name": "x", "regions": SHUCHENG}),
    ("/console/keys/300000000777/revoke", {}),
    ("/console/templates/typhoon", {"event_type": "11B01", "severity": "2"}),
    ("/console/templates/typhoon/reset", {}),
]


@pytest.mark.parametrize("username", ["op_sc", "ap_sc", "auditor"])
def test_other_roles_are_refused(console: Console, platform_dir: Path, username: str) -> None:
    console.login(username)
    for url in ("/console/keys", "/console/templates"):
        assert console.get(url).status_code == 403
    for url, data in ADMIN_POSTS:
        answer = console.post(url, data)
        assert answer.status_code == 403, url
        assert "只有管理员" in answer.text
    assert terminal(platform_dir, NEW_TERMINAL) is None
    assert adapter(platform_dir, ADAPTER_SC).enabled  # type: ignore[union-attr]
    assert not (platform_dir / "console_templates.json").exists()
    refused = (audits(platform_dir, "terminal.provision") + audits(platform_dir, "key.add")
               + audits(platform_dir, "template.edit"))
    assert {(r.username, r.outcome) for r in refused} == {(username, "refused")}


def test_admin_post_without_the_csrf_token_is_refused(
    console: Console, platform_dir: Path
) -> None:
    console.login("admin")
    answer = console.post(f"/console/adapters/{ADAPTER_SC}/disable", token="forged")
    assert answer.status_code == 403
    assert adapter(platform_dir, ADAPTER_SC).enabled  # type: ignore[union-attr]
    (row,) = audits(platform_dir, "csrf")
    assert row.outcome == "refused" and row.target == f"/console/adapters/{ADAPTER_SC}/disable"


# -- keys --------------------------------------------------------------------------------


def _cap(identifier: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>weather.ah.cn</sender>
  <sent>2026-11-27T08:00:00+08:00</sent><status>Exercise</status><msgType>Alert</msgType>
  <scope>Public</scope>
  <info><language>zh-CN</language><category>Met</category><event>暴雨</event>
    <urgency>Immediate</urgency><severity>Severe</severity><certainty>Likely</certainty>
    <eventCode><valueName>EBEventType</valueName><value>11B03</value></eventCode>
    <headline>暴雨橙色预警</headline><description>预计未来3小时有暴雨。</description>
    <area><areaDesc>舒城县</areaDesc>
      <geocode><valueName>GB2260</valueName><value>341523</value></geocode></area>
  </info>
</alert>""".encode()


def _send(client: TestClient, signer: SoftwareSigner, identifier: str) -> Any:
    body = _cap(identifier)
    headers = sign_request(body, sign=signer.sign, cert_sn=signer.cert_sn.value,
                           signed_at=int(time.time()))
    headers["Content-Type"] = "application/cap+xml"
    client.cookies.clear()
    return client.post("/api/v1/alerts", content=body, headers=headers)


def test_added_key_is_trusted_at_once_and_revoking_it_refuses_the_next_alert(
    console: Console, client: TestClient, platform_dir: Path
) -> None:
    key = SM2PrivateKey.generate()
    signer = SoftwareSigner(key, CertSN("300000000777"))
    assert _send(client, signer, "before-add").status_code == 401, "unknown before"
    console.login("admin")
    added = console.post("/console/keys", {
        "cert_sn": "300000000777", "name": "舒城县应急局",
        "public_key": key.public_key().to_pem().decode(), "regions": SHUCHENG,
        "event_types": "*", "msg_types": ["1", "2", "3", "4", "5"],
    })
    assert added.status_code == 200, added.text
    assert 'id="key-added"' in added.text and 'data-sn="300000000777"' in added.text
    stored = TrustStore.load(platform_dir / "trust.json").get("300000000777")
    assert stored.rights.regions == (SHUCHENG,) and not stored.revoked
    accepted = _send(client, signer, "after-add")
    assert accepted.status_code < 300, accepted.text

    revoked = console.post("/console/keys/300000000777/revoke")
    assert revoked.status_code == 303
    assert TrustStore.load(platform_dir / "trust.json").get("300000000777").revoked
    refused = _send(client, signer, "after-revoke")
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("certificate-revoked"), refused.json()
    again = console.post("/console/keys", {
        "cert_sn": "300000000777", "name": "again", "regions": SHUCHENG,
        "public_key": key.public_key().to_pem().decode(), "msg_types": ["1"],
    })
    assert again.status_code == 409, "a revoked serial cannot be trusted again"
    assert [(r.action, r.outcome) for r in audits(platform_dir, "key.")] == [
        ("key.add", "refused"), ("key.revoke", "ok"), ("key.add", "ok")]


def test_key_rights_must_lie_inside_the_admins_jurisdiction(
    console: Console, platform_dir: Path
) -> None:
    county = admin_of_shucheng(console)
    pem = SM2PrivateKey.generate().public_key().to_pem().decode()
    form = {"cert_sn": "300000000888", "name": "邻县", "public_key": pem,
            "regions": HUOQIU, "event_types": "*", "msg_types": ["1"]}
    refused = county.post("/console/keys", form)
    assert refused.status_code == 403 and "不在您的辖区" in refused.text
    assert not (platform_dir / "trust.json").exists()
    bad = county.post("/console/keys", {**form, "regions": SHUCHENG, "event_types": "11B",
                                        "public_key": "not a key"})
    assert bad.status_code == 422 and "公钥无效" in bad.text
    # The city admin's key for 霍邱 is not the county admin's to revoke.
    assert console.post("/console/keys", {**form, "cert_sn": "300000000889"}).status_code == 200
    assert county.post("/console/keys/300000000889/revoke").status_code == 404
    assert not TrustStore.load(platform_dir / "trust.json").get("300000000889").revoked
    assert [r.outcome for r in audits(platform_dir, "key.")] == [
        "refused", "ok", "refused", "refused"]


# -- templates ---------------------------------------------------------------------------


def test_template_override_shows_in_the_originate_form(
    console: Console, second: Console, platform_dir: Path
) -> None:
    console.login("admin")
    assert 'id="edit-typhoon"' in console.get("/console/templates").text
    saved = console.post("/console/templates/typhoon", {
        "event_type": "11B02", "severity": "1", "title_zh": "{area}台风红色预警（修订）",
        "body_zh": "{area}请立即转移。", "title_en": "", "body_en": "",
    })
    assert saved.status_code == 200 and 'id="template-saved"' in saved.text
    overrides = json.loads((platform_dir / "console_templates.json").read_text("utf-8"))
    assert overrides["typhoon"]["event_type"] == "11B02"
    assert overrides["typhoon"]["severity"] == 1

    second.login("op_sc")
    choose = second.get("/console/originate").text
    assert re.search(r'id="template-typhoon".*?11B02', choose, re.S)
    form = second.get("/console/originate/typhoon").text
    assert "舒城县台风红色预警（修订）" in form and "舒城县请立即转移。" in form

    (row,) = audits(platform_dir, "template.edit")
    assert row.target == "typhoon" and row.detail["event_type"] == "11B02"

    reset = console.post("/console/templates/typhoon/reset")
    assert reset.status_code == 200
    assert "11B01" in second.get("/console/originate").text.split('id="template-typhoon"')[1]


def test_template_validation_names_every_problem(console: Console, platform_dir: Path) -> None:
    console.login("admin")
    refused = console.post("/console/templates/rainstorm", {
        "event_type": "11B3", "severity": "7", "title_zh": "", "body_zh": "x",
    })
    assert refused.status_code == 422
    for text in ("事件类型须为 5 位", "级别须为 0-4", "中文标题和内容必须填写"):
        assert text in refused.text
    assert not (platform_dir / "console_templates.json").exists()
    (row,) = audits(platform_dir, "template.edit")
    assert row.outcome == "refused"
    assert console.post("/console/templates/nope", {}).status_code == 404
