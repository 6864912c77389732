"""Private Mosquitto brokers on loopback for drills and benchmarks, and a set of them bridged
along the region hierarchy (a city broker, and township groups of its counties below it) for
fleets larger than one process may hold open files for."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
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
                 "max_queued_messages 100000", "max_inflight_messages 0"]
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


def bridge_config(name: str, remote_port: int, county: RegionCode) -> str:
    """deploy/mosquitto/bridge.conf.example on loopback, without TLS: downlinks of the
    county's subtree and of each ancestor node in, acks and status out."""
    down = [f"topic {region_topic(county)}/# in 1"]
    down += [f"topic {region_topic(a)} in 1" for a in county.ancestors()]
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
        "topic ebc/v1/terminal/+/ack out 1",
        "topic ebc/v1/terminal/+/status out 1",
    ])


@dataclass
class Leaf:
    broker: Mosquitto
    county: RegionCode
    terminals: list[str]


class BridgedBrokers:
    """A root broker (the platform's) and leaf brokers bridged to it, each leaf serving the
    terminals of one county or, when a county holds more than ``per_broker``, part of it."""

    def __init__(self, root_dir: Path, ebrids: Sequence[str], *, per_broker: int) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="bridged-", dir=root_dir))
        self.root = Mosquitto(self.directory / "root")
        self.leaves: list[Leaf] = []
        by_county: dict[str, list[str]] = {}
        for ebrid in ebrids:
            by_county.setdefault(ebrid[1:7], []).append(ebrid)
        for county, members in sorted(by_county.items()):
            for start in range(0, len(members), per_broker):
                index = len(self.leaves)
                broker = Mosquitto(self.directory / f"leaf-{index}")
                self.leaves.append(Leaf(broker, RegionCode.parse(county),
                                        members[start:start + per_broker]))

    def start(self) -> None:
        self.root.start()
        for n, leaf in enumerate(self.leaves):
            leaf.broker.config = bridge_config(f"leaf-{n}", self.root.port, leaf.county)
            leaf.broker.start()

    def stop(self) -> None:
        for leaf in self.leaves:
            leaf.broker.stop()
        self.root.stop()

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
