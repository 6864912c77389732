"""The dashboard's SSE stream, the catalogue, the map layout."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import shapely
from fastapi.testclient import TestClient

from dispatcher.console import events
from dispatcher.console.catalogue import MESSAGES
from dispatcher.console.mapview import layout
from dispatcher.domain.regions import region_table
from tests.console.support import SHUCHENG, Console

CONSOLE = Path(__file__).resolve().parents[2] / "dispatcher" / "console"


def test_events_stream_pushes_the_on_air_panel(console: Console, client: TestClient) -> None:
    settings = client.app.state.platform.settings  # type: ignore[attr-defined]
    settings.console_sse_interval = 0.05
    settings.console_sse_max_seconds = 0.2
    console.login("op_sc")
    response = console.get("/console/events")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: onair" in response.text and "data: " in response.text
    assert response.text.count("event: onair") == 1, "an unchanged panel is not sent again"


def test_the_panel_the_page_already_shows_is_not_sent_again(
    console: Console, client: TestClient
) -> None:
    settings = client.app.state.platform.settings  # type: ignore[attr-defined]
    settings.console_sse_interval = 0.05
    settings.console_sse_max_seconds = 0.2
    console.login("op_sc")
    live = re.search(r'data-live="([^"]+)"', console.get("/console/").text)
    assert live and "?v=" in live.group(1)
    assert "event: onair" not in console.get(live.group(1).replace("&amp;", "&")).text


def test_events_stream_refuses_without_a_session(console: Console) -> None:
    assert console.get("/console/events", follow_redirects=False).status_code == 401


def test_stream_ends_when_the_session_does() -> None:
    answers = iter(["<p>a</p>", None])

    async def render() -> str | None:
        return next(answers)

    async def connected() -> bool:
        return False

    async def collect() -> list[str]:
        return [chunk async for chunk in events.stream(
            render=render, disconnected=connected, interval=0.001, max_seconds=10)]

    chunks = asyncio.run(collect())
    assert chunks[1] == "event: onair\ndata: <p>a</p>\n\n"
    assert chunks[-1].startswith("event: expired")


def test_multiline_data_is_framed_line_by_line() -> None:
    assert events.sse_event("x", "a\nb") == "event: x\ndata: a\ndata: b\n\n"


def test_every_text_key_exists_in_both_languages() -> None:
    used: set[str] = set()
    for path in [*CONSOLE.rglob("*.html"), *CONSOLE.rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        used.update(re.findall(r"(?<![\w.])t\('([a-z_.\-]+)'", text))
        used.update(re.findall(r'"((?:error|login)\.[a-z_\-]+)"', text))
    used = {k for k in used if not k.endswith(".")} - {"error.html", "login.html"}
    missing = sorted(k for k in used if k not in MESSAGES)
    assert not missing, missing
    for prefix, values in (("state.", ("accepted", "waiting", "dispatching", "completed",
                                       "partial", "failed", "cancelled", "expired")),
                           ("severity.", ("0", "1", "2", "3", "4")),
                           ("role.", ("operator", "approver", "admin", "auditor"))):
        for value in values:
            assert prefix + value in MESSAGES
    assert all(zh and en for zh, en in MESSAGES.values())


def test_township_cells_fill_the_county_outline() -> None:
    drawn = layout(SHUCHENG)
    assert drawn is not None and drawn.schematic
    townships = region_table().children(SHUCHENG)
    assert [c.code for c in drawn.cells] == [t.code.value for t in townships]
    union = shapely.union_all([c.shape for c in drawn.cells])
    outline_area = sum(c.shape.area for c in drawn.cells)
    assert abs(union.area - outline_area) < outline_area * 0.01, "cells do not overlap"
    for cell in drawn.cells:
        assert cell.shape.covers(shapely.Point(cell.label_x, cell.label_y))
        assert 0 <= cell.label_x <= drawn.width and 0 <= cell.label_y <= drawn.height


def test_city_map_uses_real_county_outlines() -> None:
    drawn = layout("341500000000")
    assert drawn is not None and not drawn.schematic
    assert {c.code for c in drawn.cells} >= {SHUCHENG, "341522000000"}
