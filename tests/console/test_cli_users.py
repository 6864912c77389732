from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dispatcher.cli.main import app
from tests.console.support import write_city_platform

runner = CliRunner()


def test_first_admin_from_the_command_line(tmp_path: Path) -> None:
    directory = write_city_platform(tmp_path / "p")
    made = runner.invoke(app, ["user", "add", "--dir", str(directory), "--username", "chief",
                               "--role", "admin", "--password", "long enough pw", "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["region"] == "341500000000"
    totp = runner.invoke(app, ["user", "add", "--dir", str(directory), "--username", "duty1",
                               "--role", "operator", "--region", "341523", "--totp"],
                         input="another long pw\nanother long pw\n")
    assert totp.exit_code == 0, totp.output
    assert "otpauth://" in totp.output
    again = runner.invoke(app, ["user", "add", "--dir", str(directory), "--username", "chief",
                                "--role", "admin", "--password", "long enough pw"])
    assert again.exit_code == 1 and "already exists" in again.output
    outside = runner.invoke(app, ["user", "add", "--dir", str(directory), "--username", "x1",
                                  "--role", "operator", "--region", "110101",
                                  "--password", "long enough pw"])
    assert outside.exit_code == 1 and "outside" in outside.output
    short = runner.invoke(app, ["user", "add", "--dir", str(directory), "--username", "x2",
                                "--role", "operator", "--password", "short"])
    assert short.exit_code == 1 and "at least" in short.output
    listed = runner.invoke(app, ["user", "list", "--dir", str(directory), "--json"])
    assert [u["username"] for u in json.loads(listed.stdout)] == ["chief", "duty1"]
