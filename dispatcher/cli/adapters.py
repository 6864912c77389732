"""`ebc adapter add|list`: the bearer adapters of a platform (written to platform.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dispatcher.cli.output import emit, fail
from dispatcher.config import PLATFORM_FILE, ConfigError, load_settings
from protocols.codes import RegionCode, ResourceCode
from protocols.errors import CodeError

adapter_app = typer.Typer(help="Bearer adapters of this platform.", no_args_is_help=True)
BEARERS = ("dtmb", "cable", "dth", "fm", "ip", "legacy-ip")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DirOption = Annotated[Path, typer.Option("--dir", help="The platform directory.")]


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@adapter_app.command("add")
def add(
    dir: DirOption,
    bearer: Annotated[str, typer.Option("--bearer", help="|".join(BEARERS))],
    ebrid: Annotated[str, typer.Option("--ebrid")],
    regions: Annotated[str, typer.Option("--regions", help="CODE[,CODE...]")],
    output: Annotated[
        str | None,
        typer.Option("--output", help="udp://HOST:PORT or file:PATH (broadcast bearers)"),
    ] = None,
    pid: Annotated[str | None, typer.Option("--pid", help="TS PID, e.g. 0x21")] = None,
    listen: Annotated[
        str | None, typer.Option("--listen", help="HOST:PORT the legacy gateway listens on")
    ] = None,
    site: Annotated[str, typer.Option("--site", help="Head-end or transmitter name")] = "",
    settings_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Extra KEY=VALUE for the adapter's configuration (JSON values)"),
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add (or replace) an adapter: which bearer, which regions, where its signal goes."""
    from adapters.base import AdapterContext, adapter_class
    from dispatcher.app import platform_signer

    if bearer not in BEARERS:
        fail(
            f"--bearer must be one of {', '.join(BEARERS)}", as_json=as_json, code="unknown-bearer"
        )
    try:
        settings = load_settings(dir)
        code = ResourceCode(ebrid)
        covered = [RegionCode.parse(r.strip()).value for r in regions.split(",") if r.strip()]
    except (ConfigError, CodeError) as exc:
        fail(str(exc), as_json=as_json)
    outside = [r for r in covered if not settings.jurisdiction.contains(RegionCode(r))]
    if not covered or outside:
        fail(
            f"--regions must name regions inside {settings.region}; outside: {outside}",
            as_json=as_json,
            code="outside-jurisdiction",
        )
    config: dict[str, Any] = {"regions": covered}
    if output:
        if not output.startswith(("udp://", "file:")):
            fail(f"--output must be udp://HOST:PORT or file:PATH, got {output!r}", as_json=as_json)
        config["output"] = output
    if pid:
        try:
            config["pid"] = int(pid, 0)
        except ValueError:
            fail(f"--pid must be a number such as 0x21, got {pid!r}", as_json=as_json)
    if listen:
        config["listen"] = listen
    if site:
        config["site"] = site
    for item in settings_ or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--set takes KEY=VALUE, got {item!r}", as_json=as_json)
        config[key] = _value(value)
    try:  # the adapter itself judges its configuration, as it will at start-up
        context = AdapterContext(
            acks=_NoAcks(), platform_ebrid=settings.ebrid, signer=platform_signer(settings)
        )
        adapter_class(bearer).factory(code.value, dict(config), context)
    except (ValueError, KeyError, TypeError) as exc:
        fail(
            f"{bearer} adapter configuration refused: {exc}",
            as_json=as_json,
            code="invalid-adapter",
        )
    path = dir / PLATFORM_FILE
    document = json.loads(path.read_text(encoding="utf-8"))
    others = [a for a in document.get("adapters", []) if a.get("ebrid") != code.value]
    entry = {
        "ebrid": code.value,
        "bearer": bearer,
        "regions": covered,
        "enabled": not disabled,
        "config": config,
    }
    document["adapters"] = [*others, entry]
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    emit(
        entry, as_json=as_json, human=f"adapter {code.value} ({bearer}) covers {', '.join(covered)}"
    )


class _NoAcks:
    async def submit(self, acks: Any) -> None:
        return None


@adapter_app.command("list")
def list_adapters(dir: DirOption, as_json: JsonFlag = False) -> None:
    """The configured adapters."""
    try:
        settings = load_settings(dir)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json, code="invalid-configuration")
    rows = [
        {
            "ebrid": a.ebrid,
            "bearer": a.bearer,
            "regions": a.regions,
            "enabled": a.enabled,
            "output": a.config.get("output") or a.config.get("listen"),
        }
        for a in settings.adapters
    ]
    emit(
        rows,
        as_json=as_json,
        human=[
            f"{r['ebrid']} {r['bearer']:9} {','.join(r['regions'])}"
            f"{'' if r['enabled'] else ' (disabled)'} {r['output'] or ''}"
            for r in rows
        ]
        or ["no adapters"],
    )


def register(app: typer.Typer) -> None:
    app.add_typer(adapter_app, name="adapter")
