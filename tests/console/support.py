"""A municipal platform (六安市) with two counties' fleets, console accounts, and a client
that logs in and posts forms with their CSRF tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from httpx import Response

from dispatcher.console.accounts import create_user
from dispatcher.domain.regions import region_table
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewTerminal
from signing.sm2 import SM2PrivateKey

CITY = "341500000000"
SHUCHENG = "341523000000"
HUOQIU = "341522000000"
PLATFORM_EBRID = "33415000000000101010101"
ADAPTER_SC = "43415230000000399010201"
ADAPTER_HQ = "43415220000000399010201"
PASSWORD = "correct horse battery"
#: name -> (role, region)
ACCOUNTS: dict[str, tuple[str, str]] = {
    "admin": ("admin", CITY),
    "auditor": ("auditor", CITY),
    "op_sc": ("operator", SHUCHENG),
    "ap_sc": ("approver", SHUCHENG),
    "ap_sc2": ("approver", SHUCHENG),
    "op_hq": ("operator", HUOQIU),
    "ap_hq": ("approver", HUOQIU),
}
SILENT_HQ = "6341522100001" + "0399010401"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def terminals_for(county: str, per_township: int, townships: int) -> list[NewTerminal]:
    towns = [r.code.value for r in region_table().children(county)][:townships]
    made = []
    for town in towns:
        for n in range(1, per_township + 1):
            village = f"{town[:9]}{n:03d}"
            made.append(NewTerminal(
                ebrid=f"6{village}0399010401", bearer="fake", region=village,
                name=f"{town[:9]}-{n}", state="fault" if n == 3 else "online",
            ))
    return made


def write_city_platform(directory: Path, **extra: Any) -> Path:
    """Fake adapters: 舒城 acks at once; 霍邱 leaves one terminal silent, so its alerts stay
    on air (dispatching) and can be cancelled."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = directory / "keys"
    keys.mkdir(exist_ok=True)
    key = SM2PrivateKey.generate()
    (keys / "private.pem").write_bytes(key.to_pem())
    (keys / "public.pem").write_bytes(key.public_key().to_pem())
    config = {
        "level": "municipal",
        "region": CITY,
        "ebrid": PLATFORM_EBRID,
        "name": "六安市应急广播平台",
        "cert_sn": "100000000015",
        "private_key": "keys/private.pem",
        "public_key": "keys/public.pem",
        "adapters": [
            {"ebrid": ADAPTER_SC, "bearer": "fake", "regions": [SHUCHENG], "config": {}},
            {"ebrid": ADAPTER_HQ, "bearer": "fake", "regions": [HUOQIU],
             "config": {"silent": [SILENT_HQ]}},
        ],
        "poll_interval": 0.02,
        "ack_flush_interval": 0.01,
        "embedded_broker_port": free_port(),
        **extra,
    }
    (directory / "platform.json").write_text(json.dumps(config), encoding="utf-8")
    return directory


async def seed(database_url: str, *, per_township: int = 3, townships: int = 4) -> None:
    db = Database(database_url)
    await db.start()
    try:
        async with db.session() as session:
            await repo.upsert_terminals(
                session,
                terminals=terminals_for(SHUCHENG, per_township, townships)
                + terminals_for(HUOQIU, per_township, townships),
            )
            await session.commit()
        now = dt.datetime.now(dt.UTC)
        for name, (role, region) in ACCOUNTS.items():
            await create_user(db, username=name, password=PASSWORD, role=role, region=region,
                              within=CITY, totp=False, now=now)
    finally:
        await db.stop()


def seed_sync(database_url: str, **kwargs: Any) -> None:
    asyncio.run(seed(database_url, **kwargs))


@dataclass
class Clock:
    """Real time plus an offset the tests move forward (session expiry, lockout)."""

    offset: dt.timedelta = field(default_factory=dt.timedelta)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Console:
    """One browser over the shared TestClient: its own cookie jar, swapped in per request
    (a second TestClient would run the app on another event loop than its lifespan's)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.cookies = httpx.Cookies()
        self.token = ""

    def _call(self, method: str, url: str, **kwargs: Any) -> Response:
        self.client.cookies = self.cookies
        try:
            response: Response = self.client.request(method, url, **kwargs)
            return response
        finally:
            self.cookies = httpx.Cookies(self.client.cookies)

    def login(self, username: str, password: str = PASSWORD, totp: str = "") -> Response:
        page = self.get("/console/login")
        response = self._call(
            "POST", "/console/login",
            data={"csrf_token": csrf_of(page.text), "username": username,
                  "password": password, "totp": totp, "next": "/console/"},
            follow_redirects=False,
        )
        if response.status_code == 303:
            self.token = csrf_of(self.get("/console/").text)
        return response

    def get(self, url: str, **kwargs: Any) -> Response:
        return self._call("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None,
             token: str | None = None, **kwargs: Any) -> Response:
        form = dict(data or {})
        form["csrf_token"] = self.token if token is None else token
        kwargs.setdefault("follow_redirects", False)
        return self._call("POST", url, data=form, **kwargs)


def compose_form(
    targets: list[str], *, mode: str = "drill", title: str = "舒城县暴雨橙色预警",
    body: str = "预计未来3小时有暴雨。", confirm: str | None = None,
) -> dict[str, Any]:
    form: dict[str, Any] = {
        "mode": mode, "severity": "2", "duration": "60",
        "title_zho": title, "body_zho": body,
        "title_eng": "Rainstorm orange warning", "body_eng": "Heavy rain within 3 hours.",
        "targets": targets,
    }
    if confirm is not None:
        form["confirm"] = confirm
    return form


def wait_until(check: Callable[[], Any], *, attempts: int = 300, delay: float = 0.05) -> Any:
    last = None
    for _ in range(attempts):
        last = check()
        if last:
            return last
        time.sleep(delay)
    raise AssertionError(f"condition not reached; last {last!r}")
