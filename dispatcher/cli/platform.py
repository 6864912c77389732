"""Operator commands: ebc init, ebc trust add/list/revoke, ebc serve, ebc alert send."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from dispatcher.cli.output import emit, fail, read_input_file, usage
from dispatcher.config import LEVEL_DIGIT, PLATFORM_FILE, ConfigError, load_settings
from protocols.codes import CertSN, RegionCode, RegionLevel, ResourceCode
from protocols.errors import CodeError

trust_app = typer.Typer(help="Manage the issuers this platform trusts.", no_args_is_help=True)
alert_app = typer.Typer(help="Send and inspect alerts.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DirOption = Annotated[Path, typer.Option("--dir", help="The platform directory.")]

LEVEL_OF_REGION = {
    RegionLevel.NATIONAL: "national",
    RegionLevel.PROVINCE: "provincial",
    RegionLevel.CITY: "municipal",
    RegionLevel.COUNTY: "county",
}


def _random_sn() -> str:
    return f"{int.from_bytes(os.urandom(6), 'big') % 10**12:012d}"


def init(
    dir: DirOption,
    region: Annotated[str, typer.Option("--region", help="Jurisdiction region code.")],
    level: Annotated[
        str, typer.Option("--level", help="national|provincial|municipal|county")
    ] = "county",
    name: Annotated[str, typer.Option("--name")] = "",
    cert_sn: Annotated[str | None, typer.Option("--cert-sn")] = None,
    fake_adapter: Annotated[
        bool,
        typer.Option(
            "--fake-adapter/--no-fake-adapter", help="Register an in-process fake adapter."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a working platform directory: configuration, platform keys, database path."""
    try:
        code = RegionCode.parse(region)
    except CodeError as exc:
        fail(str(exc), as_json=as_json, code="invalid-region")
    implied = LEVEL_OF_REGION.get(code.level)
    chosen = level
    if chosen not in LEVEL_DIGIT:
        usage(f"--level must be one of {', '.join(LEVEL_DIGIT)}")
    if implied != chosen:
        fail(
            f"region {code.value} is a {code.level.name.lower()} code, not a {chosen} one",
            as_json=as_json,
            code="invalid-region",
        )
    if (dir / PLATFORM_FILE).exists():
        fail(
            f"{dir / PLATFORM_FILE} already exists; refusing to overwrite a platform",
            as_json=as_json,
            code="exists",
        )
    sn = cert_sn or _random_sn()
    try:
        CertSN(sn)
    except CodeError as exc:
        fail(str(exc), as_json=as_json, code="invalid-cert-sn")
    ebrid = ResourceCode.build(
        level=RegionLevel(LEVEL_DIGIT[chosen]), region=code, resource_type="0103", subtype="01"
    )
    dir.mkdir(parents=True, exist_ok=True)
    keys = dir / "keys"
    private, public = _write_keypair(keys)
    database_url = f"sqlite+aiosqlite:///{(dir / 'ebc.db').resolve()}"
    config: dict[str, Any] = {
        "level": chosen,
        "region": code.value,
        "ebrid": ebrid.value,
        "name": name or f"EBC {chosen} platform {code.value}",
        "cert_sn": sn,
        "private_key": "keys/private.pem",
        "public_key": "keys/public.pem",
        "trust_store": "trust.json",
        "database_url": database_url,
        "adapters": [],
    }
    level_code = RegionLevel(LEVEL_DIGIT[chosen])
    config["adapters"].append(
        {
            "ebrid": ResourceCode.build(
                level=level_code, region=code, resource_type="0314", subtype="02"
            ).value,
            "bearer": "ip",
            "regions": [code.value],
            "config": {},
        }
    )
    if fake_adapter:
        config["adapters"].append(
            {
                "ebrid": ResourceCode.build(
                    level=level_code, region=code, resource_type="0399", subtype="02"
                ).value,
                "bearer": "fake",
                "regions": [code.value],
                "config": {},
            }
        )
    (dir / PLATFORM_FILE).write_text(
        json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    result = {
        "dir": str(dir.resolve()),
        "ebrid": ebrid.value,
        "level": chosen,
        "region": code.value,
        "cert_sn": sn,
        "public_key": str(public.resolve()),
        "private_key": str(private.resolve()),
        "database_url": database_url,
        "config": str((dir / PLATFORM_FILE).resolve()),
    }
    emit(
        result,
        as_json=as_json,
        human=[
            f"platform {ebrid.value} ({chosen}, region {code.value}) in {result['dir']}",
            f"  certificate serial {sn}",
            f"  private key {result['private_key']}",
            f"  public key  {result['public_key']}",
            f"  database    {database_url}",
        ],
    )


def _write_keypair(keys: Path) -> tuple[Path, Path]:
    from signing.sm2 import SM2PrivateKey

    keys.mkdir(parents=True, exist_ok=True)
    key = SM2PrivateKey.generate()
    private, public = keys / "private.pem", keys / "public.pem"
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.to_pem())
    public.write_bytes(key.public_key().to_pem())
    return private, public


