"""`ebc link add|list`: the platform's upper and lower platforms (GY/T 384 peers)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from dispatcher.cli.output import emit, fail, read_input_file, usage
from dispatcher.config import PLATFORM_FILE, ConfigError, load_settings
from protocols.codes import CertSN, ResourceCode
from protocols.errors import CodeError

link_app = typer.Typer(help="Links to upper and lower platforms.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DirOption = Annotated[Path, typer.Option("--dir", help="The platform directory.")]


@link_app.command("add")
def add(
    dir: DirOption,
    url: Annotated[str, typer.Option("--url", help="The peer's receive URL (…/ebd).")],
    ebrid: Annotated[str, typer.Option("--ebrid")],
    cert_sn: Annotated[str, typer.Option("--cert-sn")],
    pubkey: Annotated[Path, typer.Option("--pubkey", help="The peer's PUBLIC.pem")],
    upper: Annotated[bool, typer.Option("--upper", help="The platform we report to.")] = False,
    lower: Annotated[bool, typer.Option("--lower", help="A platform we forward to.")] = False,
    fallback: Annotated[
        bool,
        typer.Option(
            "--fallback", help="A lower link used only when the regular one is silent (越级)."
        ),
    ] = False,
    name: Annotated[str, typer.Option("--name")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Link a peer platform: its URL, identity and key (trusted for its part only)."""
    from signing.errors import SignatureError
    from signing.sm2 import SM2PublicKey
    from signing.trust import Rights, TrustEntry, TrustStore

    if upper == lower:
        usage("give exactly one of --upper or --lower")
    if fallback and upper:
        usage("--fallback applies to lower links only")
    try:
        settings = load_settings(dir)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json, code="invalid-configuration")
    try:
        peer = ResourceCode(ebrid)
        serial = CertSN(cert_sn)
        key = SM2PublicKey.from_pem(read_input_file(str(pubkey), as_json=as_json))
    except (CodeError, SignatureError) as exc:
        fail(str(exc), as_json=as_json)
    if not url.startswith(("http://", "https://")):
        fail(f"--url must be an http(s) URL, got {url!r}", as_json=as_json)
    own = settings.jurisdiction
    if lower and not own.contains(peer.region):
        fail(
            f"lower platform {peer.value} lies outside this platform's region {own.value}",
            as_json=as_json,
            code="outside-jurisdiction",
        )
    if upper and not peer.region.contains(own):
        fail(
            f"upper platform {peer.value} does not contain this platform's region {own.value}",
            as_json=as_json,
            code="outside-jurisdiction",
        )
    role = "upper" if upper else "lower"
    keys = dir / "links"
    keys.mkdir(exist_ok=True)
    shutil.copyfile(pubkey, keys / f"{peer.value}.pem")
    # An upper platform may send anything inside our jurisdiction; a lower one only reports.
    rights = (
        Rights(regions=(own.value,), event_types=("*",), msg_types=(1, 2, 3, 4, 5))
        if upper
        else Rights(regions=(peer.region.value,), event_types=(), msg_types=())
    )
    trust_path = settings.trust_store or dir / "trust.json"
    store = TrustStore.load(trust_path) if trust_path.exists() else TrustStore()
    store.add(
        TrustEntry(
            cert_sn=serial,
            public_key=key,
            name=name or f"{role} {peer.value}",
            holder_ebrid=peer.value,
            not_before=None,
            not_after=None,
            revoked=False,
            rights=rights,
        )
    )
    store.save(trust_path)
    config_path = dir / PLATFORM_FILE
    config = json.loads(config_path.read_text(encoding="utf-8"))
    links = [link for link in config.get("links", []) if link.get("ebrid") != peer.value]
    entry: dict[str, Any] = {
        "role": role,
        "url": url,
        "ebrid": peer.value,
        "cert_sn": serial.value,
        "pubkey": f"links/{peer.value}.pem",
        "name": name,
        "fallback": fallback,
    }
    config["links"] = [*links, entry]
    config_path.write_text(
        json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    emit(
        entry,
        as_json=as_json,
        human=f"linked {role}{' (fallback)' if fallback else ''} platform {peer.value} at {url}",
    )


@link_app.command("list")
def list_links(dir: DirOption, as_json: JsonFlag = False) -> None:
    """Each link with its heartbeat state."""
    try:
        settings = load_settings(dir)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json, code="invalid-configuration")
    seen = asyncio.run(_link_state(settings.database_url))
    now = dt.datetime.now(dt.UTC)
    limit = dt.timedelta(seconds=settings.link_heartbeat_seconds * settings.link_missed_beats)
    rows = []
    for link in settings.links:
        state = seen.get(link.ebrid, {})
        heard = state.get("last_heard")
        status = "never heard" if heard is None else ("silent" if now - heard > limit else "ok")
        rows.append(
            {
                "role": link.role,
                "ebrid": link.ebrid,
                "url": link.url,
                "fallback": link.fallback,
                "heartbeat": status,
                "last_heard": heard.isoformat() if heard else None,
                "last_sent": state["last_sent"].isoformat() if state.get("last_sent") else None,
                "last_error": state.get("last_error"),
            }
        )
    emit(
        rows,
        as_json=as_json,
        human=[
            f"{r['role']:5} {r['ebrid']} {r['heartbeat']:11} {r['url']}"
            f"{' (fallback)' if r['fallback'] else ''}"
            f"{'  error: ' + str(r['last_error']) if r['last_error'] else ''}"
            for r in rows
        ]
        or ["no links"],
    )


async def _link_state(url: str) -> dict[str, dict[str, Any]]:
    from dispatcher.store import repo
    from dispatcher.store.db import Database

    db = Database(url)
    await db.start()
    try:
        async with db.session(readonly=True) as session:
            return {
                link.ebrid: {
                    "last_heard": link.last_heard,
                    "last_sent": link.last_sent,
                    "last_error": link.last_error,
                }
                for link in await repo.list_links(session)
            }
    finally:
        await db.stop()


def register(app: typer.Typer) -> None:
    app.add_typer(link_app, name="link")
