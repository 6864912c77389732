"""National, two provincial and three county platforms as separate processes, each with its
own database and keys, working as one over GY/T 384 packages on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from adapters.ebd_client import EbdClient, peer_trust
from dispatcher.cli.main import app as cli
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewTerminal
from protocols.codes import CertSN
from protocols.ebd import ConnectionCheck
from signing.signer import load_signer
from signing.sm2 import SM2PublicKey
from tests.api.support import cap_alert, make_issuer
from tests.integration.server import Server, free_port

runner = CliRunner()
ISSUER = make_issuer("840000000001", "国家应急广播中心(签发)")
COUNTY_ISSUER = make_issuer("840000000002", "舒城县应急管理局")
TERMINALS_PER_COUNTY = 12
TOPOLOGY = {
    "national": ("000000000000", "national", None),
    "anhui": ("340000000000", "provincial", "national"),
    "jiangsu": ("320000000000", "provincial", "national"),
    "shucheng": ("341523000000", "county", "anhui"),
    "huoqiu": ("341522000000", "county", "anhui"),
    "jiangning": ("320115000000", "county", "jiangsu"),
}
COUNTIES = ("shucheng", "huoqiu", "jiangning")


@dataclass
class Node:
    name: str
    dir: Path
    server: Server
    info: dict[str, Any]

    @property
    def ebd_url(self) -> str:
        return f"{self.server.url}/ebd"


def _cli(*args: str) -> dict[str, Any]:
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def _configure(directory: Path, **values: Any) -> None:
    path = directory / "platform.json"
    config = json.loads(path.read_text())
    config.update(values)
    path.write_text(json.dumps(config))


async def _seed(url: str, county: str) -> None:
    db = Database(url)
    await db.start()
    async with db.session() as session:
        await repo.upsert_terminals(
            session,
            terminals=[
                NewTerminal(
                    ebrid=f"6{county[:6]}100{n:03d}0399010401",
                    bearer="fake",
                    region=f"{county[:6]}100{n:03d}",
                )
                for n in range(1, TERMINALS_PER_COUNTY + 1)
            ],
        )
        await session.commit()
    await db.stop()


def _link(node: Node, peer: Node, role: str, *, fallback: bool = False) -> None:
    args = [
        "link",
        "add",
        "--dir",
        str(node.dir),
        f"--{role}",
        "--url",
        peer.ebd_url,
        "--ebrid",
        peer.info["ebrid"],
        "--cert-sn",
        peer.info["cert_sn"],
        "--pubkey",
        peer.info["public_key"],
    ]
    _cli(*args, *(["--fallback"] if fallback else []))


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Node]]:
    root = tmp_path_factory.mktemp("hierarchy")
    made: dict[str, Node] = {}
    for name, (region, level, _) in TOPOLOGY.items():
        directory = root / name
        info = _cli("init", "--dir", str(directory), "--region", region, "--level", level)
        server = Server(directory, free_port())
        made[name] = Node(name, directory, server, info)
    for name, node in made.items():
        adapters = []
        if name in COUNTIES:
            adapters = [
                {
                    "ebrid": f"4{TOPOLOGY[name][0]}0399010201",
                    "bearer": "fake",
                    "regions": [TOPOLOGY[name][0]],
                    # 霍邱's loudspeakers take a while to answer, so a cancel can catch them
                    "config": {"ack_delay": 4.0} if name == "huoqiu" else {},
                }
            ]
        _configure(
            node.dir,
            adapters=adapters,
            public_url=node.ebd_url,
            link_heartbeat_seconds=0.5,
            link_missed_beats=8,
            link_report_interval=0.3,
            link_resource_report_seconds=2.0,
            poll_interval=0.02,
        )
    for name, (_, _, upper) in TOPOLOGY.items():
        if upper:
            _link(made[name], made[upper], "upper")
            _link(made[upper], made[name], "lower")
    for county in COUNTIES:  # 越级: the national platform may reach counties directly
        _link(made["national"], made[county], "lower", fallback=True)
        _link(made[county], made["national"], "upper")
    ISSUER.signer.public_key.to_pem()
    issuer_key = root / "issuer.pem"
    issuer_key.write_bytes(ISSUER.signer.public_key.to_pem())
    _cli(
        "trust",
        "add",
        "--dir",
        str(made["national"].dir),
        "--cert-sn",
        ISSUER.cert_sn,
        "--pubkey",
        str(issuer_key),
        "--name",
        "national issuer",
        "--regions",
        "000000000000",
    )
    county_key = root / "county-issuer.pem"
    county_key.write_bytes(COUNTY_ISSUER.signer.public_key.to_pem())
    _cli(
        "trust",
        "add",
        "--dir",
        str(made["shucheng"].dir),
        "--cert-sn",
        COUNTY_ISSUER.cert_sn,
        "--pubkey",
        str(county_key),
        "--name",
        "county issuer",
        "--regions",
        "341523",
    )
    for county in COUNTIES:
        asyncio.run(_seed(made[county].info["database_url"], TOPOLOGY[county][0]))
    for node in made.values():
        node.server.launch()
    for node in made.values():
        node.server.wait_ready()
    _until(
        lambda: all(
            row["heartbeat"] == "ok"
            for node in made.values()
            for row in httpx.get(f"{node.server.url}/api/v1/links", timeout=10).json()["items"]
        ),
        "every link heard",
    )
    yield made
    for node in made.values():
        node.server.stop()


def _until(check: Any, what: str, seconds: float = 60) -> Any:
    value = None
    for _ in range(int(seconds / 0.2)):
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not reached: {what}")


def _post(node: Node, body: bytes, issuer: Any = ISSUER) -> httpx.Response:
    return httpx.post(
        f"{node.server.url}/api/v1/alerts",
        content=body,
        timeout=10,
        headers=issuer.headers(body, content_type="application/cap+xml"),
    )


def _status(node: Node, alert_id: str) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(
        f"{node.server.url}/api/v1/alerts/{alert_id}", timeout=10
    ).json()
    return result


def _alerts(node: Node) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = httpx.get(f"{node.server.url}/api/v1/alerts", timeout=10).json()[
        "items"
    ]
    return items


def _two_provinces(identifier: str) -> bytes:
    return cap_alert(identifier, geocode="34").replace(
        b"</area>",
        b"</area><area><areaDesc>JS</areaDesc><geocode><valueName>GB2260</valueName>"
        b"<value>32</value></geocode></area>",
    )


def test_national_alert_reaches_the_right_counties_and_rolls_up(nodes: dict[str, Node]) -> None:
    national = nodes["national"]
    response = _post(national, _two_provinces("nat-0001"))
    assert response.status_code == 202, response.text
    alert_id = response.json()["id"]
    status = _until(
        lambda: (
            (s := _status(national, alert_id))["state"] == "completed"
            and s["acked"] == 3 * TERMINALS_PER_COUNTY
            and s
        ),
        "national roll-up",
    )
    assert status["coverage"] == 1.0 and status["targeted"] == 3 * TERMINALS_PER_COUNTY
    assert {p["ebrid"] for p in status["lower_platforms"]} == {
        nodes["anhui"].info["ebrid"],
        nodes["jiangsu"].info["ebrid"],
    }
    assert all(p["reported"] and not p["silent"] for p in status["lower_platforms"])
    assert status["by_bearer"]["platform"]["acked"] == 3 * TERMINALS_PER_COUNTY
    ebmid = status["ebmid"]
    for county in COUNTIES:
        alerts = [a for a in _alerts(nodes[county]) if a["identifier"] == ebmid]
        assert len(alerts) == 1, county  # once, through its province only
        county_status = _status(nodes[county], alerts[0]["id"])
        assert county_status["targeted"] == county_status["acked"] == TERMINALS_PER_COUNTY


def test_a_county_issuer_cannot_reach_outside_its_county(nodes: dict[str, Node]) -> None:
    refused = _post(nodes["shucheng"], cap_alert("cty-0001", geocode="341522"), COUNTY_ISSUER)
    assert refused.status_code == 403
    assert refused.json()["code"] in ("not-authorised-region", "outside-jurisdiction")


def test_a_province_cannot_forge_a_national_alert(nodes: dict[str, Node]) -> None:
    anhui, national, county = nodes["anhui"], nodes["national"], nodes["shucheng"]
    signer = load_signer(anhui.dir / "keys" / "private.pem", CertSN(anhui.info["cert_sn"]))
    forger = EbdClient(
        signer=signer,
        ebrid=national.info["ebrid"],
        own_url=None,
        clock=lambda: __import__("datetime").datetime.now(__import__("datetime").UTC),
    )
    county_key = SM2PublicKey.from_pem(Path(county.info["public_key"]).read_bytes())
    answer = asyncio.run(
        forger.send(
            county.ebd_url,
            ConnectionCheck(rpt_time=__import__("datetime").datetime(2026, 1, 1)),
            dest=county.info["ebrid"],
            trust=peer_trust(county.info["ebrid"], county.info["cert_sn"], county_key),
        )
    )
    assert answer.result_code == 4, answer.description


def test_silent_province_is_bypassed_and_the_log_says_so(nodes: dict[str, Node]) -> None:
    national, jiangsu = nodes["national"], nodes["jiangsu"]
    jiangsu.server.kill()
    _until(
        lambda: any(
            row["ebrid"] == jiangsu.info["ebrid"] and row["heartbeat"] == "silent"
            for row in _cli("link", "list", "--dir", str(national.dir))
        ),
        "jiangsu marked silent",
    )
    time.sleep(1.0)  # one health check after the silence was seen
    response = _post(national, cap_alert("nat-0002", geocode="32"))
    assert response.status_code == 202, response.text
    alert_id = response.json()["id"]
    status = _until(
        lambda: (s := _status(national, alert_id))["state"] == "completed" and s,
        "fallback reaches jiangning",
        seconds=60,
    )
    assert status["coverage"] == 1.0 and status["acked"] == TERMINALS_PER_COUNTY
    assert [p["ebrid"] for p in status["lower_platforms"]] == [nodes["jiangning"].info["ebrid"]]
    events = [e["event"] for e in status["timeline"]]
    assert "alert.fallback" in events


def test_cancel_travels_down_the_hierarchy(nodes: dict[str, Node]) -> None:
    national, anhui, huoqiu = nodes["national"], nodes["anhui"], nodes["huoqiu"]
    response = _post(national, cap_alert("nat-0003", geocode="341522"))
    assert response.status_code == 202, response.text
    alert_id = response.json()["id"]
    ebmid = _status(national, alert_id)["ebmid"]
    at_county = _until(
        lambda: [a for a in _alerts(huoqiu) if a["identifier"] == ebmid], "the alert reaches 霍邱"
    )[0]
    cancel = httpx.post(
        f"{national.server.url}/api/v1/alerts/{alert_id}/cancel",
        content=b"",
        headers=ISSUER.headers(b"", content_type="application/json"),
        timeout=10,
    )
    assert cancel.status_code == 202, cancel.text
    assert _status(national, alert_id)["state"] == "cancelled"
    _until(lambda: _status(huoqiu, at_county["id"])["state"] == "cancelled", "霍邱 cancels")
    at_province = next(a for a in _alerts(anhui) if a["identifier"] == ebmid)
    assert _status(anhui, at_province["id"])["state"] == "cancelled"


def test_lower_platforms_report_their_resources(nodes: dict[str, Node]) -> None:
    anhui, shucheng = nodes["anhui"], nodes["shucheng"]

    def reported() -> dict[str, Any] | None:
        for row in httpx.get(f"{anhui.server.url}/api/v1/links", timeout=10).json()["items"]:
            if row["ebrid"] == shucheng.info["ebrid"] and row["resources"]:
                resources: dict[str, Any] = row["resources"]
                return resources
        return None

    resources = _until(reported, "舒城 reports its resources to 安徽")
    assert {"EBRPSInfo", "EBRPSState", "EBRDTInfo", "EBRDTState"} <= set(resources)
    assert resources["EBRDTInfo"]["records"] == TERMINALS_PER_COUNTY
