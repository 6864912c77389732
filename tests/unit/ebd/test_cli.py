"""``ebc ebd new-ebm | pack | open`` end to end in a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dispatcher.cli.ebd import app
from protocols.codes import CertSN
from signing.sm2 import SM2PrivateKey, SM2PublicKey
from signing.trust import Rights, TrustEntry, TrustStore
from signing.trustfile import entries_to_json

runner = CliRunner()
SRC = "23400000000000101010101"
SN = "100000000001"


def _keys(tmp: Path) -> tuple[Path, Path]:
    key = SM2PrivateKey.generate()
    private, public = tmp / "private.pem", tmp / "public.pem"
    private.write_bytes(key.to_pem())
    public.write_bytes(key.public_key().to_pem())
    return private, public


def _body(tmp: Path) -> Path:
    out = tmp / "body.xml"
    result = runner.invoke(
        app,
        [
            "new-ebm", "--src", SRC, "--title", "演练", "--desc", "这是一次演练",
            "--area", "341523", "--audio", "drill.mp3", "--start", "2023-06-01 08:00:00",
            "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _pack(tmp: Path, private: Path) -> Path:
    audio = tmp / "drill.mp3"
    audio.write_bytes(b"ID3\x00")
    result = runner.invoke(
        app,
        [
            "pack", "--body", str(_body(tmp)), "--key", str(private), "--cert-sn", SN,
            "--resource", str(audio), "--out", str(tmp), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["missing_auxiliaries"] == []
    return Path(report["out"])


def test_new_ebm_writes_a_parseable_drill(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["new-ebm", "--src", SRC, "--title", "t", "--desc", "d", "--area", "34"]
    )
    assert result.exit_code == 0, result.output
    assert "<MsgType>3</MsgType>" in result.output
    assert "<AreaCode>340000000000</AreaCode>" in result.output


def test_new_ebm_refuses_a_bad_code() -> None:
    result = runner.invoke(
        app, ["new-ebm", "--src", "123", "--title", "t", "--desc", "d", "--area", "34"]
    )
    assert result.exit_code == 1


def test_pack_then_open_verified_with_a_public_key(tmp_path: Path) -> None:
    private, public = _keys(tmp_path)
    package = _pack(tmp_path, private)
    assert package.name.startswith("EBDT_") and package.suffix == ".tar"
    result = runner.invoke(
        app, ["open", str(package), "--pubkey", str(public), "--cert-sn", SN, "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["verified"] is True
    assert report["signer"]["cert_sn"] == SN
    assert report["ebd_type"] == "EBM"
    assert report["resources"] == {"drill.mp3": 4}
    assert report["body"]["msg_basic_info"]["msg_type"] == 3
    human = runner.invoke(app, ["open", str(package), "--pubkey", str(public), "--cert-sn", SN])
    assert "EBDType:    EBM" in human.output
    assert "signature: valid" in human.output


def test_open_with_a_trust_store_and_without_any_key(tmp_path: Path) -> None:
    private, public = _keys(tmp_path)
    package = _pack(tmp_path, private)
    entry = TrustEntry(
        cert_sn=CertSN(SN),
        public_key=SM2PublicKey.from_pem(public.read_bytes()),
        name="province",
        holder_ebrid=None,
        not_before=None,
        not_after=None,
        revoked=False,
        rights=Rights.unrestricted(),
    )
    store = tmp_path / "trust.json"
    store.write_text(json.dumps(entries_to_json(TrustStore([entry]).entries())))
    assert runner.invoke(app, ["open", str(package), "--trust", str(store)]).exit_code == 0
    unchecked = runner.invoke(app, ["open", str(package)])
    assert unchecked.exit_code == 0
    assert "not checked" in unchecked.output


def test_open_a_tampered_package_exits_1_with_result_code_4(tmp_path: Path) -> None:
    private, public = _keys(tmp_path)
    package = _pack(tmp_path, private)
    data = package.read_bytes().replace("演练".encode(), "实战".encode())
    package.write_bytes(data)
    result = runner.invoke(
        app, ["open", str(package), "--pubkey", str(public), "--cert-sn", SN, "--json"]
    )
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["details"]["result_code"] == 4
    assert report["code"] == "signature-invalid"


def test_open_with_an_unknown_key_exits_1(tmp_path: Path) -> None:
    private, _ = _keys(tmp_path)
    package = _pack(tmp_path, private)
    other = tmp_path / "other"
    other.mkdir()
    _, other_public = _keys(other)
    result = runner.invoke(
        app, ["open", str(package), "--pubkey", str(other_public), "--cert-sn", SN]
    )
    assert result.exit_code == 1
    assert "ResultCode 4" in result.output


def test_open_garbage_exits_1_with_result_code_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"junk" * 300)
    result = runner.invoke(app, ["open", str(junk), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["details"]["result_code"] == 2


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "x.tar"
    junk.write_bytes(b"")
    assert runner.invoke(app, ["open", str(junk), "--pubkey", "p.pem"]).exit_code == 2
    assert runner.invoke(app, ["open", str(junk), "--cert-sn", "12"]).exit_code == 2
