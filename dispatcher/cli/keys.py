"""``ebc keys new|show``, ``ebc sign`` and ``ebc verify``: SM2 keys and signatures (GY/T 389).

Output and exit codes are a contract scripts rely on (see output.py): ``keys new`` prints the
certificate serial alone on the first line; ``sign`` prints only the base64 signature.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from dispatcher.cli.output import emit, fail, read_input_file
from protocols.codes import CertSN
from protocols.errors import CodeError
from signing.block import signed_message
from signing.errors import KeyFormatError
from signing.keyfile import PUBLIC_LABEL, pem_label
from signing.sm2 import SM2PrivateKey, SM2PublicKey, sign, verify

keys_app = typer.Typer(help="SM2 key pairs.", no_args_is_help=True)

_MAX_TIME = 0xFFFFFFFF
SignedAt = Annotated[
    int | None,
    typer.Option(
        "--signed-at",
        min=0,
        max=_MAX_TIME,
        help="UNIX seconds appended (4 bytes, big-endian) to the signed bytes.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _cert_sn_option(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return CertSN(value).value
    except CodeError as exc:
        raise typer.BadParameter(exc.message) from exc


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


@keys_app.command("new")
def keys_new(
    out: Annotated[Path, typer.Option("--out", help="Directory for private.pem and public.pem.")],
    cert_sn: Annotated[
        str | None,
        typer.Option(
            "--cert-sn", callback=_cert_sn_option, help="12-digit serial (random if omitted)."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Holder name to report.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing keys.")] = False,
    as_json: AsJson = False,
) -> None:
    """Make an SM2 key pair: DIR/private.pem (PKCS#8, mode 0600) and DIR/public.pem."""
    private_path, public_path = out / "private.pem", out / "public.pem"
    existing = [str(p) for p in (private_path, public_path) if p.exists()]
    if existing and not force:
        fail(
            f"refusing to overwrite {', '.join(existing)} (use --force)",
            as_json=as_json,
            code="exists",
        )
    serial = cert_sn or f"{secrets.randbelow(10**12):012d}"
    key = SM2PrivateKey.generate()
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_atomic(private_path, key.to_pem(), 0o600)
        _write_atomic(public_path, key.public_key().to_pem(), 0o644)
    except OSError as exc:
        fail(f"cannot write keys to {out}: {exc.strerror}", as_json=as_json, code="unwritable")
    data = {
        "cert_sn": serial,
        "private_key": str(private_path.resolve()),
        "public_key": str(public_path.resolve()),
        "name": name,
    }
    human = [serial, f"private key: {data['private_key']}", f"public key:  {data['public_key']}"]
    emit(data, as_json=as_json, human=human)


@keys_app.command("show")
def keys_show(
    key: Annotated[str, typer.Option("--key", help="A private or public SM2 PEM file.")],
    as_json: AsJson = False,
) -> None:
    """Print the public point (x||y, hex) of an SM2 key file."""
    pem = read_input_file(key, as_json=as_json, limit=1024 * 1024)
    kind = "public" if pem_label(pem) == PUBLIC_LABEL else "private"
    try:
        public = (
            SM2PublicKey.from_pem(pem)
            if kind == "public"
            else SM2PrivateKey.from_pem(pem).public_key()
        )
    except KeyFormatError as exc:
        fail(f"{key}: {exc.message}", as_json=as_json, code=exc.code)
    data = {"kind": kind, "public_point": public.point.hex(), "algorithm": "SM2"}
    emit(data, as_json=as_json, human=public.point.hex())


def _message(path: str, signed_at: int | None, as_json: bool) -> bytes:
    body = read_input_file(path, as_json=as_json)
    return body if signed_at is None else signed_message(body, signed_at)


def sign_command(
    file: Annotated[str, typer.Argument(help="The file whose exact bytes are signed.")],
    key: Annotated[str, typer.Option("--key", help="SM2 private key (PEM).")],
    signed_at: SignedAt = None,
    as_json: AsJson = False,
) -> None:
    """Print base64 of the 64-byte SM2 r||s over FILE (+ 4-byte signed-at when given)."""
    try:
        private = SM2PrivateKey.from_pem(read_input_file(key, as_json=as_json, limit=1024 * 1024))
    except KeyFormatError as exc:
        fail(f"{key}: {exc.message}", as_json=as_json, code=exc.code)
    value = base64.b64encode(sign(private, _message(file, signed_at, as_json))).decode("ascii")
    emit({"signature": value, "signed_at": signed_at}, as_json=as_json, human=value)


def verify_command(
    file: Annotated[str, typer.Argument(help="The file whose exact bytes were signed.")],
    pubkey: Annotated[str, typer.Option("--pubkey", help="SM2 public key (PEM).")],
    signature: Annotated[str, typer.Option("--signature", help="Base64 of the 64-byte r||s.")],
    signed_at: SignedAt = None,
    as_json: AsJson = False,
) -> None:
    """Exit 0 and print "valid" when SIGNATURE verifies; else exit 1 saying why."""
    try:
        public = SM2PublicKey.from_pem(read_input_file(pubkey, as_json=as_json, limit=1024 * 1024))
    except KeyFormatError as exc:
        fail(f"{pubkey}: {exc.message}", as_json=as_json, code=exc.code)
    try:
        raw = base64.b64decode("".join(signature.split()), validate=True)
    except (binascii.Error, ValueError):
        fail("signature is not valid base64", as_json=as_json, code="bad-base64")
    if len(raw) != 64:
        fail(
            f"signature is {len(raw)} bytes; SM2 r||s is 64",
            as_json=as_json,
            code="wrong-length",
        )
    if not verify(public, _message(file, signed_at, as_json), raw):
        fail(
            "signature does not match the file, key and signed-at",
            as_json=as_json,
            code="signature-invalid",
        )
    emit({"ok": True, "valid": True}, as_json=as_json, human="valid")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.command("sign")(sign_command)
    app.command("verify")(verify_command)
