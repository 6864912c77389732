"""Private Mosquitto brokers on loopback for drills and benchmarks, and a set of them bridged
along the region hierarchy (a city broker, and township groups of its counties below it) for
fleets larger than one process may hold open files for."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from protocols.codes import RegionCode
from protocols.terminal.topics import region_topic

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class BrokerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mosquitto_binary() -> str:
    for candidate in (os.environ.get("EBC_MOSQUITTO_BIN"), shutil.which("mosquitto"),
                      "/usr/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BrokerError("mosquitto not found: install it (apt-get install mosquitto) or set "
                      "EBC_MOSQUITTO_BIN")


def mosquitto_version() -> str:
    try:
        out = subprocess.run([mosquitto_binary(), "-h"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (BrokerError, OSError, subprocess.TimeoutExpired):
        return "unavailable"
    return out.splitlines()[0].removeprefix("mosquitto version ").strip() if out else "unknown"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Mosquitto:
    """One broker process in its own directory; ``config`` is added after the listener."""

    def __init__(self, directory: Path, config: str = "", *, persistence: bool = False) -> None:
        self.directory = directory
        self.port = free_port()
        self.config = config
        self.persistence = persistence
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def _write_config(self) -> Path:
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true",
                 # as deploy/mosquitto: a slow platform's ack backlog is queued, never dropped
                 "max_queued_messages 1000000", "max_inflight_messages 0"]
        if os.geteuid() == 0:
            # as root mosquitto drops to the `mosquitto` user, who cannot read our directory
            lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name}")
        if self.persistence:
            lines += ["persistence true", "autosave_interval 1",
                      f"persistence_location {self.directory}/"]
        else:
            lines.append("persistence false")
        path = self.directory / "mosquitto.conf"
        path.write_text("\n".join([*lines, self.config, ""]), encoding="utf-8")
        return path

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        with (self.directory / "mosquitto.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [mosquitto_binary(), "-c", str(config)], cwd=self.directory, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrokerError(f"mosquitto exited ({self.proc.returncode}): {self.log()[-800:]}")
            if _port_open(self.port):
                return
            time.sleep(0.02)
        self.stop()
        raise BrokerError(f"mosquitto did not listen on {self.port} in {START_TIMEOUT}s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)

    def restart(self) -> None:
        """SIGTERM and start again on the same port: persistent sessions survive when
        ``persistence`` is on (saved on exit)."""
        self.stop()
        self.start()
        self.restarts += 1

    def log(self) -> str:
        try:
            return (self.directory / "mosquitto.log").read_text(errors="replace")
        except OSError:
            return ""


def bridge_config(name: str, remote_port: int, county: RegionCode, *,
                  townships: Sequence[RegionCode] = (), heartbeats: bool = False,
                  directed: bool = False) -> str:
    """deploy/mosquitto/bridge.conf.example on loopback, without TLS: downlinks of the
    county's subtree (or, given ``townships``, of theirs and the county node itself) and of
    each ancestor node in, acks and status out. ``heartbeats`` sends heartbeats out too and
    ``directed`` brings direct commands (ebc/v1/terminal/+/cmd) in: a platform on the remote
    broker that monitors and catches up these terminals itself needs both."""
    if townships:
        down = [f"topic {region_topic(t)}/# in 1" for t in townships]
        down.append(f"topic {region_topic(county)} in 1")
    else:
        down = [f"topic {region_topic(county)}/# in 1"]
    down += [f"topic {region_topic(a)} in 1" for a in county.ancestors()]
    if directed:
        down.append("topic ebc/v1/terminal/+/cmd in 1")
    up = ["ack", "status", *(["heartbeat"] if heartbeats else [])]
    return "\n".join([
        f"connection {name}",
        f"address 127.0.0.1:{remote_port}",
        "bridge_protocol_version mqttv311",
        f"remote_clientid {name}",
        "cleansession false",
        "try_private true",
        "notifications false",
        "start_type automatic",
        "restart_timeout 1 10",
        "keepalive_interval 60",
        *down,
        *(f"topic ebc/v1/terminal/+/{kind} out 1" for kind in up),
    ])


def plan_leaves(ebrids: Iterable[str], per_broker: int) -> list[list[str]]:
    """The terminals (EBRIDs, which carry their village) grouped for leaf brokers along the
    region hierarchy: whole townships in code order, a leaf taking the next township while it
    fits in ``per_broker``. A township is split only when it alone holds more than
    ``per_broker`` (full leaves of it, the rest joins the next). Pure and deterministic."""
    if per_broker < 1:
        raise ValueError(f"per_broker must be at least 1, got {per_broker}")
    by_township: dict[str, list[str]] = {}
    for ebrid in ebrids:
        by_township.setdefault(ebrid[1:10], []).append(ebrid)
    leaves: list[list[str]] = []
    current: list[str] = []
    for _, members in sorted(by_township.items()):
        if current and len(current) + len(members) > per_broker:
            leaves.append(current)
            current = []
        while len(members) > per_broker:
            leaves.append(members[:per_broker])
            members = members[per_broker:]
        current += members
    if current:
        leaves.append(current)
    return leaves


def township_codes(ebrids: Iterable[str]) -> list[RegionCode]:
    return [RegionCode.parse(t) for t in sorted({e[1:10] for e in ebrids})]


@dataclass
class Leaf:
    broker: Mosquitto
    county: RegionCode
    terminals: list[str]
    townships: list[RegionCode] = field(default_factory=list)  # empty: the whole county


class BridgedBrokers:
    """A root broker (the platform's) and leaf brokers bridged to it, each leaf serving the
    terminals of one county or, when a county holds more than ``per_broker``, part of it.

    ``by_township`` groups each county's terminals with plan_leaves (whole townships per
    leaf, each leaf bridging only its townships' subtrees); ``platform_links`` also bridges
    heartbeats up and direct commands down (bridge_config), as a drill's platform needs."""

    def __init__(self, root_dir: Path, ebrids: Sequence[str], *, per_broker: int,
                 by_township: bool = False, platform_links: bool = False) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="bridged-", dir=root_dir))
        self.root = Mosquitto(self.directory / "root")
        self.platform_links = platform_links
        self.leaves: list[Leaf] = []
        by_county: dict[str, list[str]] = {}
        for ebrid in ebrids:
            by_county.setdefault(ebrid[1:7], []).append(ebrid)
        for county, members in sorted(by_county.items()):
            if by_township:
                groups = plan_leaves(members, per_broker)
            else:
                groups = [members[i:i + per_broker] for i in range(0, len(members), per_broker)]
            for group in groups:
                broker = Mosquitto(self.directory / f"leaf-{len(self.leaves)}")
                towns = township_codes(group) if by_township else []
                self.leaves.append(Leaf(broker, RegionCode.parse(county), group, towns))

    @property
    def brokers(self) -> list[Mosquitto]:
        return [self.root, *(leaf.broker for leaf in self.leaves)]

    def start(self) -> None:
        self.root.start()
        for n, leaf in enumerate(self.leaves):
            leaf.broker.config = bridge_config(
                f"leaf-{n}", self.root.port, leaf.county, townships=leaf.townships,
                heartbeats=self.platform_links, directed=self.platform_links)
            leaf.broker.start()

    def stop(self) -> None:
        """Every broker, even when one fails to stop: SIGTERM to all, then each waited for
        (killed after STOP_TIMEOUT); bounded by about twice STOP_TIMEOUT in all."""
        stop_all([leaf.broker for leaf in self.leaves] + [self.root])

    def wait_bridged(self, timeout: float = 30.0) -> None:
        """Until every leaf's log says its bridge connected (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        pending = list(self.leaves)
        while pending and time.monotonic() < deadline:
            pending = [leaf for leaf in pending if "Connecting bridge" not in leaf.broker.log()]
            time.sleep(0.1)
        # the connect line appears before CONNACK; a short settle is cheaper than parsing $SYS
        time.sleep(1.0)
        if pending:
            raise BrokerError(f"{len(pending)} bridges did not connect in {timeout}s")


def stop_all(brokers: Sequence[Mosquitto]) -> None:
    running = [b.proc for b in brokers if b.proc is not None and b.proc.poll() is None]
    for proc in running:
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for proc in running:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT)
