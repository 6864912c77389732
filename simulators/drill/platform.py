"""The platform under drill: its directory (made with `ebc init` when missing), the drill
issuer it trusts, the platform process (`ebc serve`), and the signed intake."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
from sqlalchemy import bindparam, text

from dispatcher.config import PLATFORM_FILE, Settings, load_settings
from dispatcher.services.authn import sign_request
from dispatcher.store.db import Database
from protocols.codes import CertSN, RegionCode, RegionLevel
from signing.signer import SoftwareSigner, load_signer
from signing.sm2 import SM2PrivateKey
from signing.trust import Rights, TrustEntry, TrustStore
from simulators.drill.brokers import free_port

ISSUER_SN = "900000000077"
ISSUER_DIR = "drill-issuer"
READY_TIMEOUT = 60.0
POSITIVE = ("received", "verified", "playing", "played", "stopped")
LEVELS = {RegionLevel.COUNTY: "county", RegionLevel.CITY: "municipal",
          RegionLevel.PROVINCE: "provincial"}
# The adapters a drill runs for its receivers: resource type, and the delivery settings.
DRILL_ADAPTERS: dict[str, tuple[str, dict[str, object]]] = {
    "dtmb": ("0303", {"frequency_hz": 474_000_000}),
    "cable": ("0302", {"frequency_hz": 259_000_000, "modulation": "64QAM"}),
    "dth": ("0308", {"frequency_hz": 12_020_000_000, "orbital_position": 134.0,
                     "polarization": "H"}),
    "fm": ("0301", {"frequency_khz": 97_500, "pi_code": "3456"}),
    "legacy-ip": ("0314", {}),
}


def ensure_platform(directory: Path, region: str) -> Settings:
    """The platform in ``directory``; created as `ebc init --region REGION` would when absent."""
    if not (directory / PLATFORM_FILE).exists():
        from dispatcher.cli.platform import init

        code = RegionCode.parse(region)
        with contextlib.redirect_stdout(io.StringIO()):
            init(dir=directory, region=code.value, level=LEVELS[code.level], name="",
                 cert_sn=None, fake_adapter=False, as_json=True)
    return load_settings(directory)


def drill_adapters(settings: Settings, bearers: Sequence[str],
                   outputs: Path) -> list[dict[str, Any]]:
    """The platform's adapters for a drill with receivers of ``bearers``: its own adapters of
    other bearers, and for each of these one the drill owns, covering the county: broadcast
    bearers write to a file under ``outputs`` (any number of receivers can follow a file), the
    legacy gateway listens on a free loopback port. Given to the platform process as
    EBC_ADAPTERS, so platform.json is not changed (see also retire_drill_adapters)."""
    kept: list[dict[str, Any]] = [a.model_dump() for a in settings.adapters
                                      if a.bearer not in bearers]
    outputs.mkdir(parents=True, exist_ok=True)
    region = settings.region
    for bearer in bearers:
        delivery = DRILL_ADAPTERS[bearer][1]
        config: dict[str, object] = {"regions": [region], **delivery}
        if bearer == "legacy-ip":
            config["listen"] = f"127.0.0.1:{free_port()}"
        else:
            # FM: an alert's packets take ~15 s of the RDS channel; the first goes out at once
            suffix, repeat = ("txt", 30.0) if bearer == "fm" else ("ts", 1.0)
            config |= {"site": f"drill {bearer}", "repeat_seconds": repeat,
                       "output": f"file:{outputs / f'{bearer}.{suffix}'}"}
        kept.append({"ebrid": drill_adapter_ebrid(region, bearer), "bearer": bearer,
                     "regions": [region], "enabled": True, "config": config})
    return kept


def drill_adapter_ebrid(region: str, bearer: str) -> str:
    return f"4{region}{DRILL_ADAPTERS[bearer][0]}900201"


async def retire_drill_adapters(database_url: str, region: str) -> None:
    """Disable the drill's adapters in the platform's adapters table: the platform records
    every adapter it is given there and starts every enabled row, so without this a later
    `ebc serve` would go on feeding the drill's files and listening on its port. Run before a
    drill (a drill that never finished) and after one; the next drill's are re-enabled."""
    ebrids = [drill_adapter_ebrid(region, b) for b in DRILL_ADAPTERS]
    db = Database(database_url, run_migrations=False)
    await db.start()
    try:
        async with db.session() as session:
            await session.execute(
                text("UPDATE adapters SET enabled = :off WHERE ebrid IN :ebrids").bindparams(
                    bindparam("ebrids", expanding=True)), {"off": False, "ebrids": ebrids})
            await session.commit()
    finally:
        await db.stop()


