"""`ebc demo` (what `make run` starts): a county platform for 舒城县 on embedded defaults.

It creates the platform directory on first use, a demo issuer key trusted for the county and a
sample drill alert, provisions a simulated fleet of IP loudspeakers across the county's
townships, and runs the platform and the fleet (each terminal its own MQTT session) together.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from dispatcher.cli.output import fail
from dispatcher.config import PLATFORM_FILE, ConfigError, load_settings

DEMO_REGION = "341523"
DEMO_ISSUER_SN = "900000000001"


def _sample_drill(identifier: str) -> str:
    sent = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>demo.shucheng.gov.cn</sender>
  <sent>{sent.isoformat()}</sent>
  <status>Exercise</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <eventCode><valueName>EBEventType</valueName><value>11B03</value></eventCode>
    <headline>【演练】舒城县暴雨橙色预警</headline>
    <description>这是一次应急广播演练。预计未来3小时舒城县有暴雨，请注意防范。</description>
    <area>
      <areaDesc>舒城县</areaDesc>
      <geocode><valueName>GB2260</valueName><value>{DEMO_REGION}</value></geocode>
    </area>
  </info>
</alert>
"""


async def _run(dir: Path, port: int, terminals: int) -> None:
    """The platform and its simulated fleet in one event loop, until interrupted."""
    import uvicorn

    from dispatcher.app import create_app
    from signing.sm2 import SM2PublicKey
    from simulators.fleet import Fleet, provision_fleet
    from terminals.mqtt_terminal import anchor_for_key

    settings = load_settings(dir)
    credentials = await provision_fleet(
        settings.database_url, DEMO_REGION, terminals, directory=dir
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    for _ in range(600):
        if server.started or serving.done():
            break
        await asyncio.sleep(0.05)
    if serving.done():
        await serving
        return
    platform = app.state.platform
    broker = settings.mqtt_url or platform.broker.url
    assert settings.public_key is not None
    anchors = anchor_for_key(
        SM2PublicKey.from_pem(settings.public_key.read_bytes()), settings.cert_sn
    )
    fleet = Fleet(broker, credentials, anchors, heartbeat_seconds=30)
    await fleet.start()
    typer.echo(
        f"  fleet    {len(credentials)} simulated IP loudspeakers online over MQTT ({broker})"
    )
    try:
        await serving
    finally:
        await fleet.stop()


def demo(
    dir: Annotated[Path, typer.Option("--dir")] = Path("var/county"),
    port: Annotated[int, typer.Option("--port")] = 8080,
    terminals: Annotated[int, typer.Option("--terminals")] = 300,
) -> None:
    """Start a demo county platform (舒城县) with a simulated fleet."""
    from typer.testing import CliRunner

    from dispatcher.cli.main import app

    runner = CliRunner()
    if not (dir / PLATFORM_FILE).exists():
        made = runner.invoke(
            app,
            [
                "init",
                "--dir",
                str(dir),
                "--region",
                DEMO_REGION,
                "--name",
                "舒城县应急广播平台",
            ],
        )
        if made.exit_code:
            fail(made.output)
        issuer = dir / "issuer"
        for args in (
            [
                "keys",
                "new",
                "--out",
                str(issuer),
                "--cert-sn",
                DEMO_ISSUER_SN,
                "--name",
                "舒城县应急管理局(演示)",
            ],
            [
                "trust",
                "add",
                "--dir",
                str(dir),
                "--cert-sn",
                DEMO_ISSUER_SN,
                "--pubkey",
                str(issuer / "public.pem"),
                "--name",
                "舒城县应急管理局(演示)",
                "--regions",
                DEMO_REGION,
            ],
        ):
            result = runner.invoke(app, args)
            if result.exit_code:
                fail(result.output)
    stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S")
    (dir / "sample-drill.xml").write_text(_sample_drill(f"demo-drill-{stamp}"), encoding="utf-8")
    try:
        settings = load_settings(dir)
    except ConfigError as exc:
        fail(str(exc), code="invalid-configuration")
    typer.echo(f"""
EBC demo county platform {settings.ebrid} (舒城县 {DEMO_REGION}), SQLite and an in-process broker
  API      http://127.0.0.1:{port}/api/v1/alerts    OpenAPI http://127.0.0.1:{port}/docs
  console  http://127.0.0.1:{port}/console  (first admin: ebc user add, see README)
  send the sample drill (a new identifier each start):
    .venv/bin/ebc alert send --url http://127.0.0.1:{port} --key {dir}/issuer/private.pem \\
        --cert-sn {DEMO_ISSUER_SN} {dir}/sample-drill.xml
  then watch it reach the fleet: curl -s http://127.0.0.1:{port}/api/v1/alerts/<id>
""")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(dir, port, terminals))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
