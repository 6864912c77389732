"""``ebc region``: the output and exit-code contract scripts rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispatcher.cli.region import app

runner = CliRunner()
SHUCHENG_CIRCLE = "31.3066,116.8176 30"
BOX = "31.25,116.75 31.35,116.75 31.35,116.88 31.25,116.88 31.25,116.75"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_show_human() -> None:
    code, out, _ = run("show", "341523")
    assert code == 0
    assert out.splitlines() == [
        "341523000000 舒城县 (county)",
        "安徽省 340000000000 > 六安市 341500000000",
    ]


@pytest.mark.parametrize("text", ["341523", "341523000", "341523000000"])
def test_show_json(text: str) -> None:
    code, out, _ = run("show", text, "--json")
    assert code == 0
    assert json.loads(out) == {
        "code": "341523000000",
        "name": "舒城县",
        "level": "county",
        "parents": [
            {"code": "340000000000", "name": "安徽省", "level": "province"},
            {"code": "341500000000", "name": "六安市", "level": "city"},
        ],
    }


def test_show_a_village_and_a_province() -> None:
    code, out, _ = run("show", "341523100201", "--json")
    data = json.loads(out)
    assert code == 0 and data["name"] is None and data["level"] == "village"
    assert [p["name"] for p in data["parents"]][-1] == "城关镇"
    code, out, _ = run("show", "34")
    assert code == 0 and out.splitlines() == ["340000000000 安徽省 (province)"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("341599", "unknown-region"), ("34x", "invalid-code"), ("341523999201", "unknown-region")],
)
def test_show_refuses_unknown_and_malformed_codes(text: str, reason: str) -> None:
    code, _, err = run("show", text)
    assert code == 1 and reason in err
    code, out, _ = run("show", text, "--json")
    assert code == 1 and json.loads(out)["code"] == reason


def test_resolve_circle_json() -> None:
    code, out, _ = run("resolve", "--circle", SHUCHENG_CIRCLE, "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"counties", "unlisted"}
    assert {"code": "341523000000", "name": "舒城县"} in data["counties"]
    assert all(set(c) == {"code", "name"} for c in data["counties"])


def test_resolve_polygon_human_and_from_a_file(tmp_path: Path) -> None:
    code, out, _ = run("resolve", "--polygon", BOX)
    assert code == 0 and out.splitlines() == ["341523000000 舒城县"]
    path = tmp_path / "area.txt"
    path.write_text(BOX + "\n", encoding="utf-8")
    code, out, _ = run("resolve", "--polygon-file", str(path), "--json")
    assert code == 0 and json.loads(out)["counties"] == [{"code": "341523000000", "name": "舒城县"}]


def test_resolve_reports_unlisted_ground() -> None:
    code, out, _ = run("resolve", "--circle", "22.28,114.16 0", "--json")
    assert code == 0 and json.loads(out) == {
        "counties": [],
        "unlisted": [{"code": "810101", "name": "中西区"}],
    }


@pytest.mark.parametrize("args", [[], ["--circle", SHUCHENG_CIRCLE, "--polygon", BOX]])
def test_resolve_needs_exactly_one_shape(args: list[str]) -> None:
    code, _, err = run("resolve", *args)
    assert code == 2 and "exactly one" in err


@pytest.mark.parametrize(
    "args",
    [
        ["--circle", "31.3,116.8"],
        ["--circle", "31.3,116.8 -4"],
        ["--polygon", "31.2;116.7 31.3,116.7 31.3,116.8"],
        ["--polygon", "116.7,31.2 116.7,31.3 116.8,31.3"],
        ["--polygon-file", "/nonexistent/area.txt"],
    ],
)
def test_resolve_refuses_malformed_coordinates(args: list[str]) -> None:
    code, _, err = run("resolve", *args)
    assert code == 1 and err.startswith("error [")
    code, out, _ = run("resolve", *args, "--json")
    assert code == 1 and json.loads(out)["ok"] is False


def test_find() -> None:
    code, out, _ = run("find", "舒城县", "--json")
    assert code == 0
    assert json.loads(out)["matches"][0] == {
        "code": "341523000000",
        "name": "舒城县",
        "level": "county",
    }
    code, out, _ = run("find", "城关镇", "--within", "341523")
    assert code == 0 and out.splitlines() == ["341523100000 城关镇 (township)"]
    code, _, err = run("find", "不存在的地方")
    assert code == 1 and "not-found" in err


def test_cover(tmp_path: Path) -> None:
    luan = ["341502", "341503", "341504", "341522", "341523", "341524", "341525"]
    code, out, _ = run("cover", *luan, "110101", "--json")
    assert code == 0
    assert json.loads(out)["codes"] == ["110101000000", "341500000000"]
    path = tmp_path / "codes.txt"
    path.write_text(",".join(luan[1:]), encoding="utf-8")
    code, out, _ = run("cover", luan[0], "--file", str(path))
    assert code == 0 and out.splitlines() == ["341500000000 六安市 (city)"]
    assert run("cover", "341599")[0] == 1
    assert run("cover")[0] == 2
