"""``ebc ebd pack|open|new-ebm``: GY/T 384 EBD bodies and signed EBDT_<EBDID>.tar packages.

``pack`` signs the body file's exact bytes (never a re-serialisation), so a body written by
another tool keeps its bytes. ``open`` exits 1 with the EBDResponse ResultCode a receiving
platform would answer (docs/ebd.md) whenever the package, body or signature is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from dispatcher.cli.output import emit, fail, read_input_file, usage
from protocols.codes import EBDID, EBMID, CertSN, ResourceCode
from protocols.ebd import (
    Auxiliary,
    AuxiliaryType,
    Dest,
    Ebd,
    EbdResultError,
    Ebm,
    MsgBasicInfo,
    MsgContent,
    MsgType,
    ResultCode,
    Severity,
    Src,
    build_ebd,
    build_package,
    open_package,
    package_name,
    parse_ebd,
)
from protocols.ebd.mapping import WIRE_ZONE, format_time, parse_time
from protocols.errors import CodeError, ProtocolError
from signing.ebds import build_signature_file
from signing.errors import KeyFormatError, SignatureError
from signing.package import open_verified, result_code_for
from signing.signer import load_signer
from signing.sm2 import SM2PublicKey
from signing.trust import Rights, TrustEntry, TrustStore

app = typer.Typer(
    help="GY/T 384 EBD documents and signed EBDT_<EBDID>.tar packages.", no_args_is_help=True
)

AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
_PACKAGE_FILE = re.compile(r"EBDT_(\d{41})\.tar")
_RESULT_WORDS = {
    ResultCode.PARSE_FAILURE: "parse failure",
    ResultCode.MISSING_DATA: "missing data",
    ResultCode.SIGNATURE_FAILED: "signature failed",
    ResultCode.OTHER_ERROR: "other error",
}


def _refuse(exc: Exception, where: str, as_json: bool) -> NoReturn:
    code = ResultCode(result_code_for(exc))
    message = getattr(exc, "message", str(exc))
    fail(
        f"{where}: ResultCode {int(code)} ({_RESULT_WORDS.get(code, code.name)}): {message}",
        as_json=as_json,
        code=getattr(exc, "code", "invalid-input"),
        details={"result_code": int(code)},
    )


def _cert_sn(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return CertSN(value).value
    except CodeError as exc:
        raise typer.BadParameter(exc.message) from exc


# ---------------------------------------------------------------- pack


@app.command("pack")
def pack(
    body: Annotated[str, typer.Option("--body", help="The EBDB XML file to sign and pack.")],
    key: Annotated[str, typer.Option("--key", help="SM2 private key (PEM).")],
    cert_sn: Annotated[
        str, typer.Option("--cert-sn", callback=_cert_sn, help="12-digit certificate serial.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Package file, or a directory for it.")],
    resource: Annotated[
        list[str] | None, typer.Option("--resource", help="A file to include (repeatable).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Sign BODY into EBDS_EBDB_<EBDID>.xml and write EBDT_<EBDID>.tar (EBDID read from BODY)."""
    ebdb = read_input_file(body, as_json=as_json)
    try:
        ebd = parse_ebd(ebdb)
    except EbdResultError as exc:
        _refuse(exc, body, as_json)
    try:
        signer = load_signer(key, cert_sn)
    except KeyFormatError as exc:
        fail(exc.message, as_json=as_json, code=exc.code)
    resources: dict[str, bytes] = {}
    for path in resource or []:
        name = Path(path).name
        if name in resources:
            usage(f"two resources are named {name!r}")
        resources[name] = read_input_file(path, as_json=as_json)
    ebdid = ebd.ebdid.value
    try:
        data = build_package(ebdb, ebdid, build_signature_file(ebdb, ebdid, signer), resources)
    except ProtocolError as exc:
        fail(exc.message, as_json=as_json, code=exc.code)
    target = out / package_name(ebdid) if out.is_dir() else out
    try:
        target.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror}", as_json=as_json, code="unwritable")
    missing = _missing_auxiliaries(ebd, resources)
    result = {
        "ok": True,
        "ebdid": ebdid,
        "ebd_type": ebd.ebd_type.value,
        "out": str(target),
        "bytes": len(data),
        "resources": sorted(resources),
        "missing_auxiliaries": missing,
    }
    human = [f"wrote {target} ({len(data)} bytes): {ebd.ebd_type.value} {ebdid}"]
    human += [f"warning: Auxiliary {name!r} is not in the package" for name in missing]
    emit(result, as_json=as_json, human=human)


def _missing_auxiliaries(ebd: Ebd, resources: dict[str, bytes]) -> list[str]:
    if not isinstance(ebd.body, Ebm):
        return []
    names = [a.auxiliary_desc for c in ebd.body.contents for a in c.auxiliaries]
    return [n for n in names if "://" not in n and n not in resources]


