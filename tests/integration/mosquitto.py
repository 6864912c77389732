"""A private Mosquitto for one test, on a free loopback port, never the system one on 1883.

    from tests.integration.mosquitto import start_mosquitto

    with start_mosquitto(tmp_path, "allow_anonymous true\npersistence true\n") as broker:
        ...connect to 127.0.0.1:broker.port (or broker.url, mqtt://127.0.0.1:PORT)...
        broker.restart()              # SIGTERM, start again: same port, same files
        broker.restart(crash=True)    # SIGKILL instead: only what was autosaved survives
        broker.reload()               # SIGHUP: reread password and ACL files
    # leaving the block stops it; without `with`, call broker.stop()

`config_text` is the broker configuration without the main listener: the helper writes
`listener <port> 127.0.0.1` first, so listener options in the text (`protocol`,
`use_username_as_clientid`, ...) apply to it. A second listener in the text needs its own
port (`free_port()`). Each broker gets a fresh directory under tmp_path (`broker.directory`)
and runs with it as working directory, so a relative `persistence_location`, or none, keeps
the persistence file there. Its output goes to `mosquitto.log` there (`broker.log()`), which
is quoted when the broker fails to start. Run as root, the helper adds `user root` unless the
text has a `user` line, because the `mosquitto` user cannot read pytest's temp directories.

Without a mosquitto binary (EBC_MOSQUITTO_BIN, PATH, /usr/sbin) the test is skipped with the
reason shown; under CI=true that is a failure instead, so CI cannot go green by skipping.
"""

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
from pathlib import Path
from types import TracebackType

import pytest

BIN_ENV = "EBC_MOSQUITTO_BIN"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
# A port picked as free can be taken by someone else before mosquitto binds it.
PORT_ATTEMPTS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def mosquitto_binary() -> str:
    """Path of the broker binary; skips the test (fails it under CI) when there is none."""
    candidates = [os.environ.get(BIN_ENV), shutil.which("mosquitto"), "/usr/sbin/mosquitto"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    reason = f"mosquitto not found (install it, or set {BIN_ENV} to the binary)"
    if _in_ci():
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class MosquittoProcess:
    def __init__(self, directory: Path, config_text: str, binary: str, port: int) -> None:
        self.directory = directory
        self.config_text = config_text
        self.binary = binary
        self.port = port
        self.config_path = directory / "mosquitto.conf"
        self.log_path = directory / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _write_config(self) -> None:
        lines = [f"listener {self.port} 127.0.0.1"]
        if os.geteuid() == 0 and not any(
            line.split()[:1] == ["user"] for line in self.config_text.splitlines()
        ):
            # As root, mosquitto would switch to the `mosquitto` user, which cannot read
            # the test's private temp directory.
            lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name}")
        self.config_path.write_text("\n".join([*lines, self.config_text, ""]), encoding="utf-8")

    def start(self) -> None:
        """Start on self.port and return once the port accepts connections."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("mosquitto is already running")
        self._write_config()
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrokerStartError(self, f"exited with status {self.proc.returncode}")
            if _port_open(self.port):
                return
            time.sleep(0.02)
        self.kill()
        raise BrokerStartError(self, f"port {self.port} not open after {START_TIMEOUT}s")

    def stop(self) -> None:
        """SIGTERM, as a service manager would: mosquitto saves its persistence file on exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)

    def kill(self) -> None:
        """SIGKILL, a crash: whatever was not yet autosaved is lost."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.kill()
        self.proc.wait(timeout=STOP_TIMEOUT)

    def restart(self, *, crash: bool = False) -> None:
        """Stop (or kill, with crash=True) and start again on the same port with the same files."""
        if crash:
            self.kill()
        else:
            self.stop()
        self.start()

    def reload(self) -> None:
        """SIGHUP: mosquitto rereads its password and ACL files without dropping the port."""
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError("mosquitto is not running")
        self.proc.send_signal(signal.SIGHUP)

    def log(self, *, this_run: bool = False) -> str:
        """The broker's log; with this_run=True only what the latest start() wrote."""
        with contextlib.suppress(OSError), self.log_path.open("rb") as log:
            log.seek(self._log_offset if this_run else 0)
            return log.read().decode("utf-8", errors="replace")
        return ""

    def __enter__(self) -> MosquittoProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class BrokerStartError(RuntimeError):
    def __init__(self, broker: MosquittoProcess, what: str) -> None:
        super().__init__(f"mosquitto {what}; its log:\n{broker.log(this_run=True)[-3000:]}")
        self.broker = broker


def start_mosquitto(tmp_path: Path, config_text: str) -> MosquittoProcess:
    """A running private broker with `config_text`; the caller stops it (or uses `with`)."""
    binary = mosquitto_binary()
    # Several brokers may share one tmp_path (a bridge test); each gets its own files.
    directory = Path(tempfile.mkdtemp(prefix="mosquitto-", dir=tmp_path))
    last: BrokerStartError | None = None
    for _ in range(PORT_ATTEMPTS):
        broker = MosquittoProcess(directory, config_text, binary, free_port())
        try:
            broker.start()
            return broker
        except BrokerStartError as exc:
            if "Address already in use" not in broker.log(this_run=True):
                raise
            last = exc
    assert last is not None
    raise last


SYSTEM_HOST, SYSTEM_PORT = "127.0.0.1", 1883


def _system_listening() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((SYSTEM_HOST, SYSTEM_PORT)) == 0


def system_broker(purpose: str) -> str:
    """The machine's own Mosquitto on 127.0.0.1:1883, started from its Debian configuration
    when it is down; skipped with the reason (``purpose`` says what goes untested), and a
    failure under CI=true."""
    if not _system_listening() and shutil.which("mosquitto"):
        subprocess.run(
            ["mosquitto", "-d", "-c", "/etc/mosquitto/mosquitto.conf"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        for _ in range(50):  # up to 5 s for the daemon to listen
            if _system_listening():
                break
            time.sleep(0.1)
    if not _system_listening():
        message = (
            f"Mosquitto is not listening on {SYSTEM_HOST}:{SYSTEM_PORT} and could not be started"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(f"{message}: {purpose} is NOT tested")
    return f"mqtt://{SYSTEM_HOST}:{SYSTEM_PORT}"
