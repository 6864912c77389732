"""Each benchmark module runs at toy size and fills its section (`make bench` is the real
run; no figure is asserted here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import acks, bridged, fanout, intake, sm2, uplinks
from bench.__main__ import main
from simulators.drill.brokers import BrokerError, mosquitto_binary

pytestmark = [pytest.mark.slow]


def _needs_mosquitto() -> None:
    try:
        mosquitto_binary()
    except BrokerError as exc:
        pytest.skip(str(exc))


def test_sm2_and_the_results_file(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    assert main(["--quick", "--only", "sm2", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "## Machine" in text and "CPU:" in text and "Mosquitto:" in text
    assert "(d) SM2 sign and verify" in text
    section = sm2.run(quick=True)
    assert section.data["sign_per_s"] > 0 and section.data["verify_per_s"] > 0


def test_acks() -> None:
    section = acks.run(quick=True)
    assert section.data["SQLite (WAL)"]["collector_per_s"] > 0


def test_uplinks() -> None:
    _needs_mosquitto()
    section = uplinks.run(quick=True)
    per_uplink = section.data["per_uplink_us"]
    assert set(per_uplink) == {"link", "link_per_write", "service", "service_loop"}
    assert all(value > 0 for value in per_uplink.values())


def test_intake() -> None:
    _needs_mosquitto()
    section = intake.run(quick=True)
    assert section.data["per_s"] > 0 and section.data["first_publish_p99_ms"] is not None


def test_fanout_beside_the_floor() -> None:
    _needs_mosquitto()
    section = fanout.run(quick=True)
    floor, runs = section.data["40"]["floor"], section.data["40"]["runs"]
    assert floor["extra"]["acked"] == 40 and runs[0]["extra"]["acked"] == 40
    # who used the cores until 99% acked: the floor has no platform, the run has one
    assert {"fleet", "broker", "harness"} <= set(floor["extra"]["cpu"])
    assert "platform" not in floor["extra"]["cpu"]
    # (at toy size the window is a few clock ticks: which groups, not how much)
    assert {"platform", "fleet", "broker"} <= set(runs[0]["extra"]["cpu"])
    assert any("CPU seconds until 99% acked, platform: platform" in n for n in section.notes)


def test_bridged_brokers() -> None:
    _needs_mosquitto()
    section = bridged.run(quick=True)
    floor, runs = section.data["60"]["floor"], section.data["60"]["runs"]
    assert floor["extra"]["acked"] == 60 and runs[0]["extra"]["acked"] == 60
    assert {"platform", "fleet", "broker"} <= set(runs[0]["extra"]["cpu"])
