"""Compose -> preview -> submit -> second-person approval -> signed admission."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from dispatcher.console.issuer import CONTENT_TYPE, verify_envelope
from tests.console.support import HUOQIU, SHUCHENG, Console, compose_form, wait_until

TOWNSHIP = "341523100000"  # 城关镇


def _submit(console: Console, form: dict[str, object], key: str = "rainstorm") -> str:
    response = console.post(f"/console/originate/{key}/submit", form)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/console/approvals/")
    return location.rsplit("/", 1)[1]


def _approve(console: Console, origination: str, word: str) -> str:
    response = console.post(f"/console/approvals/{origination}/approve", {"confirm": word})
    assert response.status_code == 303, response.text
    match = re.search(r"/console/(?:alerts/|#alert-)([0-9a-f]{32})", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def test_preview_shows_what_terminals_play(console: Console) -> None:
    console.login("op_sc")
    page = console.post("/console/originate/rainstorm/preview", compose_form([TOWNSHIP]))
    assert page.status_code == 200, page.text
    # Exactly the reference terminal's text: drill prefix + title, a space, the body.
    assert "【演练】舒城县暴雨橙色预警 预计未来3小时有暴雨。" in page.text
    assert "【演练】Rainstorm orange warning Heavy rain within 3 hours." in page.text
    assert 'class="mode-drill"' in page.text and "演练模式 DRILL" in page.text
    real = console.post("/console/originate/rainstorm/preview",
                        compose_form([TOWNSHIP], mode="real"))
    assert 'class="mode-real"' in real.text and "【演练】" not in real.text


def test_the_form_needs_an_explicit_mode_and_area(console: Console) -> None:
    console.login("op_sc")
    form = compose_form([], mode="")
    page = console.post("/console/originate/rainstorm/preview", form)
    assert page.status_code == 422
    assert "请选择模式" in page.text and "请选择发布区域" in page.text
    drill_only = console.post("/console/originate/drill/preview",
                              compose_form([TOWNSHIP], mode="real"))
    assert drill_only.status_code == 422 and "演练模板只能以演练模式发布" in drill_only.text


def test_submit_needs_the_word_matching_the_mode(console: Console) -> None:
    console.login("op_sc")
    wrong = console.post("/console/originate/rainstorm/submit",
                         compose_form([TOWNSHIP], mode="real", confirm="DRILL"))
    assert wrong.status_code == 400 and "确认词不符" in wrong.text


def test_second_person_approves_and_the_platform_signs_and_dispatches(
    console: Console, second: Console, client: TestClient
) -> None:
    console.login("op_sc")
    origination = _submit(console, compose_form([TOWNSHIP], confirm="drill"))
    second.login("ap_sc")
    wrong = second.post(f"/console/approvals/{origination}/approve", {"confirm": "REAL"})
    assert wrong.status_code == 400
    alert_id = _approve(second, origination, "DRILL")

    status = wait_until(lambda: (s := client.get(f"/api/v1/alerts/{alert_id}").json())
                        and s["state"] == "completed" and s)
    assert status["coverage"] == 1.0 and status["drill"] is True and status["msg_type"] == 3
    assert status["targets"] == [TOWNSHIP]
    platform = client.app.state.platform  # type: ignore[attr-defined]
    sent = platform.adapters["43415230000000399010201"].sent
    assert sent and sent[-1].texts[0][1] == "舒城县暴雨橙色预警"

    page = second.get(f"/console/alerts/{alert_id}")
    assert "SM2 签名有效" in page.text and "100%" in page.text


def test_the_stored_body_is_signed_evidence(console: Console, second: Console,
                                           client: TestClient) -> None:
    from dispatcher.store import repo

    console.login("op_sc")
    origination = _submit(console, compose_form([TOWNSHIP], confirm="DRILL"))
    second.login("ap_sc")
    alert_id = _approve(second, origination, "DRILL")
    platform = client.app.state.platform  # type: ignore[attr-defined]

    async def body() -> tuple[bytes, str]:
        async with platform.db.session(readonly=True) as session:
            alert = await repo.get_alert(session, alert_id=alert_id)
        assert alert is not None
        return alert.body, alert.content_type

    assert client.portal is not None
    raw, content_type = client.portal.call(body)
    assert content_type == CONTENT_TYPE
    document = verify_envelope(raw, platform.signer.public_key)
    assert document is not None
    assert document["submitted_by"] == "op_sc" and document["approved_by"] == "ap_sc"
    assert document["area_codes"] == [TOWNSHIP] and document["drill"] is True
    tampered = raw.replace(b"op_sc", b"op_xx")
    assert verify_envelope(tampered, platform.signer.public_key) is None


def test_self_approval_is_refused(console: Console) -> None:
    console.login("ap_sc")
    origination = _submit(console, compose_form([TOWNSHIP], confirm="DRILL"))
    page = console.get(f"/console/approvals/{origination}")
    assert 'id="approve-form"' not in page.text and "须由另一位审批员批准" in page.text
    refused = console.post(f"/console/approvals/{origination}/approve", {"confirm": "DRILL"})
    assert refused.status_code == 403 and "不能审批自己提交的申请" in refused.text
    console.login("admin")
    audit = console.get("/console/audit?action=approve").text
    assert "self-approval" in audit


def test_only_approvers_approve(console: Console, second: Console) -> None:
    console.login("op_sc")
    origination = _submit(console, compose_form([TOWNSHIP], confirm="DRILL"))
    second.login("admin")
    refused = second.post(f"/console/approvals/{origination}/approve", {"confirm": "DRILL"})
    assert refused.status_code == 403 and "只有审批员可以审批" in refused.text
    second.login("auditor")
    assert second.get("/console/originate", follow_redirects=False).status_code == 403


def test_another_county_neither_sees_nor_targets(console: Console, second: Console) -> None:
    console.login("op_sc")
    origination = _submit(console, compose_form([TOWNSHIP], confirm="DRILL",
                                                title="舒城内部消息"))
    second.login("op_hq")
    assert "舒城内部消息" not in second.get("/console/approvals").text
    assert second.get(f"/console/approvals/{origination}").status_code == 404
    outside = second.post("/console/originate/rainstorm/preview", compose_form([TOWNSHIP]))
    assert outside.status_code == 403 and "超出您的辖区" in outside.text
    tree = second.get("/console/originate/rainstorm").text
    assert HUOQIU in tree and SHUCHENG not in tree and TOWNSHIP not in tree
    approver_hq = Console(second.client)
    approver_hq.login("ap_hq")
    refused = approver_hq.post(f"/console/approvals/{origination}/approve", {"confirm": "DRILL"})
    assert refused.status_code == 404

    approver = Console(second.client)
    approver.login("ap_sc")
    alert_id = _approve(approver, origination, "DRILL")
    assert second.get(f"/console/alerts/{alert_id}").status_code == 404
    assert "舒城内部消息" not in second.get("/console/").text
    assert "舒城内部消息" not in second.get("/console/log").text
    assert "舒城内部消息" in approver.get("/console/").text


def test_lasso_selects_townships_by_their_marker(console: Console) -> None:
    from dispatcher.console.mapview import layout

    console.login("op_sc")
    drawn = layout(SHUCHENG)
    assert drawn is not None
    cell = drawn.cells[0]
    x, y = cell.label_x, cell.label_y
    square = f"{x - 2},{y - 2} {x + 2},{y - 2} {x + 2},{y + 2} {x - 2},{y + 2}"
    form = compose_form([])
    form["polygon"] = square
    page = console.post("/console/originate/rainstorm/preview", form)
    assert page.status_code == 200, page.text
    assert cell.name in page.text
