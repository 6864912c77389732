"""What every benchmark shares: its section of RESULTS.md, timing helpers, the load the
machine was under while it ran."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from simulators.drill.report import percentile

PG_URL_ENV = "EBC_BENCH_DATABASE_URL"
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass
class Section:
    title: str
    command: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", f"`{self.command}`", ""]
        if self.rows:
            lines.append("| " + " | ".join(self.headers) + " |")
            lines.append("|" + "---|" * len(self.headers))
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in self.rows]
            lines.append("")
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def ms(values: list[float], q: float) -> float | None:
    found = percentile(values, q)
    return None if found is None else found * 1000


def pg_url() -> str:
    return os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)


class Load:
    """The 1-minute load average over a run: other work on a 2-core box skews every figure."""

    def __init__(self) -> None:
        self.before = os.getloadavg()[0]
        self.started = time.monotonic()

    def note(self) -> str:
        return (f"load average {self.before:.2f} before, {os.getloadavg()[0]:.2f} after "
                f"({time.monotonic() - self.started:.0f} s)")
