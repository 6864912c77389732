"""An upper platform's roll-up: lower platforms' reports beside its own terminals, the silent
ones marked, the totals combined; set up through the store, without running other platforms."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from dispatcher.config import load_settings
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewAlert, NewTask
from tests.console.support import HUOQIU, SHUCHENG, Console

LOWER_SC = "33415230000000101010101"  # reported, heartbeat heard
LOWER_HQ = "33415220000000101010101"  # no report, never heard: silent
ALERT_ID = "rollup-alert-0001"


async def _seed(database_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    db = Database(database_url)
    await db.start()
    try:
        async with db.session() as session:
            tasks = [
                NewTask(adapter_ebrid=ebrid, bearer="platform", regions=[region],
                        targets=[region], priority=2, not_before=now,
                        deadline=now + dt.timedelta(hours=1), max_attempts=3, state="sent")
                for ebrid, region in ((LOWER_SC, SHUCHENG), (LOWER_HQ, HUOQIU))
            ]
            await repo.insert_alert(session, alert=NewAlert(
                id=ALERT_ID, sender="weather.ah.cn", identifier="rollup-1",
                cert_sn="300000000001", source_format="cap", content_type="application/cap+xml",
                body=b"<alert/>", body_sha256="0" * 64, signed_at=int(now.timestamp()),
                msg_type=3, drill=True, event_type="11B03", severity=2, title="暴雨演练",
                start_at=now, end_at=now + dt.timedelta(hours=1),
                area_codes=[SHUCHENG, HUOQIU], targets=[SHUCHENG, HUOQIU],
                state="dispatching", created_at=now,
            ), tasks=tasks, events=[])
            await repo.save_report(
                session, alert_id=ALERT_ID, platform_ebrid=LOWER_SC, brd_state_code=2,
                coverage_rate=0.7, targeted=10, acked=7, final=False, detail={}, now=now,
            )
            await repo.ensure_link(session, ebrid=LOWER_SC, role="lower",
                                   url="http://127.0.0.1:9/ebd")
            await repo.note_link(session, ebrid=LOWER_SC, heard=now)
            await session.commit()
    finally:
        await db.stop()


@pytest.fixture
def platform_dir(platform_dir: Path) -> Path:
    """The city platform with one alert forwarded to two lower (county) platforms. The
    heartbeat allowance is a day, so "heard" cannot turn silent while the test runs."""
    config_path = platform_dir / "platform.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["link_heartbeat_seconds"] = 86400
    config_path.write_text(json.dumps(config), encoding="utf-8")
    asyncio.run(_seed(load_settings(platform_dir).database_url))
    return platform_dir


def _row(html: str, ebrid: str) -> str:
    found = re.search(rf'<tr data-platform="{ebrid}"[^>]*>', html)
    assert found, f"no roll-up row for {ebrid}"
    return found.group(0)


def test_alert_page_shows_lower_platforms_with_silent_and_reported_markers(
    console: Console,
) -> None:
    console.login("admin")
    page = console.get(f"/console/alerts/{ALERT_ID}")
    assert page.status_code == 200, page.text
    html = page.text
    reported = _row(html, LOWER_SC)
    assert 'data-reported="yes"' in reported and 'data-silent="no"' in reported
    silent = _row(html, LOWER_HQ)
    assert 'data-reported="no"' in silent and 'data-silent="yes"' in silent
    assert 'class="silent"' in silent
    assert "失联" in html and "已上报" in html and "未上报" in html
    assert "rollup-legend" in html and "超过心跳时限" in html
    assert 'data-total="7/10"' in html, "own terminals (none) plus the reports"
    assert 'data-percent="70"' in html
    english = console.get("/console/lang/en?next=/console/")
    assert english.status_code in (200, 303)
    assert "silent" in console.get(f"/console/alerts/{ALERT_ID}").text


def test_dashboard_shows_the_roll_up_cut_to_the_viewers_county(console: Console) -> None:
    console.login("admin")
    board = console.get("/console/").text
    assert f'id="rollup-{ALERT_ID}"' in board
    assert LOWER_SC in board and LOWER_HQ in board

    county = Console(console.client)
    county.login("op_sc")
    own = county.get("/console/").text
    assert f'id="rollup-{ALERT_ID}"' in own
    assert LOWER_SC in own and LOWER_HQ not in own, "another county's platform is not shown"
