"""The operator CLI contract end to end: init, keys, trust, serve, alert send."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from dispatcher.cli.main import app
from tests.api.support import cap_alert
from tests.integration.server import Server, free_port

runner = CliRunner()


def _ok(*args: str) -> dict[str, object]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else {"out": result.stdout}


@pytest.fixture
def county(tmp_path: Path) -> Iterator[tuple[Path, Server]]:
    directory = tmp_path / "shucheng"
    made = _ok(
        "init",
        "--dir",
        str(directory),
        "--region",
        "341523",
        "--level",
        "county",
        "--fake-adapter",
        "--json",
    )
    for key in ("ebrid", "cert_sn", "public_key", "private_key", "database_url"):
        assert made[key], key
    assert str(made["ebrid"]).startswith("4341523000000")
    assert Path(str(made["private_key"])).stat().st_mode & 0o077 == 0
    server = Server(directory, free_port())
    yield directory, server
    server.stop()


def test_init_refuses_bad_input(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["init", "--dir", str(tmp_path / "x"), "--region", "3415"])
    assert bad.exit_code == 1
    assert "city code, not a county" in bad.output
    wrong = runner.invoke(
        app, ["init", "--dir", str(tmp_path / "y"), "--region", "34152", "--json"]
    )
    assert wrong.exit_code == 1 and json.loads(wrong.stdout)["code"] == "invalid-region"
    runner.invoke(app, ["init", "--dir", str(tmp_path / "z"), "--region", "341523"])
    again = runner.invoke(app, ["init", "--dir", str(tmp_path / "z"), "--region", "341523"])
    assert again.exit_code == 1 and "refusing to overwrite" in again.output


def test_trust_add_list_revoke_and_send(county: tuple[Path, Server], tmp_path: Path) -> None:
    directory, server = county
    issuer_dir = tmp_path / "issuer"
    _ok("keys", "new", "--out", str(issuer_dir), "--cert-sn", "600000000001")
    _ok(
        "trust",
        "add",
        "--dir",
        str(directory),
        "--cert-sn",
        "600000000001",
        "--pubkey",
        str(issuer_dir / "public.pem"),
        "--name",
        "舒城县应急局",
        "--regions",
        "341523",
        "--events",
        "*",
        "--msgtypes",
        "1,2,3,4,5",
    )
    listed = _ok("trust", "list", "--dir", str(directory), "--json")
    assert [e["cert_sn"] for e in listed] == ["600000000001"]  # type: ignore[attr-defined]

    server.start()
    alert = tmp_path / "alert.xml"
    alert.write_bytes(cap_alert("cli-0001", status="Exercise"))
    sent = _ok(
        "alert",
        "send",
        "--url",
        server.url,
        "--key",
        str(issuer_dir / "private.pem"),
        "--cert-sn",
        "600000000001",
        str(alert),
        "--json",
    )
    assert sent["status"] == 202
    status: dict[str, object] = {}
    for _ in range(200):
        status = httpx.get(f"{server.url}{sent['status_url']}", timeout=5).json()
        if status["state"] == "completed":
            break
        time.sleep(0.05)
    assert status["coverage"] == 1.0 and status["drill"] is True

    _ok("trust", "revoke", "--dir", str(directory), "--cert-sn", "600000000001")
    server.stop()
    server.start()
    alert.write_bytes(cap_alert("cli-0002"))
    refused = runner.invoke(
        app,
        [
            "alert",
            "send",
            "--url",
            server.url,
            "--key",
            str(issuer_dir / "private.pem"),
            "--cert-sn",
            "600000000001",
            str(alert),
            "--json",
        ],
    )
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["code"] == "certificate-revoked"


def test_demo_platform_reaches_its_whole_fleet(tmp_path: Path) -> None:
    import subprocess
    import sys

    directory = tmp_path / "demo"
    port = free_port()
    log = open(tmp_path / "demo.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dispatcher.cli.main",
            "demo",
            "--dir",
            str(directory),
            "--port",
            str(port),
            "--terminals",
            "120",
        ],
        stdout=log,
        stderr=log,
        env={**os.environ, "EBC_EMBEDDED_BROKER_PORT": str(free_port())},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        sent = _ok(
            "alert",
            "send",
            "--url",
            url,
            "--key",
            str(directory / "issuer/private.pem"),
            "--cert-sn",
            "900000000001",
            str(directory / "sample-drill.xml"),
            "--json",
        )
        assert sent["status"] == 202
        status: dict[str, object] = {}
        for _ in range(600):
            status = httpx.get(f"{url}{sent['status_url']}", timeout=5).json()
            if status["state"] == "completed":
                break
            time.sleep(0.05)
        assert status["targeted"] == 120 and status["coverage"] == 1.0
        assert set(status["by_bearer"]) == {"ip"}  # real MQTT terminals, nothing faked
        assert status["drill"] is True
        assert len(status["by_region"]) > 10  # spread across the townships
    finally:
        proc.terminate()
        proc.wait(timeout=10)
