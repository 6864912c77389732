"""The machine a benchmark ran on, for the head of RESULTS.md."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version

from simulators.drill.brokers import mosquitto_version

LIBRARIES = ("fastapi", "uvicorn", "sqlalchemy", "aiosqlite", "asyncpg", "gmqtt", "amqtt",
             "gmssl-pyx", "protobuf", "httpx", "matplotlib")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> str:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def os_name() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return f"{line.split('=', 1)[1].strip(chr(34))}, Linux {platform.release()}"
    return platform.platform()


def postgres_version() -> str:
    for command in (["postgres", "--version"], ["psql", "--version"]):
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=10,
                                 check=False).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out:
            return out
    return "unavailable"


def describe() -> list[str]:
    libraries = []
    for name in LIBRARIES:
        try:
            libraries.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    try:
        files = subprocess.run(["sh", "-c", "ulimit -n"], capture_output=True, text=True,
                               timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        files = "unknown"
    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores",
        f"- Memory: {memory_gib()}",
        f"- OS: {os_name()}",
        f"- Python: {platform.python_version()} ({platform.python_implementation()})",
        f"- Libraries: {', '.join(libraries)}",
        f"- Mosquitto: {mosquitto_version()}; PostgreSQL: {postgres_version()}",
        f"- Open files per process: {files}",
    ]
