"""``ebc terminal run|list`` and ``ebc fleet run``: the reference terminal, simulated fleets,
and the terminal inventory (docs/terminal-protocol.md section 10).

``run`` commands log to stderr and run until interrupted (Ctrl-C or SIGTERM), then publish
their offline status and leave; exit codes follow output.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from dispatcher.cli.output import emit, fail, read_input_file, usage
from dispatcher.config import ConfigError, Settings, load_settings
from protocols.codes import CertSN, RegionCode, ResourceCode
from protocols.errors import CodeError

terminal_app = typer.Typer(
    help="The reference terminal and the terminal inventory.", no_args_is_help=True
)
fleet_app = typer.Typer(help="Simulated terminal fleets.", no_args_is_help=True)

DEFAULT_BROKER = "mqtt://127.0.0.1:1883"
SUMMARY_SECONDS = 10.0

DirOption = Annotated[Path, typer.Option("--dir", help="The platform directory.")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _settings(directory: Path, as_json: bool = False) -> Settings:
    try:
        return load_settings(directory)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json, code=ConfigError.code)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Their INFO lines are per connection and per migration step: noise at fleet scale.
    for chatty in ("gmqtt", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def _until_interrupted(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(runner())


@terminal_app.command("run")
def run_terminal_command(
    broker: Annotated[str, typer.Option("--broker", help="mqtt://HOST:PORT")],
    ebrid: Annotated[str, typer.Option("--ebrid", help="This terminal's 23-digit EBRID.")],
    trust: Annotated[Path, typer.Option("--trust", help="The platform's public key (PEM).")],
    cert_sn: Annotated[
        str | None,
        typer.Option(
            "--cert-sn", help="Trust the key under this serial only; default: any serial."
        ),
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", help="Broker login; default: the EBRID.")
    ] = None,
    password: Annotated[str | None, typer.Option("--password")] = None,
    tts_dir: Annotated[
        Path | None,
        typer.Option("--tts-dir", help="Speak texts to WAV files here (needs espeak-ng)."),
    ] = None,
    heartbeat: Annotated[int, typer.Option("--heartbeat", min=1, help="Seconds.")] = 30,
) -> None:
    """Run one reference terminal until interrupted, logging each command and its outcome."""
    from signing.errors import KeyFormatError
    from signing.sm2 import SM2PublicKey
    from terminals.link import BrokerAddress
    from terminals.mqtt_terminal import anchor_for_key, run_terminal

    try:
        code = ResourceCode(ebrid)
        if cert_sn is not None:
            CertSN(cert_sn)
        BrokerAddress.parse(broker)
    except (CodeError, ValueError) as exc:
        fail(str(exc))
    try:
        key = SM2PublicKey.from_pem(read_input_file(str(trust)))
    except KeyFormatError as exc:
        fail(f"{trust}: {exc.message}", code=exc.code)
    anchors = anchor_for_key(key, cert_sn)
    _logging()

    async def main(stop: asyncio.Event) -> None:
        agent = await run_terminal(
            broker,
            code.value,
            anchors,
            username=username or code.value,
            password=password,
            tts_dir=tts_dir,
            heartbeat_seconds=heartbeat,
            stop=stop,
        )
        counters = agent.counters
        logging.getLogger("ebc.terminal").info(
            "stopped: %d verified, %d duplicates, %d ignored, rejected %s",
            counters.verified,
            counters.duplicates,
            counters.ignored,
            dict(counters.rejected),
        )

    _until_interrupted(main)


@terminal_app.command("list")
def list_command(
    dir: DirOption,
    region: Annotated[
        str | None, typer.Option("--region", help="Only terminals in this region (2-12 digits).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The terminal inventory: EBRID, region, bearer, state, last seen, firmware."""
    prefix = None
    if region is not None:
        try:
            prefix = RegionCode.parse(region).significant
        except CodeError as exc:
            fail(exc.message, as_json=as_json, code=exc.code)
    settings = _settings(dir, as_json)
    rows = asyncio.run(_inventory(settings.database_url, prefix))
    human = [
        f"{r['ebrid']}  {r['region']}  {r['bearer']:<9} {r['state']:<8} "
        f"{r['last_seen'] or '-':<25} {r['firmware'] or '-'}"
        for r in rows
    ]
    emit({"terminals": rows}, as_json=as_json, human=human or ["no terminals in the inventory"])


