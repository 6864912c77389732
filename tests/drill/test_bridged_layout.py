"""Drills beyond one broker: the scenario's `bridged` broker and its limits, the leaf grouping
along the townships (pure), the leaves' bridge configuration, and the layout in the report.
No broker is started here (test_bridged_drill.py runs one)."""

from __future__ import annotations

import random
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from protocols.codes import RegionCode
from simulators.drill.brokers import BridgedBrokers, bridge_config, plan_leaves
from simulators.drill.drill_brokers import DrillBrokers, check_leaves
from simulators.drill.report import build_result, summary_lines
from simulators.drill.scenario import (
    DEFAULT_PER_BROKER,
    MAX_LEAVES,
    ScenarioError,
    parse_scenario,
)
from simulators.fleet import fleet_ebrids
from tests.drill.test_report import _observed

TYPE = "0314010401"


def _terminals(counts: dict[str, int]) -> list[str]:
    """``counts`` terminals per township (9 digits), one per village."""
    return [f"6{town}{n + 1:03d}{TYPE}" for town, count in counts.items() for n in range(count)]


def _leaves_of(leaves: list[list[str]]) -> dict[str, set[int]]:
    """Township -> the leaves holding any of its terminals."""
    out: dict[str, set[int]] = {}
    for n, leaf in enumerate(leaves):
        for ebrid in leaf:
            out.setdefault(ebrid[1:10], set()).add(n)
    return out


# -- scenario ---------------------------------------------------------------------------------

