"""Who used the cores during a fan-out: CPU seconds per process group (platform, fleet,
broker, the harness itself) between two wall-clock times, read from /proc.

On a 2-core box the fleet, the broker and the platform share the cores, so how far the
platform's run lags the bare-broker floor is only explained beside who was using them.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float | None:
    """User and system CPU seconds of a process and all its threads; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: the fields follow the last ")"
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuMeter:
    """Samples the watched processes every ``interval`` seconds on a thread of its own."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self._pids: dict[int, str] = {}
        self._samples: dict[int, tuple[list[float], list[float]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-cpu", daemon=True)
        self._lock = threading.Lock()

    def watch(self, group: str, pids: Iterable[int | None]) -> None:
        with self._lock:
            for pid in pids:
                if pid is not None:
                    self._pids[pid] = group
                    self._samples.setdefault(pid, ([], []))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        with self._lock:
            watched = list(self._pids)
        for pid in watched:
            used = process_cpu(pid)
            if used is not None:
                times, values = self._samples[pid]
                with self._lock:
                    times.append(time.time())
                    values.append(used)

    def used(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each group used between two ``time.time()`` readings, interpolated
        between samples; a process not sampled across the whole window counts what was."""
        totals: dict[str, float] = {}
        with self._lock:
            for pid, (times, values) in self._samples.items():
                if len(times) < 2:
                    continue
                spent = _at(times, values, end) - _at(times, values, start)
                group = self._pids[pid]
                totals[group] = totals.get(group, 0.0) + max(0.0, spent)
        return totals


def _at(times: list[float], values: list[float], when: float) -> float:
    """A process's CPU seconds at ``when``: linear between the samples either side."""
    if when <= times[0]:
        return values[0]
    if when >= times[-1]:
        return values[-1]
    right = bisect.bisect_left(times, when)
    t0, t1 = times[right - 1], times[right]
    v0, v1 = values[right - 1], values[right]
    return v0 + (v1 - v0) * (when - t0) / (t1 - t0)


def describe(used: dict[str, float], window: float, cores: int | None = None) -> str:
    """'platform 0.62, fleet 1.31, broker 0.60 of 2.84 core-s in 1.42 s'"""
    cores = cores or os.cpu_count() or 1
    parts = ", ".join(
        f"{group} {seconds:.2f}"
        for group, seconds in sorted(used.items(), key=lambda item: -item[1])
    )
    return f"{parts} of {cores * window:.2f} core-s in {window:.2f} s"
