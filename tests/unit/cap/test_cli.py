"""``ebc cap validate`` and ``ebc cap to-ebm``: output and exit codes (0 ok, 1 invalid, 2 usage)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dispatcher.cli.cap import app
from protocols.ebd import parse_ebd
from tests.unit.cap._golden import EXAMPLES, GOLDEN, HOMELAND, THUNDERSTORM, edit

runner = CliRunner()
GOLDEN_FILES = [str(GOLDEN / name) for name in EXAMPLES]


def _broken(tmp_path: Path) -> str:
    path = tmp_path / "broken.xml"
    path.write_bytes(
        edit(HOMELAND, "<status>Actual</status>", "<status>Real</status>").replace(
            b"2003-04-02T14:39:01-05:00", b"2003-04-02T19:39:01Z"
        )
    )
    return str(path)


def test_validate_all_valid() -> None:
    result = runner.invoke(app, ["validate", *GOLDEN_FILES])
    assert result.exit_code == 0, result.output
    assert result.output.count(": valid") == 4


def test_validate_reports_every_problem_with_its_path(tmp_path: Path) -> None:
    broken = _broken(tmp_path)
    result = runner.invoke(app, ["validate", GOLDEN_FILES[0], broken])
    assert result.exit_code == 1
    assert f"{broken}: 2 problem(s)" in result.output
    assert "  alert/sent: " in result.output and "[datetime-offset]" in result.output
    assert "  alert/status: " in result.output and "[enum]" in result.output


def test_validate_json(tmp_path: Path) -> None:
    broken = _broken(tmp_path)
    unsafe = tmp_path / "unsafe.xml"
    unsafe.write_bytes(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    result = runner.invoke(app, ["validate", "--json", GOLDEN_FILES[1], broken, str(unsafe)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [r["valid"] for r in report] == [True, False, False]
    assert report[0] == {"file": GOLDEN_FILES[1], "valid": True, "problems": []}
    assert set(report[1]["problems"][1]) == {"path", "rule", "message"}
    assert [(p["path"], p["rule"]) for p in report[1]["problems"]] == [
        ("alert/sent", "datetime-offset"),
        ("alert/status", "enum"),
    ]
    assert report[2]["problems"][0]["rule"] == "unsafe-xml"


def test_validate_vertex_limit_option() -> None:
    thunder = str(GOLDEN / THUNDERSTORM)
    assert runner.invoke(app, ["validate", "--max-vertices", "4", thunder]).exit_code == 1
    assert runner.invoke(app, ["validate", "--max-vertices", "3", thunder]).exit_code == 2


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["validate"]).exit_code == 2
    assert runner.invoke(app, ["validate", "--bogus", GOLDEN_FILES[0]]).exit_code == 2
    thunder = str(GOLDEN / THUNDERSTORM)
    assert runner.invoke(app, ["to-ebm", thunder, "--ebrid", "123"]).exit_code == 2
    assert runner.invoke(app, ["to-ebm", thunder, "--sequence", "10000"]).exit_code == 2
    assert runner.invoke(app, ["to-ebm", thunder, "--area", "12345"]).exit_code == 2


def test_unreadable_file_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "missing.xml")])
    assert result.exit_code == 1


def _china_storm(tmp_path: Path) -> str:
    path = tmp_path / "storm.xml"
    path.write_bytes(
        edit(
            THUNDERSTORM,
            "<valueName>SAME</valueName>\n        <value>006109</value>",
            "<valueName>GB2260</valueName>\n        <value>341523</value>",
        )
    )
    return str(path)


def test_to_ebm_prints_an_ebd_document(tmp_path: Path) -> None:
    args = ["to-ebm", _china_storm(tmp_path), "--ebrid", "23400000000000101010101"]
    result = runner.invoke(app, [*args, "--sequence", "7"])
    assert result.exit_code == 0, result.output
    ebd = parse_ebd(result.stdout.encode())
    assert ebd.body.ebmid.value == "23400000000000101010101200306180007"  # type: ignore[union-attr]
    assert "not in the EBM: alert/info[0]/urgency: Immediate" in result.stderr
    assert "polygon to resolve to region codes: 38.47,-120.14" in result.stderr


def test_to_ebm_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["to-ebm", "--json", _china_storm(tmp_path), "--area", "341524"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    basic = report["ebm"]["msg_basic_info"]
    assert (basic["msg_type"], basic["severity"], basic["send_time"]) == (
        1,
        2,
        "2003-06-18 05:57:00",
    )
    assert report["ebm"]["contents"][0]["area_codes"] == ["341523000000", "341524000000"]
    assert report["polygons"][0][0] == [38.47, -120.14]
    assert "alert/info[0]/category[0]: Met" in report["lost"]


def test_to_ebm_refusal_exits_1() -> None:
    result = runner.invoke(app, ["to-ebm", "--json", str(GOLDEN / THUNDERSTORM)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["details"][0]["rule"] == "ebm-area-required"
    human = runner.invoke(app, ["to-ebm", str(GOLDEN / THUNDERSTORM)])
    assert human.exit_code == 1 and "[ebm-area-required]" in human.stderr