def test_bridged_is_accepted_with_its_leaf_size() -> None:
    scenario = parse_scenario({"platform": {"broker": "bridged", "per_broker": 25},
                               "fleet": {"ip": 60}, "faults": {"broker_restart": {"at": 3}}})
    assert scenario.platform.broker == "bridged"
    assert scenario.platform.broker_capacity() == 25
    default = parse_scenario({"platform": {"broker": "bridged"}, "fleet": {"ip": 100_000}})
    assert default.platform.broker_capacity() == DEFAULT_PER_BROKER == 12_500
    assert parse_scenario({"fleet": {"ip": 15_000}}).platform.broker == "mosquitto"


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"fleet": {"ip": 15_001}},
         "platform.broker: mosquitto is one broker process, which holds at most 15,000 MQTT "
         "sessions here"),
        ({"fleet": {"ip": 20_000}}, "this fleet has 20,000: use broker: bridged"),
        ({"fleet": {"bearers": {"ip": 14_500, "dtmb": 300, "fm": 300}}},
         "this fleet has 15,100: use broker: bridged"),
        ({"platform": {"broker": "embedded"}, "fleet": {"ip": 16_000}},
         "platform.broker: embedded is one broker process"),
        ({"platform": {"per_broker": 100}}, "per_broker: only with broker: bridged"),
        ({"platform": {"broker": "bridged", "per_broker": 5}},
         "platform.per_broker: Input should be greater than or equal to 10"),
        ({"platform": {"broker": "bridged", "per_broker": 20_000}},
         "platform.per_broker: Input should be less than or equal to 15000"),
        ({"platform": {"broker": "bridged", "per_broker": 100}, "fleet": {"ip": 20_000}},
         f"needs at least 200 leaf brokers for 20,000 IP terminals; at most {MAX_LEAVES}"),
        ({"platform": {"broker": "mqtt://127.0.0.1:1883"}, "faults": {"broker_restart": {"at": 1}}},
         "faults.broker_restart: needs platform.broker: mosquitto or bridged"),
        ({"platform": {"broker": "brigded"}}, "must be mosquitto, bridged, embedded"),
    ],
)
def test_what_one_broker_cannot_hold_is_refused(document: dict[str, object], says: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(document, source="s.yaml")
    assert str(caught.value).startswith("s.yaml: ")
    assert says in str(caught.value)


def test_legacy_loudspeakers_do_not_count_against_the_broker() -> None:
    # they dial the legacy gateway, not the broker
    parse_scenario({"fleet": {"bearers": {"ip": 14_900, "legacy-ip": 1000}}})


def test_the_exact_leaf_count_is_checked_before_brokers_start() -> None:
    ebrids = _terminals({f"3415231{n:02d}": 20 for n in range(30)})  # 30 townships of 20
    assert check_leaves(ebrids, 20) == 30
    assert check_leaves(ebrids, 40) == 15
    with pytest.raises(ScenarioError, match=f"makes 80 leaf brokers .* at most {MAX_LEAVES}"):
        check_leaves(_terminals({f"3415231{n:02d}": 20 for n in range(80)}), 20)


# -- leaf grouping (pure) ---------------------------------------------------------------------

def test_sixty_terminals_of_a_county_make_three_leaves_of_whole_townships() -> None:
    ebrids = fleet_ebrids("341523", 60)  # 22 townships: 16 of 3 terminals, 6 of 2
    leaves = plan_leaves(ebrids, 25)
    assert [len(leaf) for leaf in leaves] == [24, 24, 12]
    assert sorted(e for leaf in leaves for e in leaf) == sorted(ebrids)
    spread = _leaves_of(leaves)
    assert len(spread) == 22 and all(len(held) == 1 for held in spread.values())
    # along the hierarchy: township codes in order, each leaf a run of neighbours
    order = [min(held) for _, held in sorted(spread.items())]
    assert order == sorted(order)
    again = plan_leaves(list(reversed(ebrids)), 25)  # the order given does not matter
    assert [sorted(leaf) for leaf in again] == [sorted(leaf) for leaf in leaves]


def test_a_township_is_split_only_when_it_alone_is_too_big() -> None:
    ebrids = _terminals({"341523100": 10, "341523101": 30, "341523102": 5, "341523103": 7})
    leaves = plan_leaves(ebrids, 25)
    assert all(len(leaf) <= 25 for leaf in leaves)
    spread = _leaves_of(leaves)
    assert len(spread["341523101"]) == 2  # 30 > 25: it must be split
    assert all(len(spread[t]) == 1 for t in ("341523100", "341523102", "341523103"))
    assert [len(leaf) for leaf in leaves] == [10, 25, 17]  # its rest shares with the next


def test_random_fleets_fill_leaves_without_splitting_townships() -> None:
    rng = random.Random(11)
    for _ in range(20):
        counts = {f"34152{rng.randrange(1000, 9999)}": rng.randint(1, 999)
                  for _ in range(rng.randint(1, 60))}
        per_broker = rng.choice([999, 2500, 12_500])
        ebrids = _terminals(counts)
        leaves = plan_leaves(ebrids, per_broker)
        assert all(0 < len(leaf) <= per_broker for leaf in leaves)
        assert Counter(e for leaf in leaves for e in leaf) == Counter(ebrids)
        assert all(len(held) == 1 for held in _leaves_of(leaves).values())
        # next-fit: two neighbouring leaves never fit in one
        sizes = [len(leaf) for leaf in leaves]
        assert all(a + b > per_broker for a, b in pairwise(sizes))
        assert plan_leaves(ebrids, per_broker) == leaves


def test_nothing_to_place_and_a_bad_size() -> None:
    assert plan_leaves([], 10) == []
    with pytest.raises(ValueError, match="at least 1"):
        plan_leaves(_terminals({"341523100": 1}), 0)


# -- bridges and layout -----------------------------------------------------------------------

def test_a_drill_leaf_bridges_its_townships_and_the_platform_links(tmp_path: Path) -> None:
    ebrids = fleet_ebrids("341523", 60)
    brokers = BridgedBrokers(tmp_path, ebrids, per_broker=25, by_township=True,
                             platform_links=True)
    assert len(brokers.leaves) == 3 and len(brokers.brokers) == 4
    first = brokers.leaves[0]
    assert [t.value[:9] for t in first.townships] == sorted({e[1:10] for e in first.terminals})
    text = bridge_config("leaf-0", 1883, first.county, townships=first.townships,
                         heartbeats=True, directed=True)
    lines = text.splitlines()
    assert "topic ebc/v1/region/34/15/23/100/# in 1" in lines
    assert "topic ebc/v1/region/34/15/23/# in 1" not in lines  # not other leaves' townships
    for node in ("34/15/23", "34/15", "34"):
        assert f"topic ebc/v1/region/{node} in 1" in lines
    assert "topic ebc/v1/region in 1" in lines
    assert "topic ebc/v1/terminal/+/cmd in 1" in lines  # the platform's directed catch-up
    for kind in ("ack", "status", "heartbeat"):
        assert f"topic ebc/v1/terminal/+/{kind} out 1" in lines


def test_the_benchmark_layout_is_unchanged(tmp_path: Path) -> None:
    brokers = BridgedBrokers(tmp_path, fleet_ebrids("341523", 60), per_broker=25)
    assert [len(leaf.terminals) for leaf in brokers.leaves] == [25, 25, 10]
    assert all(not leaf.townships for leaf in brokers.leaves)
    lines = bridge_config("leaf-0", 1883, RegionCode.parse("341523")).splitlines()
    assert "topic ebc/v1/region/34/15/23/# in 1" in lines
    assert not any("heartbeat" in line or "/cmd" in line for line in lines)


def test_the_layout_groups_fleet_processes_by_leaf(tmp_path: Path) -> None:
    spec = parse_scenario({"platform": {"broker": "bridged", "per_broker": 25},
                           "fleet": {"ip": 60}}).platform
    drill = DrillBrokers(spec, tmp_path, restartable=False)
    ebrids = fleet_ebrids("341523", 60)
    drill.bridged = BridgedBrokers(tmp_path, ebrids, per_broker=25, by_township=True,
                                   platform_links=True)  # as start() makes it, not started
    groups = drill.groups([(e, e, "pw") for e in ebrids])
    assert [len(members) for _, members in groups] == [24, 24, 12]
    assert len({url for url, _ in groups}) == 3
    layout = drill.layout()
    assert layout["count"] == 4 and layout["per_broker"] == 25
    assert [leaf["terminals"] for leaf in layout["leaves"]] == [24, 24, 12]
    assert sum(len(leaf["townships"]) for leaf in layout["leaves"]) == 22


def test_the_report_names_the_broker_layout(tmp_path: Path) -> None:
    seen = _observed(tmp_path)
    plain = build_result(seen)
    assert plain["brokers"] == {"kind": "", "count": 1, "leaves": []}
    seen.broker = "bridged"
    seen.brokers = {"kind": "bridged", "count": 3, "per_broker": 5,
                    "leaves": [{"townships": ["341523100"], "terminals": 5},
                               {"townships": ["341523101"], "terminals": 5}]}
    seen.processes = 2
    result = build_result(seen)
    assert result["brokers"]["count"] == 3 and result["processes"] == 2
    assert "on bridged brokers (3: 1 root, 2 leaves of at most 5 terminals)" in "\n".join(
        summary_lines(result))
