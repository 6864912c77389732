"""Server-sent events for the dashboard: the on-air panel, re-rendered and pushed when it
changes. Each stream is bounded (``console_sse_max_seconds``); the browser's EventSource
reconnects by itself, and the reconnect checks the session again."""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable


def digest(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()[:16]


def sse_event(name: str, data: str) -> str:
    lines = data.splitlines() or [""]
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def stream(
    *,
    render: Callable[[], Awaitable[str | None]],
    disconnected: Callable[[], Awaitable[bool]],
    interval: float,
    max_seconds: float,
    shown: str = "",
) -> AsyncIterator[str]:
    """``render`` gives the panel's HTML, or None when the session has ended; ``shown`` is
    the digest of the panel the page already has, so an unchanged panel is not swapped in
    under the operator's cursor as the stream opens."""
    yield "retry: 2000\n\n"
    last = shown
    for _ in range(max(1, math.ceil(max_seconds / interval))):
        if await disconnected():
            return
        html = await render()
        if html is None:
            yield sse_event("expired", "")
            return
        if digest(html) != last:
            last = digest(html)
            yield sse_event("onair", html)
        await asyncio.sleep(interval)