def _trust_path(dir: Path) -> Path:
    try:
        settings = load_settings(dir)
    except ConfigError as exc:
        fail(str(exc), code="invalid-configuration")
    return settings.trust_store or dir / "trust.json"


@trust_app.command("add")
def trust_add(
    dir: DirOption,
    cert_sn: Annotated[str, typer.Option("--cert-sn")],
    pubkey: Annotated[Path, typer.Option("--pubkey")],
    name: Annotated[str, typer.Option("--name")],
    regions: Annotated[str, typer.Option("--regions", help="CODE[,CODE...]")],
    ebrid: Annotated[str | None, typer.Option("--ebrid")] = None,
    events: Annotated[str, typer.Option("--events", help="CODES or *")] = "*",
    msgtypes: Annotated[str, typer.Option("--msgtypes")] = "1,2,3,4,5",
    as_json: JsonFlag = False,
) -> None:
    """Trust an issuer's certificate with the rights it may use."""
    from signing.errors import SignatureError
    from signing.sm2 import SM2PublicKey
    from signing.trust import Rights, TrustEntry, TrustStore

    path = _trust_path(dir)
    try:
        key = SM2PublicKey.from_pem(read_input_file(str(pubkey), as_json=as_json))
        region_codes = tuple(RegionCode.parse(r).value for r in regions.split(",") if r.strip())
        if not region_codes:
            raise CodeError("--regions names no region")
        msg = tuple(sorted({int(m) for m in msgtypes.split(",") if m.strip()}))
        if not msg or any(m not in range(1, 6) for m in msg):
            raise CodeError(f"--msgtypes must be numbers 1-5, got {msgtypes!r}")
        event_list = (
            ("*",)
            if events.strip() == "*"
            else tuple(e.strip() for e in events.split(",") if e.strip())
        )
        entry = TrustEntry(
            cert_sn=CertSN(cert_sn),
            public_key=key,
            name=name,
            holder_ebrid=ResourceCode(ebrid).value if ebrid else None,
            not_before=None,
            not_after=None,
            revoked=False,
            rights=Rights(regions=region_codes, event_types=event_list, msg_types=msg),
        )
    except (CodeError, SignatureError, ValueError) as exc:
        fail(str(exc), as_json=as_json)
    store = TrustStore.load(path) if path.exists() else TrustStore()
    store.add(entry)
    store.save(path)
    emit(
        {
            "cert_sn": cert_sn,
            "name": name,
            "regions": list(region_codes),
            "events": list(event_list),
            "msgtypes": list(msg),
            "trust_store": str(path),
        },
        as_json=as_json,
        human=f"trusted {cert_sn} ({name}) for {', '.join(region_codes)}",
    )


