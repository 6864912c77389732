"""The prepared cancel, the dispatch log with its filters and CSV, the audit trail."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.console.support import ADAPTER_HQ, Console, compose_form, wait_until
from tests.console.test_originate import _approve, _submit

HQ_TOWNSHIP = "341522100000"


def _on_air(console: Console, second: Console, client: TestClient) -> str:
    console.login("op_hq")
    origination = _submit(console, compose_form([HQ_TOWNSHIP, "341522101000"], mode="real",
                                                confirm="REAL",
                                                title="霍邱县洪水预警"))
    second.login("ap_hq")
    alert_id = _approve(second, origination, "REAL")
    # One 霍邱 terminal never acks, so the alert stays on air.
    wait_until(lambda: client.get(f"/api/v1/alerts/{alert_id}").json()["acked"] >= 2)
    return alert_id


def test_one_click_cancel_approved_by_a_second_person(
    console: Console, second: Console, client: TestClient
) -> None:
    alert_id = _on_air(console, second, client)
    board = console.get("/console/").text
    assert f'id="alert-{alert_id}"' in board and "一键取消播发" in board
    assert client.get(f"/api/v1/alerts/{alert_id}").json()["state"] == "dispatching"

    asked = console.post(f"/console/alerts/{alert_id}/cancel")
    assert asked.status_code == 303
    again = console.post(f"/console/alerts/{alert_id}/cancel")
    assert again.status_code == 303, "asking twice gives the same prepared cancel"
    own = console.get("/console/").text
    assert "取消申请待审批" in own and "批准取消" not in own.split("取消申请待审批", 1)[1][:400]

    board = second.get("/console/").text
    assert "批准取消" in board
    pending = board.split(f'id="alert-{alert_id}"', 1)[1]
    origination = pending.split("/console/approvals/", 1)[1].split("/approve", 1)[0]
    detail = second.get(f"/console/approvals/{origination}")
    assert detail.status_code == 200 and 'id="approve-button"' in detail.text
    assert "confirm-input" not in detail.text, "a cancel is one click, no typed word"
    done = second.post(f"/console/approvals/{origination}/approve", {"back": "dashboard"})
    assert done.status_code == 303

    status = wait_until(lambda: (s := client.get(f"/api/v1/alerts/{alert_id}").json())
                        and s["state"] == "cancelled" and s)
    assert status["superseded_by"]
    adapter = client.app.state.platform.adapters[ADAPTER_HQ]  # type: ignore[attr-defined]
    wait_until(lambda: adapter.cancelled)
    assert adapter.cancelled[-1].msg_type == 2
    assert "一键取消播发" not in second.get("/console/").text.split("近期完成")[0]


def test_finished_alerts_have_nothing_to_cancel(console: Console, second: Console,
                                                client: TestClient) -> None:
    console.login("op_sc")
    origination = _submit(console, compose_form(["341523100000"], confirm="DRILL"))
    second.login("ap_sc")
    alert_id = _approve(second, origination, "DRILL")
    wait_until(lambda: client.get(f"/api/v1/alerts/{alert_id}").json()["state"] == "completed")
    refused = console.post(f"/console/alerts/{alert_id}/cancel")
    assert refused.status_code == 409


def test_dispatch_log_filters_and_csv(console: Console, second: Console,
                                      client: TestClient) -> None:
    alert_id = _on_air(console, second, client)
    page = console.get(f"/console/log?alert={alert_id}").text
    assert "target.delivered" in page and "alert.accepted" in page
    acked = console.get("/console/log", params={"alert": alert_id, "outcome": "acked"}).text
    assert "ack.played" in acked and "target.delivered" not in acked
    terminal = "6341522100001" + "0399010401"
    one = console.get("/console/log", params={"terminal": terminal}).text
    assert terminal in one and "6341522100002" not in one
    by_region = console.get("/console/log", params={"region": "341522101"}).text
    assert "6341522101001" in by_region and "6341522100001" not in by_region
    assert "target.delivered" in console.get("/console/log?bearer=fake").text
    assert "target.delivered" not in console.get("/console/log?bearer=ip").text
    future = console.get("/console/log", params={"from": "2099-01-01T00:00"}).text
    assert "target.delivered" not in future

    exported = console.get("/console/log.csv", params={"alert": alert_id})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows and {r["alert_id"] for r in rows} == {alert_id}
    assert any(r["event"] == "target.delivered" and r["bearer"] == "fake" for r in rows)

    timeline = console.get(f"/console/alerts/{alert_id}").text
    assert "alert.accepted" in timeline and "task.planned" in timeline

    other = Console(console.client)
    other.login("op_sc")
    assert alert_id not in other.get("/console/log").text
    assert other.get(f"/console/log.csv?alert={alert_id}").text.count("\n") == 1


def test_every_action_is_audited_with_who_and_where(console: Console, second: Console,
                                                    client: TestClient) -> None:
    _on_air(console, second, client)
    console.get("/console/log.csv")
    auditor = Console(client)
    auditor.login("auditor")
    page = auditor.get("/console/audit").text
    for action in ("login", "alert.submit", "alert.approve", "alert.dispatch", "log.export"):
        assert f'data-action="{action}"' in page, action
    assert "op_hq" in page and "ap_hq" in page and "testclient" in page
    assert auditor.get("/console/users").status_code == 403
    county = Console(client)
    county.login("op_hq")
    assert county.get("/console/audit").status_code == 403


def test_inventory_pages(console: Console) -> None:
    console.login("op_sc")
    terminals = console.get("/console/terminals").text
    assert "6341523100001" in terminals and "6341522" not in terminals
    faults = console.get("/console/terminals?health=fault").text
    assert "6341523100003" in faults and "6341523100001" not in faults
    adapters = console.get("/console/adapters").text
    assert "43415230000000399010201" in adapters and "43415220000000399010201" not in adapters
    assert "未配置上级平台" in adapters


def test_upper_platform_heartbeat_is_shown_once_links_exist(
    console: Console, client: TestClient
) -> None:
    import datetime as dt

    from dispatcher.store.repo.links import ensure_link, note_link

    platform = client.app.state.platform  # type: ignore[attr-defined]

    async def link() -> None:
        async with platform.db.session() as session:
            await ensure_link(session, ebrid="23400000000000101010101", role="upper",
                              url="http://127.0.0.1:1/ebd")
            await note_link(session, ebrid="23400000000000101010101",
                            heard=dt.datetime.now(dt.UTC))
            await session.commit()

    assert client.portal is not None
    client.portal.call(link)
    console.login("op_sc")
    board = console.get("/console/").text
    assert "23400000000000101010101" in board and "心跳正常" in board
    assert "未配置上级平台" not in board