# ---------------------------------------------------------------- open


def _trust_store(
    trust: str | None, pubkey: str | None, cert_sn: str | None, as_json: bool
) -> TrustStore | None:
    if trust and (pubkey or cert_sn):
        usage("give either --trust or --pubkey with --cert-sn, not both")
    if bool(pubkey) != bool(cert_sn):
        usage("--pubkey and --cert-sn go together")
    try:
        if trust:
            return TrustStore.load(trust)
        if pubkey and cert_sn:
            public = SM2PublicKey.from_pem(read_input_file(pubkey, as_json=as_json, limit=1 << 20))
            entry = TrustEntry(
                cert_sn=CertSN(cert_sn),
                public_key=public,
                name=f"key from {pubkey}",
                holder_ebrid=None,
                not_before=None,
                not_after=None,
                revoked=False,
                rights=Rights.unrestricted(),
            )
            return TrustStore([entry])
    except SignatureError as exc:
        fail(exc.message, as_json=as_json, code=exc.code)
    return None


def _at(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time") from None
    if moment.utcoffset() is None:
        raise typer.BadParameter("give a UTC offset, e.g. 2025-01-01T08:00:00+08:00")
    return moment


@app.command("open")
def open_(
    package: Annotated[str, typer.Argument(help="An EBDT_<EBDID>.tar package.")],
    trust: Annotated[str | None, typer.Option("--trust", help="Trust store JSON.")] = None,
    pubkey: Annotated[str | None, typer.Option("--pubkey", help="SM2 public key (PEM).")] = None,
    cert_sn: Annotated[
        str | None,
        typer.Option("--cert-sn", callback=_cert_sn, help="Serial of the --pubkey certificate."),
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Check certificate validity at this ISO time.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Print the package's header, body summary and (given a key or trust store) its signer."""
    store = _trust_store(trust, pubkey, cert_sn, as_json)
    moment = _at(at)
    data = read_input_file(package, as_json=as_json)
    match = _PACKAGE_FILE.fullmatch(Path(package).name)
    expected = match.group(1) if match else None
    signer: dict[str, Any] | None = None
    try:
        if store is not None:
            verified = open_verified(data, store, at=moment, expected_ebdid=expected)
            opened, ebd = verified.package, verified.ebd
            signer = {"cert_sn": verified.signer.cert_sn.value, "name": verified.signer.name}
        else:
            opened = open_package(data, expected_ebdid=expected)
            ebd = parse_ebd(opened.ebdb)
    except (ProtocolError, SignatureError) as exc:
        _refuse(exc, package, as_json)
    result = {
        "ok": True,
        "verified": signer is not None,
        "signer": signer,
        "signature_file": opened.ebds is not None,
        "resources": {name: len(blob) for name, blob in opened.resources.items()},
        **_jsonable(ebd),
        "ebd_type": ebd.ebd_type.value,
    }
    verdict = (
        f"signature: valid, certificate {signer['cert_sn']} ({signer['name']})"
        if signer
        else "signature: not checked (give --trust, or --pubkey with --cert-sn)"
    )
    emit(result, as_json=as_json, human=[*_header_lines(ebd), *_body_lines(ebd), verdict])


def _header_lines(ebd: Ebd) -> list[str]:
    lines = [
        f"EBDType:    {ebd.ebd_type.value}",
        f"EBDID:      {ebd.ebdid.value}",
        f"EBDVersion: {ebd.ebd_version}",
        f"SRC:        {ebd.src.ebrid.value}" + (f" {ebd.src.url}" if ebd.src.url else ""),
        f"EBDTime:    {format_time(ebd.ebd_time)}",
    ]
    if ebd.dest is not None:
        lines.append(f"DEST:       {ebd.dest.ebrid.value}")
    if ebd.related_ebd is not None:
        lines.append(f"RelatedEBD: {ebd.related_ebd.value}")
    return lines


def _body_lines(ebd: Ebd) -> list[str]:
    body = ebd.body
    if isinstance(body, Ebm):
        info = body.msg_basic_info
        lines = [
            f"EBMID:      {body.ebmid.value}",
            f"MsgType:    {int(info.msg_type)} {info.msg_type.name}",
        ]
        if info.event_type:
            severity = f"{int(info.severity)} {info.severity.name}" if info.severity else "-"
            lines.append(f"Event:      {info.event_type}, severity {severity}")
        if info.start_time and info.end_time:
            lines.append(
                f"Window:     {format_time(info.start_time)} .. {format_time(info.end_time)}"
            )
        for content in body.contents:
            areas = ",".join(content.area_codes)
            lines.append(f"[{content.language_code}] {content.msg_title} -> {areas}")
        return lines
    fields = _jsonable(body)
    records = fields.pop("records", None)
    lines = [f"{key}: {value}" for key, value in fields.items() if not isinstance(value, list)]
    if records is not None:
        lines.append(f"records: {len(records)}")
        for record in records[:20]:
            lines.append("  " + ", ".join(f"{k}={v}" for k, v in record.items() if k != "rpt_time"))
    return lines


def _jsonable(obj: Any) -> Any:
    """Plain JSON values: dataclasses become dicts without their empty fields."""
    if isinstance(obj, ResourceCode | EBMID | EBDID):
        return obj.value
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        items = ((f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj))
        return {k: _jsonable(v) for k, v in items if v is not None and v != ()}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, dt.datetime):
        return format_time(obj)
    if isinstance(obj, Decimal):
        return format(obj, "f")
    if isinstance(obj, tuple | list):
        return [_jsonable(item) for item in obj]
    return obj


# ---------------------------------------------------------------- new-ebm


def _time_option(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command("new-ebm")
def new_ebm(
    src: Annotated[str, typer.Option("--src", help="Issuing platform EBRID (23 digits).")],
    title: Annotated[str, typer.Option("--title", help="MsgTitle.")],
    area: Annotated[list[str], typer.Option("--area", help="Region code (repeatable).")],
    desc: Annotated[str | None, typer.Option("--desc", help="MsgDesc (the text read out).")] = None,
    event_type: Annotated[
        str, typer.Option("--event-type", help="e.g. 11B03 rainstorm.")
    ] = "11B03",
    severity: Annotated[int, typer.Option("--severity", min=0, max=4)] = int(Severity.BLUE),
    msg_type: Annotated[
        int, typer.Option("--msg-type", min=1, max=5, help="1 real, 2 cancel, 3-5 drills.")
    ] = int(MsgType.PLATFORM_DRILL),
    sequence: Annotated[int, typer.Option("--sequence", min=0, max=9999)] = 1,
    counter: Annotated[int, typer.Option("--counter", min=0, help="EBDID daily counter.")] = 1,
    dest: Annotated[str | None, typer.Option("--dest", help="Receiving platform EBRID.")] = None,
    url: Annotated[str | None, typer.Option("--url", help="SRC/URL for replies.")] = None,
    sender_name: Annotated[str, typer.Option("--sender-name")] = "EBC",
    sender_code: Annotated[str | None, typer.Option("--sender-code")] = None,
    language: Annotated[str, typer.Option("--language")] = "zho",
    start: Annotated[
        str | None, typer.Option("--start", help="yyyy-MM-dd HH:mm:ss (default now, UTC+8).")
    ] = None,
    minutes: Annotated[int, typer.Option("--minutes", min=1, help="Duration.")] = 60,
    audio: Annotated[
        str | None, typer.Option("--audio", help="MP3 file name carried in the package.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
) -> None:
    """Write a sample EBM body (EBDB XML) built from flags; a drill (MsgType 3) by default."""
    now = dt.datetime.now(WIRE_ZONE).replace(tzinfo=None, microsecond=0)
    begin = _time_option(start) or now
    try:
        issuer = ResourceCode(src)
        auxiliaries = (
            (Auxiliary(auxiliary_type=AuxiliaryType.MP3, auxiliary_desc=audio),) if audio else ()
        )
        ebm = Ebm(
            ebm_version="1",
            ebmid=EBMID.build(issuer, begin.date(), sequence),
            msg_basic_info=MsgBasicInfo(
                msg_type=MsgType(msg_type),
                sender_name=sender_name,
                sender_code=sender_code or issuer.region.value,
                send_time=now,
                event_type=event_type,
                severity=Severity(severity),
                start_time=begin,
                end_time=begin + dt.timedelta(minutes=minutes),
            ),
            contents=(
                MsgContent(
                    language_code=language,
                    msg_title=title,
                    msg_desc=desc,
                    area_codes=tuple(area),
                    auxiliaries=auxiliaries,
                ),
            ),
        )
        ebd = Ebd(
            ebdid=EBDID.build(issuer, now.date(), counter),
            src=Src(ebrid=issuer, url=url),
            dest=Dest(ebrid=ResourceCode(dest)) if dest else None,
            ebd_time=now,
            body=ebm,
        )
    except ProtocolError as exc:
        fail(exc.message, code=exc.code)
    data = build_ebd(ebd)
    if out is None:
        typer.echo(data.decode("utf-8"), nl=False)
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}", code="unwritable")
    typer.echo(f"wrote {out}: EBM {ebm.ebmid.value} in EBD {ebd.ebdid.value}")