@trust_app.command("list")
def trust_list(dir: DirOption, as_json: JsonFlag = False) -> None:
    """List trusted certificates."""
    from signing.trust import TrustStore

    path = _trust_path(dir)
    store = TrustStore.load(path) if path.exists() else TrustStore()
    rows = [
        {
            "cert_sn": e.cert_sn.value,
            "name": e.name,
            "ebrid": e.holder_ebrid,
            "revoked": e.revoked,
            "regions": list(e.rights.regions),
            "events": list(e.rights.event_types),
            "msgtypes": list(e.rights.msg_types),
        }
        for e in store.entries()
    ]
    emit(
        rows,
        as_json=as_json,
        human=[
            f"{e.cert_sn.value}  {'REVOKED ' if e.revoked else ''}{e.name}  "
            f"regions={','.join(e.rights.regions)} msgtypes={list(e.rights.msg_types)}"
            for e in store.entries()
        ]
        or ["no trusted certificates"],
    )


@trust_app.command("revoke")
def trust_revoke(
    dir: DirOption, cert_sn: Annotated[str, typer.Option("--cert-sn")], as_json: JsonFlag = False
) -> None:
    """Revoke a certificate: alerts signed with it are refused from now on."""
    from signing.errors import SignatureError
    from signing.trust import TrustStore

    path = _trust_path(dir)
    store = TrustStore.load(path) if path.exists() else TrustStore()
    try:
        store.revoke(CertSN(cert_sn))
    except (CodeError, SignatureError) as exc:
        fail(str(exc), as_json=as_json)
    store.save(path)
    emit({"cert_sn": cert_sn, "revoked": True}, as_json=as_json, human=f"revoked {cert_sn}")


def serve(
    dir: DirOption,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8080,
) -> None:
    """Run the platform service."""
    import uvicorn

    from dispatcher.app import create_app

    try:
        settings = load_settings(dir)
    except ConfigError as exc:
        fail(str(exc), code="invalid-configuration")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@alert_app.command("send")
def alert_send(
    file: Annotated[Path, typer.Argument(help="CAP 1.2 XML or EBM JSON")],
    url: Annotated[str, typer.Option("--url", help="Platform base URL or its /api/v1/alerts")],
    key: Annotated[Path, typer.Option("--key", help="Issuer PRIVATE.pem")],
    cert_sn: Annotated[str, typer.Option("--cert-sn")],
    content_type: Annotated[str | None, typer.Option("--content-type")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Sign FILE and post it to a platform's intake."""
    import httpx

    from dispatcher.services.authn import sign_request
    from signing.errors import SignatureError
    from signing.signer import load_signer

    body = read_input_file(str(file), as_json=as_json)
    try:
        signer = load_signer(key, CertSN(cert_sn))
    except (CodeError, SignatureError, OSError) as exc:
        fail(str(exc), as_json=as_json, code="invalid-key")
    media = content_type or (
        "application/json" if body.lstrip()[:1] in (b"{", b"[") else "application/cap+xml"
    )
    headers = sign_request(body, sign=signer.sign, cert_sn=cert_sn, signed_at=int(time.time()))
    headers["Content-Type"] = media
    target = url.rstrip("/")
    if not target.endswith("/api/v1/alerts"):
        target += "/api/v1/alerts"
    try:
        response = httpx.post(target, content=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {target}: {exc}", as_json=as_json, code="unreachable")
    try:
        payload = response.json()
    except ValueError:
        payload = {"body": response.text}
    result = {"status": response.status_code, **payload}
    if response.status_code >= 400:
        fail(
            f"{response.status_code} {payload.get('code', '')}: {payload.get('detail', '')}",
            as_json=as_json,
            code=str(payload.get("code", "refused")),
            details=result,
        )
    emit(
        result,
        as_json=as_json,
        human=[
            f"{response.status_code} alert {payload.get('id')} state {payload.get('state')}",
            f"  status: {target.removesuffix('/api/v1/alerts')}{payload.get('status_url')}",
        ],
    )


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("serve")(serve)
    app.add_typer(trust_app, name="trust")
    app.add_typer(alert_app, name="alert")
