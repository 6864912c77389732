"""Scenario files: what a valid one means, and errors that name the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.drill.scenario import ScenarioError, load_scenario, parse_scenario

FULL = """
name: county weekly
seed: 3
platform: {dir: plat, region: "341523", broker: mosquitto}
fleet:
  townships: {"341523100": 10, "341523101000": 5}
  play_seconds: 2
faults:
  offline: 0.1
  ack_delay: {distribution: uniform, min: 0.1, max: 0.5}
  flapping: {share: 0.05, down_seconds: 1, up_seconds: 2}
  clock_skew: {share: 0.05, seconds: -900}
  forged_commands: 2
  tampered_commands: 1
  replayed_commands: 1
  broker_restart: {at: 3}
alerts:
  - at: 0
  - {at: 10, area: ["341523100"], severity: Extreme}
pass: {coverage: 0.8, p99_seconds: 2.5}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_scenario_is_read(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, FULL))
    assert scenario.terminals() == 15
    assert scenario.fleet.townships == {"341523100000": 10, "341523101000": 5}
    assert scenario.platform.dir == tmp_path / "plat"
    assert scenario.faults.clock_skew.seconds == -900 and scenario.faults.injects
    assert [a.at for a in scenario.alerts] == [0, 10]
    assert scenario.alerts[1].area == ["341523100000"]
    assert scenario.passing.coverage == 0.8 and scenario.passing.p99_seconds == 2.5


def test_defaults_are_a_county_of_ten_thousand() -> None:
    scenario = parse_scenario({})
    assert scenario.terminals() == 10_000 and scenario.processes() == 2
    assert scenario.platform.broker == "mosquitto" and len(scenario.alerts) == 1
    big = {"platform": {"broker": "bridged"}, "fleet": {"ip": 40_000, "processes": 1}}
    assert parse_scenario(big).processes() == 3


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"faults": {"ofline": 0.1}}, "faults.ofline: unknown key"),
        ({"faults": {"offline": 1.5}}, "faults.offline: Input should be less than or equal to 1"),
        ({"platform": {"region": "341500"}}, "platform.region: 341500000000 is a city code"),
        ({"platform": {"broker": "mqtt://10.0.0.1:1883"}}, "loopback only"),
        ({"fleet": {"townships": {"341523": 5}}}, "is not a township code"),
        ({"fleet": {"townships": {"341524100": 5}}}, "outside the platform's county"),
        ({"fleet": {"bearers": {"dab": 5}}}, "fleet.bearers: bearer 'dab' is unknown"),
        ({"platform": {"broker": "embedded"}, "faults": {"broker_restart": {"at": 1}}},
         "faults.broker_restart: needs platform.broker: mosquitto"),
        ({"alerts": []}, "alerts: List should have at least 1 item"),
        ({"alerts": [{"area": ["12345"]}]}, "alerts.0.area: region code"),
        ({"fleet": {"ip": 0}}, "at least one terminal"),
    ],
)
def test_mistakes_are_named(document: dict[str, object], says: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(document, source="s.yaml")
    assert str(caught.value).startswith("s.yaml: ")
    assert says in str(caught.value)


def test_broken_yaml_gives_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nfleet:\n  ip: [1, 2\n")
    with pytest.raises(ScenarioError, match=r"line \d+ column \d+: not valid YAML"):
        load_scenario(path)


def test_a_missing_file_or_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "none.yaml")
    with pytest.raises(ScenarioError, match="must be a mapping"):
        load_scenario(_write(tmp_path, "- 1\n- 2\n"))


def test_every_shipped_example_scenario_is_valid() -> None:
    from pathlib import Path

    from simulators.drill.scenario import load_scenario

    examples = sorted((Path(__file__).parents[2] / "simulators/drill/examples").glob("*.yaml"))
    assert len(examples) >= 2
    for path in examples:
        scenario = load_scenario(path)
        assert scenario.terminals() >= 10_000, path