async def _inventory(database_url: str, prefix: str | None) -> list[dict[str, Any]]:
    from dispatcher.store import repo
    from dispatcher.store.db import Database

    db = Database(database_url)
    await db.start()
    try:
        async with db.session(readonly=True) as session:
            records = await repo.list_terminals(session, region_prefix=prefix)
    finally:
        await db.stop()
    return [
        {
            "ebrid": r.ebrid,
            "region": r.region,
            "bearer": r.bearer,
            "state": r.state,
            "last_seen": r.last_seen.isoformat() if r.last_seen else None,
            "firmware": r.firmware,
        }
        for r in records
    ]


@fleet_app.command("run")
def fleet_run_command(
    dir: DirOption,
    count: Annotated[int, typer.Option("--count", min=1, help="How many terminals.")],
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker", help="Default: the platform's mqtt_url, else mqtt://127.0.0.1:1883."
        ),
    ] = None,
    heartbeat: Annotated[int, typer.Option("--heartbeat", min=1, help="Seconds.")] = 60,
    bearers: Annotated[
        str | None,
        typer.Option(
            "--bearers",
            help="Add receivers of other bearers, e.g. "
            "dtmb=1,cable=1,dth=1,fm=1,legacy-ip=5 (ip=N overrides --count).",
        ),
    ] = None,
) -> None:
    """Provision COUNT simulated IP loudspeakers across the platform's townships into its
    inventory (and, with --bearers, broadcast receivers and legacy loudspeakers listening to
    the platform's adapters), then run them until interrupted."""
    from signing.errors import KeyFormatError
    from signing.sm2 import SM2PublicKey
    from simulators.fleet import Fleet, provision_fleet
    from terminals.mqtt_terminal import anchor_for_key, wait_or_stop

    settings = _settings(dir)
    if settings.public_key is None:
        fail(f"{dir}: the platform has no public_key setting", code=ConfigError.code)
    try:
        key = SM2PublicKey.from_pem(read_input_file(str(settings.public_key)))
    except KeyFormatError as exc:
        fail(f"{settings.public_key}: {exc.message}", code=exc.code)
    url = broker or settings.mqtt_url or DEFAULT_BROKER
    from simulators.mixed_fleet import MixedFleet, parse_mix

    try:
        mix = parse_mix(bearers or "")
    except ValueError as exc:
        usage(str(exc))
    count = mix.get("ip", count)
    others = MixedFleet(settings, url, anchor_for_key(key, settings.cert_sn), mix)
    try:
        others.plan()
    except ValueError as exc:
        fail(str(exc))
    _logging()
    log = logging.getLogger("ebc.fleet")

    async def main(stop: asyncio.Event) -> None:
        try:
            terminals = await provision_fleet(
                settings.database_url, settings.region, count, directory=dir
            )
        except ValueError as exc:
            fail(str(exc))
        fleet = Fleet(
            url, terminals, anchor_for_key(key, settings.cert_sn), heartbeat_seconds=heartbeat
        )
        logging.getLogger("ebc.fleet.agent").setLevel(logging.WARNING)
        logging.getLogger("ebc.fleet.link").setLevel(logging.WARNING)
        logging.getLogger("ebc.fleet.play").setLevel(logging.WARNING)
        log.info("connecting %d terminals to %s", len(terminals), url)
        await fleet.start()
        await others.start()
        if others.members:
            log.info("%d broadcast receivers and legacy loudspeakers running", len(others.members))
        try:
            while not await wait_or_stop(stop, SUMMARY_SECONDS):
                log.info(
                    "%d online, %d commands received, acks %s, rejected %s",
                    len(fleet.online()),
                    fleet.received,
                    dict(fleet.acks),
                    dict(fleet.rejected),
                )
        finally:
            await others.stop()
            await fleet.stop()

    _until_interrupted(main)


def register(app: typer.Typer) -> None:
    app.add_typer(terminal_app, name="terminal")
    app.add_typer(fleet_app, name="fleet")
