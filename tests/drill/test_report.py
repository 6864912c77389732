"""The result built from an observed run, and the report files: valid PNGs, numbers that
match what was observed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import matplotlib.image
import pytest

from dispatcher.config import Settings
from simulators.drill.faults import TerminalFaults
from simulators.drill.html import write_report
from simulators.drill.platform import Accepted
from simulators.drill.report import build_result, percentile, summary_lines
from simulators.drill.runner import Injection, Observed
from simulators.drill.scenario import parse_scenario
from simulators.fleet import fleet_ebrids

T0 = 1_800_000_000.0
ALERT = "a" * 32


def _observed(tmp_path: Path) -> Observed:
    ebrids = fleet_ebrids("341523", 10)
    settings = Settings.model_validate({"dir": tmp_path, "region": "341523000000",
                                        "ebrid": "43415230000000103010101",
                                        "cert_sn": "100000000001"})
    plan = {e: TerminalFaults() for e in ebrids}
    plan[ebrids[8]] = TerminalFaults(offline=True)
    plan[ebrids[9]] = TerminalFaults(skew=900)
    records = {}
    for n, ebrid in enumerate(ebrids[:8]):
        at = T0 + 1.0 + 0.1 * (n + 1)  # acks 0.1 .. 0.8 s after acceptance
        records[ebrid] = {"connected": True, "received": 4, "duplicates": 1, "verified": 1,
                          "rejected": {"forged": 1},
                          "acks": [(ALERT, "c1", "verified", at, ""),
                                   (ALERT, "c1", "played", at + 5, ""),
                                   ("drill-forged-0", "drill-forged-0-x", "rejected", at, "f")]}
    records[ebrids[8]] = {"connected": False, "received": 0, "duplicates": 0, "verified": 0,
                          "rejected": {}, "acks": []}
    records[ebrids[9]] = {"connected": True, "received": 1, "duplicates": 0, "verified": 0,
                          "rejected": {"stale": 1},
                          "acks": [(ALERT, "c1", "rejected", T0 + 1.2, "stale")]}
    town: dict[str, dict[str, float]] = {}
    for e in ebrids:
        tally = town.setdefault(e[1:10] + "000", {"targeted": 0, "acked": 0, "coverage": 0.0})
        tally["targeted"] += 1
        tally["acked"] += e in ebrids[:8]
    status = {"state": "dispatching", "targeted": 10, "acked": 8, "coverage": 0.8,
              "by_bearer": {"ip": {"targeted": 10, "acked": 8, "coverage": 0.8}},
              "by_region": town, "not_reached": ebrids[8:], "refused": [ebrids[9]]}
    seen = Observed(parse_scenario({"pass": {"coverage": 0.9}}), settings,
                    dt.datetime.fromtimestamp(T0, dt.UTC), plan, ebrids,
                    accepted=[Accepted(ALERT, "drill-1", T0 + 0.9, T0 + 1.0, 202)],
                    statuses={ALERT: status}, records=records,
                    timeline=[(0.5, {}), (1.4, {ALERT: 5}), (1.9, {ALERT: 8})],
                    injections=[Injection("forged", "drill-forged-0-x", 2.0)],
                    genuine={ALERT: "c1"}, events=[(1.0, "alert 0 accepted")], t0=T0)
    seen.finished_at = dt.datetime.fromtimestamp(T0 + 30, dt.UTC)
    return seen


def test_result_numbers(tmp_path: Path) -> None:
    result = build_result(_observed(tmp_path))
    assert result["coverage"] == 0.8 and result["acked"] == 8 and result["targeted"] == 10
    assert result["time_to_ack"]["count"] == 8
    assert result["time_to_ack"]["p50"] == pytest.approx(0.4)
    assert result["time_to_ack"]["max"] == pytest.approx(0.8)
    alert = result["alerts"][0]
    assert alert["platform_recorded"] == {"50%": 0.4, "99%": None, "100%": None}
    assert alert["intake_seconds"] == pytest.approx(0.1)
    assert result["not_reached"]["by_reason"] == {
        "offline (switched off for the drill)": 1, "clock skew +900s: refused as stale": 1}
    forgeries = result["forgeries"]
    assert forgeries["refused"] == forgeries["deliveries"] == 8 and forgeries["accepted"] == 0
    assert not result["passed"] and "coverage 80.00% below 90.00%" in result["failures"][0]
    assert sum(t["targeted"] for t in result["by_township"].values()) == 10
    text = "\n".join(summary_lines(result))
    assert "FAILED" in text and "forgeries refused: 8/8" in text and "p99 0.800s" in text


def test_report_files_are_written_and_match_the_run(tmp_path: Path) -> None:
    result = build_result(_observed(tmp_path))
    files = write_report(result, tmp_path / "report")
    for key in ("cdf", "coverage", "map"):
        image = matplotlib.image.imread(files[key])
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert files[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stored = json.loads(files["json"].read_text(encoding="utf-8"))
    assert stored["time_to_ack"] == result["time_to_ack"]
    assert stored["alerts"][0]["ack_times"] == sorted(stored["alerts"][0]["ack_times"])
    page = files["html"].read_text(encoding="utf-8")
    for name in ("ack_cdf.png", "coverage.png", "townships.png", "80.00%", "clock skew"):
        assert name in page


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99
    assert percentile(values, 100) == 100 and percentile([], 50) is None
