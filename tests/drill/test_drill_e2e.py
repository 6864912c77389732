"""Small real drills: a platform process, a fleet process, real signed alerts through the
intake; on a private Mosquitto (with faults, forgeries and a broker restart) and on the
embedded broker. Then `ebc drill list` and `ebc drill show` read what was recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispatcher.cli.main import app
from simulators.drill.brokers import BrokerError, mosquitto_binary

pytestmark = [pytest.mark.slow]

MOSQUITTO = """
name: e2e-mosquitto
seed: 5
platform: {dir: platform, region: "341523", broker: mosquitto}
fleet: {ip: 50, play_seconds: 0.5, heartbeat_seconds: 30}
faults:
  offline: 0.04
  clock_skew: {share: 0.04, seconds: 900}
  ack_delay: {distribution: uniform, min: 0.0, max: 0.3}
  forged_commands: 1
  tampered_commands: 1
  replayed_commands: 1
  broker_restart: {at: 4}
alerts: [{at: 0}, {at: 6}]
limits: {settle_seconds: 30, connect_seconds: 60}
pass: {coverage: 0.9}
"""

EMBEDDED = """
name: e2e-embedded
platform: {dir: platform, region: "341523", broker: embedded}
fleet: {townships: {"341523100": 10, "341523101": 10}, play_seconds: 0.2}
alerts: [{at: 0, area: ["341523100"]}]
limits: {settle_seconds: 30, connect_seconds: 60}
pass: {coverage: 1.0}
"""


def _run(tmp_path: Path, text: str) -> dict[str, object]:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["drill", "run", str(scenario), "--json", "--out",
                                      str(out)])
    assert result.exit_code in (0, 3), result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_fifty_terminals_on_mosquitto_with_faults(tmp_path: Path) -> None:
    try:
        mosquitto_binary()
    except BrokerError as exc:
        pytest.skip(str(exc))
    result = _run(tmp_path, MOSQUITTO)
    assert result["terminals"] == 50 and result["targeted"] == 100
    # 2 offline and 2 with a skewed clock miss both alerts; everyone else is reached
    assert result["acked"] == 92 and result["passed"] is True
    reasons = result["not_reached"]["by_reason"]  # type: ignore[index]
    assert reasons["offline (switched off for the drill)"] == 4
    assert reasons["clock skew +900s: refused as stale"] == 4
    forgeries = result["forgeries"]
    assert forgeries["accepted"] == 0 and forgeries["refused"] >= 46  # type: ignore[index]
    assert forgeries["replays_accepted"] == 0  # type: ignore[index]
    events: list[list[object]] = result["events"]  # type: ignore[assignment]
    assert [e[1] for e in events].count("broker restart") == 1
    for name in ("report.html", "ack_cdf.png", "coverage.png", "townships.png", "result.json"):
        assert (tmp_path / "report" / name).stat().st_size > 0

    runner = CliRunner()
    listed = runner.invoke(app, ["drill", "list", "--dir", str(tmp_path / "platform")])
    assert listed.exit_code == 0 and "e2e-mosquitto" in listed.output
    assert str(result["id"])[:12] in listed.output
    shown = runner.invoke(app, ["drill", "show", str(result["id"])[:8], "--dir",
                                str(tmp_path / "platform"), "--json"])
    assert shown.exit_code == 0
    stored = json.loads(shown.stdout)
    assert stored["acked"] == 92 and stored["time_to_ack"] == result["time_to_ack"]
    missing = runner.invoke(app, ["drill", "show", "ffff", "--dir", str(tmp_path / "platform")])
    assert missing.exit_code == 1


def test_twenty_terminals_on_the_embedded_broker(tmp_path: Path) -> None:
    result = _run(tmp_path, EMBEDDED)
    assert result["terminals"] == 20
    # the alert names one township: its 10 terminals are targeted, all are reached
    assert result["targeted"] == result["acked"] == 10 and result["passed"] is True
    towns = result["by_township"]
    assert towns["341523100000"]["coverage"] == 1.0  # type: ignore[index]
    assert result["time_to_ack"]["count"] == 10  # type: ignore[index]


def test_a_bad_scenario_exits_1_with_the_reason(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("faults: {offline: 2}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["drill", "run", str(scenario)])
    assert result.exit_code == 1
    assert "faults.offline" in result.output
