"""Replay protection: a signed time must be recent, and a (sender, message id) pair is used once.

GY/T 389 leaves the window open. 300 s past tolerates store-and-forward through a few platform
levels; 60 s future tolerates unsynchronised clocks without letting a message be pre-dated far.
Both are parameters. The replay guard remembers a key for window + skew seconds, the longest
time any one signed time can stay fresh, so a replay cannot outlive its memory entry.
Check the guard only after the signature verified: unsigned junk must not fill it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from signing.curve import sm3
from signing.errors import ReplayDetected, StaleTimestamp

DEFAULT_FRESHNESS_SECONDS = 300
DEFAULT_FUTURE_SKEW_SECONDS = 60
DEFAULT_REPLAY_MEMORY_SECONDS = DEFAULT_FRESHNESS_SECONDS + DEFAULT_FUTURE_SKEW_SECONDS
DEFAULT_REPLAY_CAPACITY = 100_000


def _stamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def check_fresh(
    signed_at: int,
    now: int,
    *,
    window: int = DEFAULT_FRESHNESS_SECONDS,
    future_skew: int = DEFAULT_FUTURE_SKEW_SECONDS,
) -> None:
    """Raise StaleTimestamp unless now - window <= signed_at <= now + future_skew."""
    age = now - signed_at
    if age > window:
        raise StaleTimestamp(
            f"signed at {_stamp(signed_at)}, {age} s before now ({_stamp(now)}); "
            f"the freshness window is {window} s"
        )
    if -age > future_skew:
        raise StaleTimestamp(
            f"signed at {_stamp(signed_at)}, {-age} s after now ({_stamp(now)}); "
            f"the allowed clock skew is {future_skew} s"
        )


def digest_of(data: bytes) -> bytes:
    """The SM3 digest ReplayGuard compares."""
    return sm3(data)


class ReplayGuard:
    """In-memory, bounded. When full, the oldest entries are forgotten first: that can reopen
    a replay of a message already past most of its window, which beats refusing new alerts."""

    def __init__(
        self,
        *,
        window: float = DEFAULT_REPLAY_MEMORY_SECONDS,
        max_entries: int = DEFAULT_REPLAY_CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if window <= 0 or max_entries <= 0:
            raise ValueError("window and max_entries must be positive")
        self._window = window
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str], tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.evicted = 0

    def check(self, sender: str, message_id: str, digest: bytes) -> Literal["new", "duplicate"]:
        """``new`` (now remembered), ``duplicate`` (same bytes again), or ReplayDetected."""
        key = (sender, message_id)
        with self._lock:
            now = self._clock()
            self._expire(now)
            known = self._seen.get(key)
            if known is not None:
                if known[1] == digest:
                    return "duplicate"
                raise ReplayDetected(
                    f"message {message_id} from {sender} was already received with different "
                    f"content {now - known[0]:.0f} s ago"
                )
            self._seen[key] = (now, digest)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)
                self.evicted += 1
            return "new"

    def _expire(self, now: float) -> None:
        while self._seen:
            first_seen, _ = next(iter(self._seen.values()))
            if now - first_seen < self._window:
                break
            self._seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seen)
