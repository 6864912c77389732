"""The fan-out benchmark's CPU meter: CPU seconds per process group over a window."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bench.cpu import CpuMeter, _at, describe, process_cpu

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")


def test_interpolates_between_samples_and_clamps_outside() -> None:
    times, values = [10.0, 11.0, 13.0], [1.0, 1.5, 2.5]
    assert _at(times, values, 10.5) == pytest.approx(1.25)
    assert _at(times, values, 12.0) == pytest.approx(2.0)
    assert _at(times, values, 9.0) == 1.0 and _at(times, values, 20.0) == 2.5


def test_counts_a_busy_process_and_not_an_idle_one() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    meter = CpuMeter(interval=0.02)
    try:
        meter.watch("busy", [busy.pid])
        meter.watch("idle", [idle.pid, None])
        meter.start()
        time.sleep(0.3)
        start = time.time()
        time.sleep(0.6)
        end = time.time()
        time.sleep(0.1)
    finally:
        meter.stop()
        busy.kill()
        idle.kill()
        busy.wait()
        idle.wait()
    used = meter.used(start, end)
    # a spinning process on a core of its own uses most of the window; on a shared box less
    assert 0.1 < used["busy"] <= 0.6 * 1.1
    assert used["idle"] < 0.05
    assert process_cpu(busy.pid) is None  # gone: reaped


def test_describe_orders_groups_by_use() -> None:
    text = describe({"fleet": 1.31, "platform": 0.62, "broker": 0.6}, 1.42, cores=2)
    assert text == "fleet 1.31, platform 0.62, broker 0.60 of 2.84 core-s in 1.42 s"
