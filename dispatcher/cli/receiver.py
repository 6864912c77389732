"""``ebc receiver run``: one simulated broadcast-bearer receiver (cable, DTMB, DTH; FM when its
module registers in simulators.receivers.RECEIVERS), acking over MQTT like an IP terminal.

Logs to stderr and runs until interrupted; exit codes follow output.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer

from dispatcher.cli.output import fail, read_input_file, usage
from protocols.codes import CertSN, ResourceCode
from protocols.errors import CodeError

receiver_app = typer.Typer(help="Simulated broadcast-bearer receivers.", no_args_is_help=True)


@receiver_app.command("run")
def run_command(
    bearer: Annotated[str, typer.Option("--bearer", help="dtmb, cable, dth or fm.")],
    input: Annotated[str, typer.Option("--input", help="udp://HOST:PORT or file:PATH")],
    ebrid: Annotated[str, typer.Option("--ebrid", help="This receiver's 23-digit EBRID.")],
    trust: Annotated[Path, typer.Option("--trust", help="The platform's public key (PEM).")],
    broker: Annotated[str, typer.Option("--broker", help="mqtt://HOST:PORT for the acks.")],
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
    pid: Annotated[
        str | None, typer.Option("--pid", help="TS bearers: the EB PID, e.g. 0x22; default 0x21.")
    ] = None,
) -> None:
    """Read a TS (or FM) stream, act on the alerts addressed to EBRID, ack them over MQTT."""
    from signing.errors import KeyFormatError
    from signing.sm2 import SM2PublicKey
    from simulators.receivers import RECEIVERS
    from terminals.link import BrokerAddress
    from terminals.mqtt_terminal import anchor_for_key

    runner = RECEIVERS.get(bearer)
    if runner is None:
        usage(f"--bearer must be one of {', '.join(sorted(RECEIVERS))}, got {bearer!r}")
    if not input.startswith(("udp://", "file:")):
        usage(f"--input must be udp://HOST:PORT or file:PATH, got {input!r}")
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
    options: dict[str, int] = {}
    if pid is not None:
        try:
            options["pid"] = int(pid, 0)
        except ValueError:
            usage(f"--pid must be a number such as 0x21 or 33, got {pid!r}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        receiver = await runner(
            bearer=bearer,
            input=input,
            ebrid=code.value,
            anchors=anchors,
            broker_url=broker,
            username=username or code.value,
            password=password,
            stop=stop,
            **options,
        )
        counters = getattr(receiver, "counters", None)
        logging.getLogger("ebc.receiver").info(
            "stopped; refused input by reason: %s", dict(counters or {})
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def register(app: typer.Typer) -> None:
    app.add_typer(receiver_app, name="receiver")
