"""Drills with broadcast receivers and legacy loudspeakers beside the IP fleet: the scenario's
bearer mix, the adapters the drill gives the platform, why a receiver was not reached, and one
small mixed drill end to end (platform process, IP fleet process, receivers, real alerts)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.base import AdapterContext, adapter_class
from dispatcher.app import platform_signer
from dispatcher.cli.main import app
from simulators.drill.bearers import why_receiver_not_reached
from simulators.drill.faults import TerminalFaults, deal, deal_receivers
from simulators.drill.platform import drill_adapters, ensure_platform
from simulators.drill.scenario import Faults, ScenarioError, parse_scenario
from simulators.fleet import fleet_ebrids
from simulators.mixed_fleet import receiver_ebrids

MIX = {"ip": 10_000, "dtmb": 20, "cable": 10, "dth": 5, "fm": 10, "legacy-ip": 50}
OFFLINE = "offline (switched off for the drill)"


def test_all_six_bearers_are_accepted() -> None:
    scenario = parse_scenario({"fleet": {"bearers": MIX}})
    assert scenario.terminals() == 10_000 and scenario.processes() == 2
    assert scenario.fleet.receivers() == {k: v for k, v in MIX.items() if k != "ip"}
    towns = parse_scenario({"fleet": {"townships": {"341523100": 5}, "bearers": {"fm": 2}}})
    assert towns.terminals() == 5 and towns.fleet.receivers() == {"fm": 2}
    only = parse_scenario({"fleet": {"bearers": {"ip": 0, "dtmb": 3}}})
    assert only.terminals() == 0 and only.processes() == 0
    assert parse_scenario({"fleet": {"ip": 7}}).fleet.receivers() == {}


@pytest.mark.parametrize(
    ("fleet", "says"),
    [
        ({"bearers": {"dab": 1}}, "fleet.bearers: bearer 'dab' is unknown; drills simulate ip,"),
        ({"bearers": {"fm": -1}}, "bearer 'fm': the count cannot be negative"),
        ({"bearers": {"dtmb": 1001}}, "bearer 'dtmb': at most 1000 receivers per bearer"),
        ({"bearers": {"fm": "many"}}, "fleet.bearers.fm: Input should be a valid integer"),
        ({"ip": 5, "bearers": {"ip": 5}}, "fleet: the IP terminals are given twice"),
        ({"bearers": {"ip": 0, "fm": 0}}, "at least one terminal"),
    ],
)
def test_bad_bearer_mixes_are_named(fleet: dict[str, Any], says: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario({"fleet": fleet}, source="s.yaml")
    assert says in str(caught.value)


def test_receivers_get_the_offline_share_apart_from_the_ip_draw() -> None:
    faults = Faults.model_validate({"offline": 0.2, "clock_skew": {"share": 0.1}})
    receivers = [e for b in ("dtmb", "fm") for e, _ in receiver_ebrids("341523", b, 10)]
    plan = deal_receivers(faults, receivers, seed=4)
    assert sum(f.offline for f in plan.values()) == 4
    assert not any(f.skew or f.flapping or f.ack_delay for f in plan.values())
    assert plan == deal_receivers(faults, receivers, seed=4)
    ips = fleet_ebrids("341523", 20)
    assert deal(faults, ips, 4) == deal(faults, ips, 4)  # unchanged by the receivers


def test_the_drill_adapters_are_valid_and_leave_platform_json_alone(tmp_path: Path) -> None:
    settings = ensure_platform(tmp_path / "platform", "341523")
    before = (settings.dir / "platform.json").read_text()
    adapters = drill_adapters(settings, ["dtmb", "cable", "dth", "fm", "legacy-ip"], tmp_path)
    assert [a["bearer"] for a in adapters] == ["ip", "dtmb", "cable", "dth", "fm", "legacy-ip"]
    context = AdapterContext(
        acks=None,
        platform_ebrid=settings.ebrid,  # type: ignore[arg-type]
        signer=platform_signer(settings),
    )
    for entry in adapters[1:]:
        config = entry["config"]
        if entry["bearer"] == "legacy-ip":
            assert config["listen"].startswith("127.0.0.1:")
        else:
            assert config["output"].startswith(f"file:{tmp_path}/")
        adapter_class(entry["bearer"]).factory(entry["ebrid"], dict(config), context)
    assert (settings.dir / "platform.json").read_text() == before


def test_why_a_receiver_was_not_reached() -> None:
    alert = "a" * 32
    heard = {"connected": True, "heard": 5, "acks": [(alert, "dtmb:1", "verified", 1.0, "")]}
    assert why_receiver_not_reached("fm", TerminalFaults(offline=True), None, alert) == OFFLINE
    assert why_receiver_not_reached("dtmb", TerminalFaults(), heard, alert) == (
        "dtmb: heard and acked, but the ack was not recorded by the platform"
    )
    nothing = {"connected": True, "heard": 0, "acks": [], "rejected": {}}
    assert why_receiver_not_reached("cable", TerminalFaults(), nothing, alert) == (
        "cable: nothing received on its input"
    )
    other = {"connected": True, "heard": 9, "acks": [], "rejected": {"other-region": 3}}
    assert why_receiver_not_reached("dth", TerminalFaults(), other, alert) == (
        "dth: heard other broadcasts, never this one"
    )
    stale = {"connected": True, "heard": 9, "acks": [], "rejected": {"stale": 2}}
    assert why_receiver_not_reached("fm", TerminalFaults(), stale, alert) == (
        "fm: refused what it heard: stale"
    )
    away = {"connected": False, "heard": 0, "acks": []}
    assert why_receiver_not_reached("legacy-ip", TerminalFaults(), away, alert) == (
        "legacy-ip: not connected to the gateway"
    )


MIXED = """
name: e2e-mixed
seed: 3
platform: {dir: platform, region: "341523", broker: embedded}
fleet: {bearers: {ip: 20, dtmb: 2, fm: 1, legacy-ip: 2}, play_seconds: 0.2}
faults: {offline: 0.2}
alerts: [{at: 0}]
limits: {settle_seconds: 30, connect_seconds: 60}
pass: {coverage: 0.7}
"""


@pytest.mark.slow
def test_a_mixed_drill_counts_every_bearer(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(MIXED, encoding="utf-8")
    runner = CliRunner()
    ran = runner.invoke(
        app,
        [
            "drill",
            "run",
            str(scenario),
            "--json",
            "--out",
            str(tmp_path / "report"),
            "--no-progress",
        ],
    )
    assert ran.exit_code == 0, ran.output
    drill_id = json.loads(ran.stdout)["id"]
    shown = runner.invoke(
        app, ["drill", "show", drill_id, "--dir", str(tmp_path / "platform"), "--json"]
    )
    assert shown.exit_code == 0, shown.output
    stored = json.loads(shown.stdout)
    fleet = {"ip": 20, "dtmb": 2, "fm": 1, "legacy-ip": 2}
    assert stored["fleet"] == fleet and stored["terminals"] == 25
    # 20% offline: 4 of the 20 IP terminals, and 1 of the 5 receivers (one draw over them all)
    by_bearer = stored["by_bearer"]
    assert set(by_bearer) == set(fleet)
    assert sum(by_bearer[b]["offline"] for b in ("dtmb", "fm", "legacy-ip")) == 1
    assert by_bearer["ip"]["offline"] == 4
    for bearer, count in fleet.items():
        tally = by_bearer[bearer]
        assert tally["terminals"] == tally["targeted"] == count, (bearer, tally)
        assert tally["acked"] == count - tally["offline"], (bearer, tally)
        assert tally["time_to_ack"]["count"] == tally["acked"], (bearer, tally)
    assert stored["targeted"] == 25 and stored["acked"] == 20
    missing = stored["not_reached"]
    assert missing["by_reason"] == {OFFLINE: 5}
    receivers = [t for t in missing["terminals"] if t["bearer"] != "ip"]
    assert len(receivers) == 1 and receivers[0]["reason"] == OFFLINE
    offline_bearer = receivers[0]["bearer"]
    assert by_bearer[offline_bearer]["offline"] == 1
    assert (
        receivers[0]["ebrid"][13:17]
        == {"dtmb": "0303", "fm": "0301", "legacy-ip": "0314"}[offline_bearer]
    )
    with sqlite3.connect(tmp_path / "platform" / "ebc.db") as db:  # the drill's, disabled
        rows = db.execute("SELECT bearer, enabled FROM adapters WHERE bearer != 'ip'").fetchall()
    assert sorted(rows) == [("dtmb", 0), ("fm", 0), ("legacy-ip", 0)]
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "<td>legacy-ip</td>" in page and "<td>dtmb</td>" in page
