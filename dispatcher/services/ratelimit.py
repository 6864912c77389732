"""Per-issuer request budget: a sliding one-minute window, in memory, per process."""

from __future__ import annotations

import collections
from collections.abc import Callable


class RateLimiter:
    def __init__(self, per_minute: int, *, clock: Callable[[], float]) -> None:
        self._limit = per_minute
        self._clock = clock
        self._hits: dict[str, collections.deque[float]] = {}

    def allow(self, key: str) -> bool:
        now = self._clock()
        hits = self._hits.setdefault(key, collections.deque())
        while hits and now - hits[0] >= 60.0:
            hits.popleft()
        if len(hits) >= self._limit:
            return False
        hits.append(now)
        return True
