"""Freshness window and replay guard, driven by an injected clock."""

from __future__ import annotations

import pytest

from signing.errors import ReplayDetected, StaleTimestamp
from signing.freshness import (
    DEFAULT_FRESHNESS_SECONDS,
    DEFAULT_FUTURE_SKEW_SECONDS,
    ReplayGuard,
    check_fresh,
    digest_of,
)

NOW = 1_748_779_200


class FakeClock:
    def __init__(self, start: float = NOW) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_defaults() -> None:
    assert (DEFAULT_FRESHNESS_SECONDS, DEFAULT_FUTURE_SKEW_SECONDS) == (300, 60)


def test_within_window_passes() -> None:
    check_fresh(NOW - 300, NOW)
    check_fresh(NOW, NOW)
    check_fresh(NOW + 60, NOW)


def test_too_old_says_how_far_off() -> None:
    with pytest.raises(StaleTimestamp, match=r"301 s before now.*window is 300 s") as caught:
        check_fresh(NOW - 301, NOW)
    assert caught.value.code == "stale-timestamp"


def test_too_far_in_future_says_how_far_off() -> None:
    with pytest.raises(StaleTimestamp, match=r"61 s after now.*skew is 60 s"):
        check_fresh(NOW + 61, NOW)


def test_window_is_configurable() -> None:
    check_fresh(NOW - 3000, NOW, window=3600)
    with pytest.raises(StaleTimestamp):
        check_fresh(NOW - 31, NOW, window=30)
    with pytest.raises(StaleTimestamp):
        check_fresh(NOW + 1, NOW, future_skew=0)


def test_digest_is_sm3() -> None:
    assert digest_of(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_replay_guard_new_duplicate_and_replay() -> None:
    guard = ReplayGuard(clock=FakeClock())
    first, other = digest_of(b"message one"), digest_of(b"message one, altered")
    assert guard.check("23400000000000101010101", "EBM-1", first) == "new"
    assert guard.check("23400000000000101010101", "EBM-1", first) == "duplicate"
    with pytest.raises(ReplayDetected, match="EBM-1") as caught:
        guard.check("23400000000000101010101", "EBM-1", other)
    assert caught.value.code == "replay"
    assert guard.check("23400000000000101010102", "EBM-1", other) == "new"  # other sender


def test_replay_guard_forgets_after_its_window() -> None:
    clock = FakeClock()
    guard = ReplayGuard(window=360, clock=clock)
    guard.check("s", "m", digest_of(b"a"))
    clock.now += 359
    with pytest.raises(ReplayDetected):
        guard.check("s", "m", digest_of(b"b"))
    clock.now += 1
    assert guard.check("s", "m", digest_of(b"b")) == "new"
    assert len(guard) == 1


def test_replay_guard_is_bounded() -> None:
    clock = FakeClock()
    guard = ReplayGuard(max_entries=2, clock=clock)
    for index in range(3):
        clock.now += 1
        guard.check("s", f"m{index}", digest_of(b"x"))
    assert len(guard) == 2 and guard.evicted == 1
    assert guard.check("s", "m0", digest_of(b"y")) == "new"  # the oldest was forgotten


def test_replay_guard_rejects_bad_limits() -> None:
    with pytest.raises(ValueError):
        ReplayGuard(window=0)
