"""`ebc serve` as a real process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.broker_port = free_port()

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        log = open(self.directory / "server.log", "ab")  # noqa: SIM115
        env = {**os.environ, "EBC_EMBEDDED_BROKER_PORT": str(self.broker_port)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dispatcher.cli.main",
                "serve",
                "--dir",
                str(self.directory),
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=log,
            env=env,
        )

    def wait_ready(self, attempts: int = 600) -> None:
        for _ in range(attempts):
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError((self.directory / "server.log").read_text()[-3000:])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
