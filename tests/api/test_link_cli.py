"""`ebc link add/list`: the contract's flags, refusals and what it writes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dispatcher.cli.main import app
from protocols.codes import CertSN
from signing.trust import TrustStore

runner = CliRunner()


def _init(directory: Path, region: str, level: str) -> dict[str, str]:
    result = runner.invoke(
        app, ["init", "--dir", str(directory), "--region", region, "--level", level, "--json"]
    )
    assert result.exit_code == 0, result.output
    made: dict[str, str] = json.loads(result.stdout)
    return made


def test_link_add_writes_config_trust_and_lists(tmp_path: Path) -> None:
    county = _init(tmp_path / "county", "341523", "county")
    province = _init(tmp_path / "province", "34", "provincial")
    args = [
        "link",
        "add",
        "--dir",
        str(tmp_path / "county"),
        "--upper",
        "--url",
        "http://127.0.0.1:9/ebd",
        "--ebrid",
        province["ebrid"],
        "--cert-sn",
        province["cert_sn"],
        "--pubkey",
        province["public_key"],
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "county" / "platform.json").read_text())
    assert [(lk["role"], lk["ebrid"]) for lk in config["links"]] == [("upper", province["ebrid"])]
    entry = TrustStore.load(tmp_path / "county" / "trust.json").get(CertSN(province["cert_sn"]))
    assert entry.holder_ebrid == province["ebrid"]
    assert entry.rights.regions == ("341523000000",)  # an upper may act inside our area only
    listed = runner.invoke(app, ["link", "list", "--dir", str(tmp_path / "county"), "--json"])
    assert listed.exit_code == 0
    assert json.loads(listed.stdout)[0]["heartbeat"] == "never heard"
    assert county["ebrid"]


def test_link_add_refusals(tmp_path: Path) -> None:
    _init(tmp_path / "county", "341523", "county")
    other = _init(tmp_path / "other", "341522", "county")
    base = [
        "link",
        "add",
        "--dir",
        str(tmp_path / "county"),
        "--url",
        "http://127.0.0.1:9/ebd",
        "--ebrid",
        other["ebrid"],
        "--cert-sn",
        other["cert_sn"],
        "--pubkey",
        other["public_key"],
    ]
    assert runner.invoke(app, base).exit_code == 2  # neither --upper nor --lower
    assert runner.invoke(app, [*base, "--upper", "--lower"]).exit_code == 2
    outside = runner.invoke(app, [*base, "--lower"])
    assert outside.exit_code == 1 and "outside" in outside.output
    not_upper = runner.invoke(app, [*base, "--upper"])
    assert not_upper.exit_code == 1 and "does not contain" in not_upper.output
