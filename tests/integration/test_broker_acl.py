"""The deploy/ broker configuration, enforced by a real Mosquitto against real gmqtt clients.

Each test starts a private broker from deploy/mosquitto/mosquitto.conf itself (paths and ports
rewritten to a temp dir, nothing else), the ACL file verbatim and a password file written by
deploy/mosquitto/credentials.py, so what is proven here is what ships.

MQTT 3.1.1 has no negative acknowledgement: Mosquitto grants every SUBSCRIBE, PUBACKs a
refused PUBLISH and then drops it, and filters reads message by message. A refusal is
therefore proven by order: the forbidden message goes first, a permitted control message
after it on a path that would carry the forbidden one just as well (one publisher connection,
one subscriber connection, both FIFO in Mosquitto). Once the control has arrived, the
forbidden message would have arrived before it. Every wait is bounded by WAIT.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib.util
import ipaddress
import shutil
import ssl
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import gmqtt
import pytest
from gmqtt.mqtt.constants import MQTTv311
from gmqtt.mqtt.handler import MQTTConnectError

from protocols.codes import RegionCode
from protocols.terminal.topics import (
    UPLINK_KINDS,
    region_topic,
    region_topics_for,
    terminal_topic,
    uplink_filter,
)
from tests.integration.mosquitto import MosquittoProcess, free_port, start_mosquitto

pytestmark = pytest.mark.mosquitto

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "mosquitto"
CREDENTIALS_CLI = DEPLOY / "credentials.py"
WAIT = 5.0

DISPATCHER = "ebc-dispatcher"
BRIDGE = "ebc-bridge-341523"
VILLAGE_A = RegionCode("341523100001")
VILLAGE_B = RegionCode("341523100002")
# Loudspeaker terminals (0314, subtype 04) in two villages of county 341523.
TERMINAL_A = "63415231000010314010401"
TERMINAL_B = "63415231000020314010401"
TERMINAL_C = "63415231000030314010401"  # never given to the brokers below
PASSWORDS = {
    DISPATCHER: "dispatcher-Zq8vW3nT5xK2pL9m",
    TERMINAL_A: "terminal-a-Hc4rJ7sD2fG8kM1q",
    TERMINAL_B: "terminal-b-Yt6uP3wE9aS5dF2h",
    TERMINAL_C: "terminal-c-Lm5nB8vC2xZ7kQ4w",
    BRIDGE: "bridge-341523-Nv7bX4cQ8zR1",
}


# ------------------------------------------------------------------ files: credentials, certs


def _credentials_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ebc_deploy_credentials", CREDENTIALS_CLI)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def credentials_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the deploy tool the way an operator would."""
    return subprocess.run(
        [sys.executable, str(CREDENTIALS_CLI), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def listing(path: Path, names: Sequence[str]) -> Path:
    path.write_text("".join(f"{name} {PASSWORDS[name]}\n" for name in names), encoding="utf-8")
    return path


def write_credentials(
    out: Path, terminals: Sequence[str], *, accounts: Sequence[str] = (), hasher: str = "python"
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    args: list[str | Path] = ["--out", out, "--dispatcher-password", PASSWORDS[DISPATCHER]]
    args += ["--terminals", listing(out / "terminals.txt", terminals), "--hasher", hasher]
    if accounts:
        args += ["--accounts", listing(out / "accounts.txt", accounts)]
    result = credentials_cli(*args)
    assert result.returncode == 0, result.stderr


@dataclass(frozen=True)
class Certs:
    ca: Path
    cert: Path
    key: Path


def make_certs(directory: Path) -> Certs:
    """A CA and a server certificate for 127.0.0.1, as an operator's PKI would issue."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EBC test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    certs = Certs(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    certs.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    certs.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certs.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


# ------------------------------------------------------------------ the broker under test


def _replace_line(text: str, old: str, new: str) -> str:
    lines = text.splitlines()
    assert lines.count(old) == 1, f"deploy config changed shape: want one line {old!r}"
    return "\n".join(new if line == old else line for line in lines) + "\n"


def deploy_config(*, secrets: Path, certs: Certs, data: Path, tls_port: int, include: Path) -> str:
    """deploy/mosquitto/mosquitto.conf with its paths in the temp dir and its ports free.

    start_mosquitto writes the loopback listener itself, first; the deploy file's own 1883
    line carries no options, so dropping it changes nothing else.
    """
    text = (DEPLOY / "mosquitto.conf").read_text(encoding="utf-8")
    for old, new in [
        ("password_file /etc/mosquitto/ebc/passwd", f"password_file {secrets / 'passwd'}"),
        ("acl_file /etc/mosquitto/ebc/acl", f"acl_file {secrets / 'acl'}"),
        ("persistence_location /var/lib/mosquitto/", f"persistence_location {data}/"),
        # start_mosquitto collects stderr in its own log.
        ("log_dest file /var/log/mosquitto/mosquitto.log", "log_dest stderr"),
        ("listener 1883 127.0.0.1", "# listener 1883: start_mosquitto's, on a free port"),
        ("listener 8883", f"listener {tls_port} 127.0.0.1"),
        ("cafile /etc/mosquitto/certs/ca.crt", f"cafile {certs.ca}"),
        ("certfile /etc/mosquitto/certs/server.crt", f"certfile {certs.cert}"),
        ("keyfile /etc/mosquitto/certs/server.key", f"keyfile {certs.key}"),
        ("include_dir /etc/mosquitto/conf.d", f"include_dir {include}"),
    ]:
        text = _replace_line(text, old, new)
    active = [line for line in text.splitlines() if line and not line.startswith("#")]
    leftovers = [line for line in active if "/etc/" in line or "/var/" in line]
    assert not leftovers, f"deploy config gained paths this test does not map: {leftovers}"
    return text


@dataclass
class Broker:
    proc: MosquittoProcess
    tls_port: int
    secrets: Path

    @property
    def port(self) -> int:
        return self.proc.port


def start_deploy_broker(
    root: Path,
    certs: Certs,
    *,
    terminals: Sequence[str],
    accounts: Sequence[str] = (),
    acl_extra: str = "",
    include_files: dict[str, str] | None = None,
) -> Broker:
    secrets, data, include = root / "secrets", root / "data", root / "conf.d"
    for directory in (data, include):
        directory.mkdir(parents=True)
    write_credentials(secrets, terminals, accounts=accounts)
    (secrets / "acl").write_text(
        (DEPLOY / "acl").read_text(encoding="utf-8") + acl_extra, encoding="utf-8"
    )
    for name, content in (include_files or {}).items():
        (include / name).write_text(content, encoding="utf-8")
    tls_port = free_port()
    config = deploy_config(
        secrets=secrets, certs=certs, data=data, tls_port=tls_port, include=include
    )
    return Broker(start_mosquitto(root, config), tls_port, secrets)


@pytest.fixture
def broker(tmp_path: Path, certs: Certs) -> Iterator[Broker]:
    running = start_deploy_broker(tmp_path, certs, terminals=[TERMINAL_A, TERMINAL_B])
    yield running
    running.proc.stop()


# ------------------------------------------------------------------ clients


class Peer:
    """One gmqtt connection (MQTT 3.1.1, QoS 1) and everything it received, in order."""

    def __init__(
        self,
        username: str | None,
        password: str | None,
        *,
        client_id: str,
        clean: bool = True,
    ) -> None:
        self.client = gmqtt.Client(client_id, clean_session=clean)
        if username is not None:
            self.client.set_auth_credentials(username, password)
        self.received: list[tuple[str, bytes]] = []
        self.lost = asyncio.Event()
        self._arrived = asyncio.Event()
        self._subacks: dict[int, asyncio.Future[tuple[int, ...]]] = {}
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = lambda *_: self.lost.set()

    def _on_message(self, _c: Any, topic: str, payload: bytes, _qos: int, _p: Any) -> int:
        self.received.append((topic, payload))
        self._arrived.set()
        return 0

    def _on_subscribe(self, _c: Any, mid: int, granted: tuple[int, ...], _p: Any) -> None:
        future = self._subacks.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(granted)

    async def connect(self, port: int, *, tls: ssl.SSLContext | None = None) -> Peer:
        await asyncio.wait_for(
            self.client.connect("127.0.0.1", port, ssl=tls or False, version=MQTTv311), WAIT
        )
        return self

    async def subscribe(self, *topics: str) -> None:
        """Return once the broker has acknowledged every subscription."""
        for topic in topics:
            future: asyncio.Future[tuple[int, ...]] = asyncio.get_running_loop().create_future()
            self._subacks[self.client.subscribe(topic, qos=1)] = future
            await asyncio.wait_for(future, WAIT)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain)

    async def wait_for(self, topic: str, payload: bytes) -> None:
        deadline = time.monotonic() + WAIT
        while (topic, payload) not in self.received:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {payload!r} on {topic} within {WAIT}s: {self.received}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def on(self, *topics: str) -> list[bytes]:
        return [payload for topic, payload in self.received if topic in topics]

    async def close(self) -> None:
        # disconnect() also stops gmqtt's reconnect loop, so nothing outlives the test.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.disconnect(), WAIT)


Connect = Callable[..., Awaitable[Peer]]


@pytest.fixture
async def mqtt(broker: Broker) -> AsyncIterator[Connect]:
    """connect(username, password=its own, client_id=..., clean=True, tls=None, port=...)."""
    peers: list[Peer] = []

    async def connect(
        username: str | None,
        password: str | None = None,
        *,
        client_id: str | None = None,
        clean: bool = True,
        tls: ssl.SSLContext | None = None,
        port: int | None = None,
    ) -> Peer:
        if password is None and username is not None:
            password = PASSWORDS[username]
        peer = Peer(
            username, password, client_id=client_id or f"{username}-{len(peers)}", clean=clean
        )
        peers.append(peer)
        return await peer.connect(port or (broker.tls_port if tls else broker.port), tls=tls)

    yield connect
    for peer in peers:
        await peer.close()


def tls_context(certs: Certs) -> ssl.SSLContext:
    # Verifies the chain and that the certificate names 127.0.0.1, as a terminal must.
    return ssl.create_default_context(cafile=str(certs.ca))


async def barrier(sender: Peer, dispatcher: Peer, sender_ebrid: str, token: bytes) -> None:
    """Return once the broker has processed everything `sender` published before.

    The dispatcher must read `sender`'s heartbeat topic. One connection's packets are
    handled in order, so the token's arrival means the earlier packets were routed.
    """
    topic = terminal_topic(sender_ebrid, "heartbeat")
    sender.publish(topic, token)
    await dispatcher.wait_for(topic, token)


# ------------------------------------------------------------------ what terminals may do


async def test_terminal_uplinks_reach_the_dispatcher_through_shared_subscriptions(
    mqtt: Connect,
) -> None:
    dispatcher = await mqtt(DISPATCHER)
    await dispatcher.subscribe(*(uplink_filter(kind, shared=True) for kind in UPLINK_KINDS))
    terminal = await mqtt(TERMINAL_A, client_id=TERMINAL_A)

    for kind in UPLINK_KINDS:
        terminal.publish(terminal_topic(TERMINAL_A, kind), kind.encode(), retain=kind == "status")
    for kind in UPLINK_KINDS:
        await dispatcher.wait_for(terminal_topic(TERMINAL_A, kind), kind.encode())


async def test_dispatcher_downlinks_reach_the_terminal_at_every_region_level(
    mqtt: Connect,
) -> None:
    terminal = await mqtt(TERMINAL_A, client_id=TERMINAL_A)
    own_cmd = terminal_topic(TERMINAL_A, "cmd")
    # National (ebc/v1/region, matched by the ACL's ebc/v1/region/#) down to the village.
    downlinks = [*region_topics_for(VILLAGE_A), own_cmd]
    await terminal.subscribe(*downlinks)
    dispatcher = await mqtt(DISPATCHER)

    for topic in downlinks:
        dispatcher.publish(topic, f"to {topic}".encode())
    for topic in downlinks:
        await terminal.wait_for(topic, f"to {topic}".encode())
    assert len(terminal.received) == len(downlinks)


async def test_a_terminal_cannot_forge_another_terminals_uplink(mqtt: Connect) -> None:
    dispatcher = await mqtt(DISPATCHER)
    await dispatcher.subscribe("ebc/v1/terminal/+/+")
    victim = await mqtt(TERMINAL_B, client_id=TERMINAL_B)
    status_b = terminal_topic(TERMINAL_B, "status")
    victim.publish(status_b, b"B online", retain=True)
    await dispatcher.wait_for(status_b, b"B online")

    attacker = await mqtt(TERMINAL_A, client_id=TERMINAL_A)
    for kind in UPLINK_KINDS:
        attacker.publish(terminal_topic(TERMINAL_B, kind), b"forged", retain=kind == "status")
    await barrier(attacker, dispatcher, TERMINAL_A, b"control")

    uplinks_b = [terminal_topic(TERMINAL_B, kind) for kind in UPLINK_KINDS]
    assert dispatcher.on(*uplinks_b) == [b"B online"]
    # The retained status a monitor reads on subscribing is still B's own.
    monitor = await mqtt(DISPATCHER, client_id="ebc-dispatcher-monitor")
    await monitor.subscribe(status_b)
    await monitor.wait_for(status_b, b"B online")
    assert monitor.on(status_b) == [b"B online"]


async def test_a_terminal_cannot_publish_downlinks(mqtt: Connect) -> None:
    dispatcher = await mqtt(DISPATCHER)
    await dispatcher.subscribe(uplink_filter("heartbeat", shared=False))
    victim = await mqtt(TERMINAL_B, client_id=TERMINAL_B)
    cmd_b = terminal_topic(TERMINAL_B, "cmd")
    await victim.subscribe(*region_topics_for(VILLAGE_B), cmd_b)
    county = region_topic(RegionCode("341523000000"))
    national = region_topics_for(VILLAGE_B)[0]

    attacker = await mqtt(TERMINAL_A, client_id=TERMINAL_A)
    for topic in (national, county, region_topic(VILLAGE_B), cmd_b):
        attacker.publish(topic, b"forged alert")
    await barrier(attacker, dispatcher, TERMINAL_A, b"A sent its forgeries")
    # Published after the forgeries were routed, so they would have reached B first.
    dispatcher.publish(county, b"county control")
    dispatcher.publish(cmd_b, b"cmd control")
    await victim.wait_for(cmd_b, b"cmd control")

    assert victim.received == [(county, b"county control"), (cmd_b, b"cmd control")]


async def test_a_terminal_cannot_read_another_terminals_commands_or_uplinks(
    mqtt: Connect,
) -> None:
    dispatcher = await mqtt(DISPATCHER)
    await dispatcher.subscribe(uplink_filter("heartbeat", shared=False))
    owner = await mqtt(TERMINAL_B, client_id=TERMINAL_B)
    cmd_b = terminal_topic(TERMINAL_B, "cmd")
    await owner.subscribe(cmd_b)
    snoop = await mqtt(TERMINAL_A, client_id=TERMINAL_A)
    # Mosquitto grants these (SUBACK QoS 1) and filters each message against the ACL.
    await snoop.subscribe(cmd_b, "ebc/v1/terminal/+/cmd", "ebc/v1/terminal/#", "#")

    await barrier(owner, dispatcher, TERMINAL_B, b"B heartbeat")
    dispatcher.publish(cmd_b, b"for B only")
    cmd_a = terminal_topic(TERMINAL_A, "cmd")
    dispatcher.publish(cmd_a, b"control for A")
    await owner.wait_for(cmd_b, b"for B only")
    await snoop.wait_for(cmd_a, b"control for A")

    assert {topic for topic, _ in snoop.received} == {cmd_a}


# ------------------------------------------------------------------ who may connect


@pytest.mark.parametrize(
    ("username", "password"),
    [
        pytest.param(TERMINAL_A, "wrong-password-0123456789", id="wrong-password"),
        pytest.param(TERMINAL_A, PASSWORDS[TERMINAL_B], id="another-terminals-password"),
        pytest.param(DISPATCHER, PASSWORDS[TERMINAL_A], id="dispatcher-with-terminal-password"),
        pytest.param(TERMINAL_C, PASSWORDS[TERMINAL_C], id="unknown-terminal"),
        pytest.param(TERMINAL_A, "", id="empty-password"),
        pytest.param(None, None, id="anonymous"),
    ],
)
async def test_bad_credentials_are_refused(
    broker: Broker, username: str | None, password: str | None
) -> None:
    peer = Peer(username, password, client_id="ebc-test-intruder")
    try:
        with pytest.raises(MQTTConnectError) as refused:
            await peer.connect(broker.port)
        # 3.1.1 CONNACK: 4 bad user name or password, 5 not authorised (Mosquitto 2.0).
        assert refused.value.args[0] in (4, 5)
    finally:
        await peer.close()


async def test_revoked_terminal_is_disconnected_on_reload_and_refused(
    broker: Broker, mqtt: Connect
) -> None:
    dispatcher = await mqtt(DISPATCHER)
    await dispatcher.subscribe(uplink_filter("heartbeat", shared=False))
    kept = await mqtt(TERMINAL_A, client_id=TERMINAL_A)
    revoked = await mqtt(TERMINAL_B, client_id=TERMINAL_B)

    # Revocation as an operator does it: every other hash stays as it is.
    result = credentials_cli("--out", broker.secrets, "--merge", "--remove", TERMINAL_B)
    assert result.returncode == 0, result.stderr
    broker.proc.reload()

    await asyncio.wait_for(revoked.lost.wait(), WAIT)
    again = Peer(TERMINAL_B, PASSWORDS[TERMINAL_B], client_id=f"{TERMINAL_B}-again")
    try:
        with pytest.raises(MQTTConnectError):
            await again.connect(broker.port)
    finally:
        await again.close()
    await barrier(kept, dispatcher, TERMINAL_A, b"A still connected")
    assert not kept.lost.is_set()


# ------------------------------------------------------------------ last will


def _mqtt_string(value: bytes) -> bytes:
    return struct.pack("!H", len(value)) + value


def _remaining_length(length: int) -> bytes:
    encoded = bytearray()
    while True:
        length, digit = divmod(length, 128)
        encoded.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


async def connect_and_vanish(
    port: int, client_id: str, username: str, will_topic: str, will_payload: bytes
) -> None:
    """CONNECT with a retained QoS 1 will, then drop the link without DISCONNECT.

    By hand, because a client library offers no way to die without saying goodbye.
    """
    # username, password, will retain, will QoS 1, will, clean session
    flags = 0x80 | 0x40 | 0x20 | (1 << 3) | 0x04 | 0x02
    body = (
        _mqtt_string(b"MQTT")
        + bytes([4, flags])
        + struct.pack("!H", 60)
        + b"".join(
            _mqtt_string(part)
            for part in (
                client_id.encode(),
                will_topic.encode(),
                will_payload,
                username.encode(),
                PASSWORDS[username].encode(),
            )
        )
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"\x10" + _remaining_length(len(body)) + body)
        await writer.drain()
        connack = await asyncio.wait_for(reader.readexactly(4), WAIT)
        assert connack == b"\x20\x02\x00\x00", connack
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def wait_for_log(proc: MosquittoProcess, text: str) -> None:
    deadline = time.monotonic() + WAIT
    while text not in proc.log(this_run=True):
        assert time.monotonic() < deadline, f"broker never logged {text!r}"
        await asyncio.sleep(0.02)


async def test_last_will_works_on_own_status_and_cannot_forge_anothers(
    broker: Broker, mqtt: Connect
) -> None:
    dispatcher = await mqtt(DISPATCHER)
    await dispatcher.subscribe("ebc/v1/terminal/+/status", "ebc/v1/terminal/+/heartbeat")
    status_a, status_b = (terminal_topic(t, "status") for t in (TERMINAL_A, TERMINAL_B))

    await connect_and_vanish(broker.port, TERMINAL_A, TERMINAL_A, status_a, b"A offline")
    await dispatcher.wait_for(status_a, b"A offline")

    # Mosquitto 2.0 accepts the CONNECT and checks the will topic when it would publish it.
    await connect_and_vanish(broker.port, "forger", TERMINAL_A, status_b, b"B offline")
    # Logged by the same call that sends (or drops) the will, before the broker reads on.
    await wait_for_log(broker.proc, "Client forger closed its connection")
    attacker = await mqtt(TERMINAL_A, client_id=TERMINAL_A)
    await barrier(attacker, dispatcher, TERMINAL_A, b"after the will")
    assert dispatcher.on(status_b) == []


# ------------------------------------------------------------------ TLS listener, sessions


async def test_tls_listener_authenticates_and_pins_client_id_to_username(
    broker: Broker, certs: Certs, mqtt: Connect
) -> None:
    tls = tls_context(certs)
    dispatcher = await mqtt(DISPATCHER)
    await dispatcher.subscribe(uplink_filter("ack", shared=True))
    owner = await mqtt(TERMINAL_B, client_id=TERMINAL_B, tls=tls)
    cmd_b = terminal_topic(TERMINAL_B, "cmd")
    await owner.subscribe(cmd_b)

    # A presents B's client id; the listener replaces it with A's username, so B's session
    # is neither taken over nor closed.
    intruder = await mqtt(TERMINAL_A, client_id=TERMINAL_B, tls=tls)
    intruder.publish(terminal_topic(TERMINAL_A, "ack"), b"ack over TLS")
    await dispatcher.wait_for(terminal_topic(TERMINAL_A, "ack"), b"ack over TLS")
    dispatcher.publish(cmd_b, b"still B's")
    await owner.wait_for(cmd_b, b"still B's")
    assert not owner.lost.is_set()

    wrong = Peer(TERMINAL_A, "wrong-password-0123456789", client_id="tls-intruder")
    try:
        with pytest.raises(MQTTConnectError):
            await wrong.connect(broker.tls_port, tls=tls)
    finally:
        await wrong.close()


async def test_queued_command_survives_a_broker_restart(broker: Broker, mqtt: Connect) -> None:
    cmd_b = terminal_topic(TERMINAL_B, "cmd")
    terminal = await mqtt(TERMINAL_B, client_id=TERMINAL_B, clean=False)
    await terminal.subscribe(cmd_b)
    await terminal.close()

    dispatcher = await mqtt(DISPATCHER)
    # The dispatcher reads cmd topics too: its own copy back means the broker has queued
    # the command for the offline terminal.
    await dispatcher.subscribe(cmd_b)
    dispatcher.publish(cmd_b, b"queued while offline")
    await dispatcher.wait_for(cmd_b, b"queued while offline")
    await dispatcher.close()

    broker.proc.restart()

    back = await mqtt(TERMINAL_B, client_id=TERMINAL_B, clean=False)
    await back.wait_for(cmd_b, b"queued while offline")


# ------------------------------------------------------------------ county -> province bridge


def provincial_acl_lines() -> str:
    text = (DEPLOY / "bridge.conf.example").read_text(encoding="utf-8")
    block = text.split("# provincial-acl-begin\n", 1)[1].split("# provincial-acl-end", 1)[0]
    return "\n" + "".join(line.removeprefix("# ") + "\n" for line in block.splitlines())


def bridge_config(remote_port: int, certs: Certs) -> str:
    text = (DEPLOY / "bridge.conf.example").read_text(encoding="utf-8")
    for old, new in [
        ("address mqtt.province.example:8883", f"address 127.0.0.1:{remote_port}"),
        ("remote_password CHANGE-ME-bridge-password", f"remote_password {PASSWORDS[BRIDGE]}"),
        ("bridge_cafile /etc/mosquitto/certs/province-ca.crt", f"bridge_cafile {certs.ca}"),
    ]:
        text = _replace_line(text, old, new)
    return text


async def test_bridge_brings_the_county_subtree_in_and_uplinks_out(
    tmp_path: Path, certs: Certs
) -> None:
    """Two deploy brokers; the county one has the plain deploy ACL, with no bridge entry."""
    province = start_deploy_broker(
        tmp_path / "province",
        certs,
        terminals=[],
        accounts=[BRIDGE],
        acl_extra=provincial_acl_lines(),
    )
    with province.proc:
        county = start_deploy_broker(
            tmp_path / "county",
            certs,
            terminals=[TERMINAL_A],
            include_files={"bridge.conf": bridge_config(province.tls_port, certs)},
        )
        with county.proc:
            await check_bridge(province, county)


async def check_bridge(province: Broker, county: Broker) -> None:
    peers: list[Peer] = []

    async def connect(broker: Broker, username: str, client_id: str) -> Peer:
        peer = Peer(username, PASSWORDS[username], client_id=client_id)
        peers.append(peer)
        return await peer.connect(broker.port)

    try:
        provincial = await connect(province, DISPATCHER, "province-dispatcher")
        await provincial.subscribe("ebc/v1/terminal/+/+")
        local = await connect(county, DISPATCHER, "county-dispatcher")
        await local.subscribe("ebc/v1/terminal/+/+")
        terminal = await connect(county, TERMINAL_A, TERMINAL_A)
        await terminal.subscribe("ebc/v1/region/#")

        # The bridge connects and subscribes on its own schedule: probe until it carries.
        county_topic = region_topic(RegionCode("341523000000"))
        for attempt in range(50):
            probe = b"probe %d" % attempt
            provincial.publish(county_topic, probe)
            try:
                await asyncio.wait_for(terminal.wait_for(county_topic, probe), 0.2)
            except TimeoutError:
                continue
            break
        else:
            raise AssertionError(f"bridge never carried a downlink:\n{county.proc.log()[-2000:]}")
        terminal.received.clear()

        # Another county and another city of the province: not this bridge's business.
        for code in ("341524000000", "341600000000"):
            provincial.publish(region_topic(RegionCode(code)), b"not for this county")
        # National, province, city, county, and a node inside the county: all carried.
        carried = [*region_topics_for(VILLAGE_A)[:4], region_topic(VILLAGE_A)]
        for topic in carried:
            provincial.publish(topic, f"to {topic}".encode())
        await terminal.wait_for(carried[-1], f"to {carried[-1]}".encode())
        assert terminal.received == [(topic, f"to {topic}".encode()) for topic in carried]

        for kind in ("ack", "status"):
            terminal.publish(terminal_topic(TERMINAL_A, kind), f"{kind} A".encode())
        for kind in ("ack", "status"):
            await provincial.wait_for(terminal_topic(TERMINAL_A, kind), f"{kind} A".encode())
            await local.wait_for(terminal_topic(TERMINAL_A, kind), f"{kind} A".encode())
    finally:
        for peer in peers:
            await peer.close()


# ------------------------------------------------------------------ the credentials tool


def test_both_hashers_write_hashes_the_other_side_verifies(tmp_path: Path) -> None:
    module = _credentials_module()
    for hasher in ("python", "mosquitto_passwd"):
        if hasher == "mosquitto_passwd" and shutil.which("mosquitto_passwd") is None:
            continue
        out = tmp_path / hasher
        write_credentials(out, [TERMINAL_A, TERMINAL_B], hasher=hasher)
        lines = (out / "passwd").read_text(encoding="utf-8").splitlines()
        assert (out / "passwd").stat().st_mode & 0o777 == 0o600
        users = dict(line.split(":", 1) for line in lines)
        assert list(users) == [DISPATCHER, TERMINAL_A, TERMINAL_B]
        for user, hashed in users.items():
            assert module.verify(hashed, PASSWORDS[user])
            assert not module.verify(hashed, PASSWORDS[user] + "x")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("1234 long-enough-password-123\n", "not a 23-digit EBRID"),
        (f"{TERMINAL_A} short\n", "shorter than"),
        (f"{TERMINAL_A} {PASSWORDS[TERMINAL_A]}\n{TERMINAL_A} {PASSWORDS[TERMINAL_B]}\n", "twice"),
        (f"{TERMINAL_A} {PASSWORDS[TERMINAL_A]} extra\n", "want `EBRID PASSWORD`"),
    ],
)
def test_credentials_tool_refuses_bad_listings(tmp_path: Path, text: str, complaint: str) -> None:
    terminals = tmp_path / "terminals.txt"
    terminals.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = credentials_cli(
        "--out", out, "--dispatcher-password", PASSWORDS[DISPATCHER], "--terminals", terminals
    )
    assert result.returncode == 2
    assert complaint in result.stderr
    assert not (out / "passwd").exists()


def test_merge_keeps_other_hashes_and_preserves_the_file(tmp_path: Path) -> None:
    write_credentials(tmp_path, [TERMINAL_A, TERMINAL_B])
    before = (tmp_path / "passwd").read_text(encoding="utf-8").splitlines()
    added = listing(tmp_path / "new.txt", [TERMINAL_C])

    result = credentials_cli(
        "--out", tmp_path, "--merge", "--terminals", added, "--remove", TERMINAL_B
    )
    assert result.returncode == 0, result.stderr

    after = (tmp_path / "passwd").read_text(encoding="utf-8").splitlines()
    assert after[:2] == before[:2]  # the dispatcher and A, byte for byte
    assert [line.split(":")[0] for line in after] == [DISPATCHER, TERMINAL_A, TERMINAL_C]
    assert (tmp_path / "passwd").stat().st_mode & 0o777 == 0o600
    refused = credentials_cli("--out", tmp_path, "--merge", "--remove", TERMINAL_B)
    assert refused.returncode == 2
    assert "no account to remove" in refused.stderr
