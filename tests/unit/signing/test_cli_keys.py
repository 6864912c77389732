"""``ebc keys new|show``, ``ebc sign`` and ``ebc verify`` through Typer's runner."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from dispatcher.cli.keys import register
from signing.sm2 import SM2PrivateKey, SM2PublicKey, verify

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)
    return application


@pytest.fixture
def keydir(app: typer.Typer, tmp_path: Path) -> Path:
    out = tmp_path / "keys"
    result = runner.invoke(app, ["keys", "new", "--out", str(out), "--cert-sn", "340000000001"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "340000000001"
    return out


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "EBDB.xml"
    path.write_bytes("<EBD><MsgTitle>暴雨</MsgTitle></EBD>\n".encode())
    return path


def _sign(app: typer.Typer, keydir: Path, document: Path, *extra: str) -> str:
    key = str(keydir / "private.pem")
    result = runner.invoke(app, ["sign", "--key", key, *extra, str(document)])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _verify(app: typer.Typer, keydir: Path, document: Path, signature: str, *extra: str) -> Result:
    return runner.invoke(
        app,
        [
            "verify",
            "--pubkey",
            str(keydir / "public.pem"),
            "--signature",
            signature,
            *extra,
            str(document),
        ],
    )


def test_keys_new_writes_pkcs8_and_spki(keydir: Path) -> None:
    private_pem, public_pem = keydir / "private.pem", keydir / "public.pem"
    assert stat.S_IMODE(private_pem.stat().st_mode) == 0o600
    assert private_pem.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    key = SM2PrivateKey.from_pem(private_pem.read_bytes())
    assert SM2PublicKey.from_pem(public_pem.read_bytes()) == key.public_key()


def test_keys_new_json_and_random_serial(app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["keys", "new", "--out", str(tmp_path / "k"), "--name", "County", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"cert_sn", "private_key", "public_key", "name"}
    assert len(data["cert_sn"]) == 12 and data["cert_sn"].isdigit()
    assert data["name"] == "County"
    assert Path(data["private_key"]) == (tmp_path / "k" / "private.pem").resolve()


def test_keys_new_refuses_to_overwrite_unless_forced(app: typer.Typer, keydir: Path) -> None:
    before = (keydir / "private.pem").read_bytes()
    refused = runner.invoke(app, ["keys", "new", "--out", str(keydir)])
    assert refused.exit_code == 1
    assert "overwrite" in refused.output
    assert (keydir / "private.pem").read_bytes() == before
    forced = runner.invoke(app, ["keys", "new", "--out", str(keydir), "--force"])
    assert forced.exit_code == 0
    assert (keydir / "private.pem").read_bytes() != before


def test_bad_cert_sn_is_a_usage_error(app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "new", "--out", str(tmp_path), "--cert-sn", "12AB"])
    assert result.exit_code == 2


def test_sign_then_verify(app: typer.Typer, keydir: Path, document: Path) -> None:
    signature = _sign(app, keydir, document)
    assert len(base64.b64decode(signature)) == 64
    public = SM2PublicKey.from_pem((keydir / "public.pem").read_bytes())
    assert verify(public, document.read_bytes(), base64.b64decode(signature))
    result = _verify(app, keydir, document, signature)
    assert result.exit_code == 0 and result.stdout.strip() == "valid"


def test_tampered_file_fails(app: typer.Typer, keydir: Path, document: Path) -> None:
    signature = _sign(app, keydir, document)
    document.write_bytes(document.read_bytes() + b" ")
    result = _verify(app, keydir, document, signature)
    assert result.exit_code == 1
    assert "does not match" in result.output


def test_signed_at_is_part_of_the_signed_bytes(
    app: typer.Typer, keydir: Path, document: Path
) -> None:
    signature = _sign(app, keydir, document, "--signed-at", "1748779200")
    public = SM2PublicKey.from_pem((keydir / "public.pem").read_bytes())
    message = document.read_bytes() + (1748779200).to_bytes(4, "big")
    assert verify(public, message, base64.b64decode(signature))
    assert _verify(app, keydir, document, signature, "--signed-at", "1748779200").exit_code == 0
    assert _verify(app, keydir, document, signature).exit_code == 1
    assert _verify(app, keydir, document, signature, "--signed-at", "1748779201").exit_code == 1


@pytest.mark.parametrize(
    ("signature", "reason"),
    [("***", "not valid base64"), (base64.b64encode(b"\x01" * 63).decode(), "63 bytes")],
)
def test_unusable_signature_says_why(
    app: typer.Typer, keydir: Path, document: Path, signature: str, reason: str
) -> None:
    result = _verify(app, keydir, document, signature)
    assert result.exit_code == 1
    assert reason in result.output


def test_bad_key_file_fails_with_reason(app: typer.Typer, tmp_path: Path, document: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("nonsense")
    result = runner.invoke(app, ["sign", "--key", str(bad), str(document)])
    assert result.exit_code == 1
    assert "not a PEM file" in result.output


def test_keys_show(app: typer.Typer, keydir: Path) -> None:
    public = SM2PublicKey.from_pem((keydir / "public.pem").read_bytes())
    for name in ("private.pem", "public.pem"):
        result = runner.invoke(app, ["keys", "show", "--key", str(keydir / name)])
        assert result.exit_code == 0
        assert result.stdout.strip() == public.point.hex()
    shown = runner.invoke(app, ["keys", "show", "--key", str(keydir / "public.pem"), "--json"])
    assert json.loads(shown.stdout)["kind"] == "public"
