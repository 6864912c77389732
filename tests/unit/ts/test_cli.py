"""``ebc receiver run``: argument checks, exit codes, and dispatch through RECEIVERS."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dispatcher.cli.main import app
from signing.sm2 import SM2PrivateKey
from simulators import receivers

runner = CliRunner()
EBRID = "63415231000010303010401"


@pytest.fixture
def pem(tmp_path: Path) -> str:
    path = tmp_path / "platform.pem"
    path.write_bytes(SM2PrivateKey.generate().public_key().to_pem())
    return str(path)


def args(pem: str, **changes: str) -> list[str]:
    values = {
        "--bearer": "dtmb",
        "--input": "udp://127.0.0.1:15000",
        "--ebrid": EBRID,
        "--trust": pem,
        "--broker": "mqtt://127.0.0.1:1883",
        **changes,
    }
    return ["receiver", "run", *(x for pair in values.items() for x in pair)]


def test_unknown_bearer_is_a_usage_error(pem: str) -> None:
    result = runner.invoke(app, args(pem, **{"--bearer": "vhf"}))
    assert result.exit_code == 2 and "cable, dth, dtmb" in result.output


def test_bad_input_ebrid_and_key(pem: str, tmp_path: Path) -> None:
    assert runner.invoke(app, args(pem, **{"--input": "tcp://x:1"})).exit_code == 2
    assert runner.invoke(app, args(pem, **{"--ebrid": "123"})).exit_code == 1
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    assert runner.invoke(app, args(str(bad))).exit_code == 1


def test_another_bearer_registers_itself(pem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """How the FM receiver plugs in: one entry in RECEIVERS, and ``--bearer fm`` reaches it."""
    calls: list[dict[str, Any]] = []

    async def fake_fm(**kwargs: Any) -> object:
        calls.append(kwargs)
        assert isinstance(kwargs["stop"], asyncio.Event)
        return None

    monkeypatch.setitem(receivers.RECEIVERS, "fm", fake_fm)
    result = runner.invoke(app, args(pem, **{"--bearer": "fm", "--input": "file:/dev/null"}))
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert (call["bearer"], call["ebrid"], call["username"]) == ("fm", EBRID, EBRID)
    assert call["input"] == "file:/dev/null" and "pid" not in call


def test_pid_option_reaches_ts_receivers(pem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    async def fake_ts(**kwargs: Any) -> object:
        seen.update(kwargs)
        return None

    monkeypatch.setitem(receivers.RECEIVERS, "dtmb", fake_ts)
    assert runner.invoke(app, [*args(pem), "--pid", "0x22"]).exit_code == 0
    assert seen["pid"] == 0x22
    assert runner.invoke(app, [*args(pem), "--pid", "twenty"]).exit_code == 2