def ensure_issuer(settings: Settings) -> SoftwareSigner:
    """The drill's issuer key, kept beside the platform and trusted for its jurisdiction."""
    folder = settings.dir / ISSUER_DIR
    key_path = folder / "private.pem"
    if not key_path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(SM2PrivateKey.generate().to_pem())
    signer = load_signer(key_path, CertSN(ISSUER_SN))
    path = settings.trust_store or settings.dir / "trust.json"
    store = TrustStore.load(path) if path.exists() else TrustStore()
    try:
        known = store.get(signer.cert_sn).public_key.point == signer.public_key.point
    except Exception:  # an unknown serial: not trusted yet
        known = False
    if not known:
        store.add(TrustEntry(
            cert_sn=signer.cert_sn, public_key=signer.public_key, name="drill issuer",
            holder_ebrid=None, not_before=None, not_after=None, revoked=False,
            rights=Rights(regions=(settings.region,), event_types=("*",),
                          msg_types=(1, 2, 3, 4, 5)),
        ))
        store.save(path)
    return signer


def cap_exercise(identifier: str, *, area: Sequence[str], event: str, severity: str,
                 headline: str, description: str) -> bytes:
    sent = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
    geocodes = "\n".join(
        f"      <geocode><valueName>GB2260</valueName><value>{RegionCode(a).value}</value>"
        "</geocode>" for a in area
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{escape(identifier)}</identifier>
  <sender>drill.ebc.local</sender>
  <sent>{sent.isoformat()}</sent>
  <status>Exercise</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Safety</category>
    <event>演练</event>
    <urgency>Immediate</urgency>
    <severity>{severity}</severity>
    <certainty>Likely</certainty>
    <eventCode><valueName>EBEventType</valueName><value>{escape(event)}</value></eventCode>
    <headline>{escape(headline)}</headline>
    <description>{escape(description)}</description>
    <area>
      <areaDesc>drill area</areaDesc>
{geocodes}
    </area>
  </info>
</alert>
""".encode()


@dataclass
class Accepted:
    alert_id: str
    identifier: str
    posted_at: float  # wall clock when the request left
    accepted_at: float  # wall clock when the 202 came back
    status: int


class Intake:
    """The real intake: a CAP body signed with the issuer key, posted over HTTP."""

    def __init__(self, base_url: str, signer: SoftwareSigner) -> None:
        self._url = base_url.rstrip("/") + "/api/v1/alerts"
        self._signer = signer
        self._client = httpx.Client(timeout=30.0)
        self.retries = 0

    def send(self, body: bytes, identifier: str, *, attempts: int = 5) -> Accepted:
        """Post until accepted; a 503 (store busy) is retried as an issuer would, and the
        time counts from the first attempt."""
        posted = time.time()
        for attempt in range(attempts):
            headers = sign_request(body, sign=self._signer.sign,
                                   cert_sn=self._signer.cert_sn.value, signed_at=int(time.time()))
            headers["Content-Type"] = "application/cap+xml"
            response = self._client.post(self._url, content=body, headers=headers)
            if response.status_code != 503 or attempt == attempts - 1:
                break
            self.retries += 1
            time.sleep(1.0)
        accepted = time.time()
        if response.status_code not in (200, 202):
            raise RuntimeError(f"intake refused {identifier}: {response.status_code} "
                               f"{response.text[:500]}")
        return Accepted(str(response.json()["id"]), identifier, posted, accepted,
                        response.status_code)

    def status(self, alert_id: str) -> dict[str, object]:
        response = self._client.get(f"{self._url}/{alert_id}")
        response.raise_for_status()
        data: dict[str, object] = response.json()
        return data

    def close(self) -> None:
        self._client.close()


def new_identifier(name: str, n: int) -> str:
    return f"drill-{name[:20]}-{n}-{uuid.uuid4().hex[:10]}"


class PlatformProcess:
    """`ebc serve` in its own process, with ``overrides`` as EBC_* variables."""

    def __init__(self, directory: Path, overrides: Mapping[str, object], log: Path,
                 *, module: str = "dispatcher.cli.main") -> None:
        self.directory = directory
        self.module = module
        self.port = free_port()
        self.overrides = overrides
        self.log_path = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, **{f"EBC_{k.upper()}": _env(v) for k, v in self.overrides.items()}}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module, "serve", "--dir",
                 str(self.directory), "--host", "127.0.0.1", "--port", str(self.port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the platform exited ({self.proc.returncode}); see "
                                   f"{self.log_path}: {self.log_path.read_text()[-1500:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the platform was not ready in {READY_TIMEOUT}s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _env(value: object) -> str:
    return json.dumps(value) if isinstance(value, list | dict | bool) else str(value)


class AckCounter:
    """How many targets the platform has recorded as reached: read from its database, cheap
    enough to poll several times a second while a drill runs."""

    def __init__(self, database_url: str) -> None:
        self.db = Database(database_url, run_migrations=False)
        self._last_rowid = 0
        self._targets: dict[str, set[str]] = {}

    async def start(self) -> None:
        await self.db.start()

    async def stop(self) -> None:
        await self.db.stop()

    async def reached(self, alert_ids: Sequence[str]) -> dict[str, int]:
        if not alert_ids:
            return {}
        if self.db.dialect == "sqlite":
            return await self._reached_since(alert_ids)
        states = ", ".join(f"'{s}'" for s in POSITIVE)
        ids = ", ".join(f"'{a}'" for a in alert_ids if a.isalnum())
        query = text(f"SELECT alert_id, COUNT(DISTINCT target) FROM acks WHERE alert_id IN "
                     f"({ids}) AND state IN ({states}) GROUP BY alert_id")
        async with self.db.session(readonly=True) as session:
            rows = (await session.execute(query)).all()
        return {str(r[0]): int(r[1]) for r in rows}

    async def _reached_since(self, alert_ids: Sequence[str]) -> dict[str, int]:
        """SQLite: only the rows added since the last call (acks is a rowid table and is
        never deleted from), so polling 50 times a second while 30,000 acks arrive costs the
        platform under test next to nothing; a COUNT(DISTINCT) each time took a tenth of a
        core."""
        states = ", ".join(f"'{s}'" for s in POSITIVE)
        query = text(f"SELECT rowid, alert_id, target FROM acks WHERE rowid > :last "
                     f"AND state IN ({states}) ORDER BY rowid")
        async with self.db.session(readonly=True) as session:
            rows = (await session.execute(query, {"last": self._last_rowid})).all()
        for rowid, alert_id, target in rows:
            self._targets.setdefault(str(alert_id), set()).add(str(target))
            self._last_rowid = int(rowid)
        return {a: len(self._targets[a]) for a in alert_ids if a in self._targets}

    async def online(self, prefix: str, bearer: str | None = None) -> int:
        sql = ("SELECT COUNT(*) FROM terminals WHERE region LIKE :p AND state NOT IN "
               "('offline', 'unknown')")
        params = {"p": prefix + "%"}
        if bearer is not None:
            sql += " AND bearer = :b"
            params["b"] = bearer
        async with self.db.session(readonly=True) as session:
            return int((await session.execute(text(sql), params)).scalar_one())
